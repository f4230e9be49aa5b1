//! The live WebSocket, shaped like mizu's `live` package wired the conventional way: a session
//! at `/ws?scope=S` subscribes to topic `sync:S` by sending `{"topic":"subscribe"}`, and every
//! push that logs changes in S publishes `{"topic":"sync:S","data":{"cursor":N}}`.
//!
//! Like mizu's `live/internal/ws`: client frames must be masked and unfragmented (a
//! continuation frame or FIN=0 ends the session), messages are capped at 4 MiB, pings are
//! answered, the server never pings, and each session has a bounded send queue (256) whose
//! overflow closes the session.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use serde_json::Value;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame, FrameSocket};

use super::http::{Head, Response};
use crate::protocol::wire::LiveEnvelope;

/// Largest accepted client message (mizu's default read limit).
pub(crate) const READ_LIMIT: usize = 4 * 1024 * 1024;
/// Messages queued per session before it is closed (mizu's default queue size).
const QUEUE_SIZE: usize = 256;

struct Session {
    topics: HashSet<String>,
    queue: SyncSender<Vec<u8>>,
    stream: TcpStream,
}

/// The topic-based fan-out to live sessions.
#[derive(Default)]
pub(crate) struct Hub {
    sessions: Mutex<HashMap<u64, Session>>,
    next_id: AtomicU64,
}

fn encode(frame: Frame) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len());
    // Formatting into a Vec cannot fail.
    let _ = frame.format(&mut out);
    out
}

/// Checks a live handshake as mizu's live handler does before authentication: an upgrade
/// request (400 otherwise) of WebSocket version 13 (426 otherwise).
pub(crate) fn check_upgrade(head: &Head) -> Result<(), Response> {
    let upgrade = head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let connection = head
        .header("connection")
        .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"));
    if !upgrade || !connection {
        return Err(Response::text(400, "websocket upgrade required"));
    }
    if head.header("sec-websocket-version") != Some("13") {
        return Err(Response::text(426, "unsupported WebSocket version")
            .with_header("Sec-WebSocket-Version", "13"));
    }
    Ok(())
}

/// The `Sec-WebSocket-Accept` value for a valid key (standard base64 of 16 bytes), or the
/// 400 mizu answers after authentication.
pub(crate) fn accept_key(head: &Head) -> Result<String, Response> {
    let key = head.header("sec-websocket-key").unwrap_or("");
    let clean: String = key.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    let valid = clean.len() == 24 && clean.ends_with("==") && clean[..22].chars().all(alphabet);
    if !valid {
        return Err(Response::text(400, "invalid Sec-WebSocket-Key"));
    }
    Ok(derive_accept_key(key.as_bytes()))
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `{"topic":topic,"data":data}` to every session subscribed to `topic`. A session
    /// whose queue is full is closed.
    pub(crate) fn publish(&self, topic: &str, data: Value) {
        let envelope = LiveEnvelope {
            topic: Some(topic.to_owned()),
            data: Some(data),
        };
        let Ok(text) = serde_json::to_string(&envelope) else {
            return;
        };
        let frame = encode(Frame::message(text, OpCode::Data(Data::Text), true));
        let sessions = self.lock();
        for session in sessions.values().filter(|s| s.topics.contains(topic)) {
            match session.queue.try_send(frame.clone()) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(_)) => {
                    let _ = session.stream.shutdown(Shutdown::Both);
                }
            }
        }
    }

    /// Closes every live session.
    pub(crate) fn close_all(&self) {
        for session in self.lock().values() {
            let _ = session.stream.shutdown(Shutdown::Both);
        }
    }

    /// Number of open sessions subscribed to `topic`.
    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        self.lock()
            .values()
            .filter(|s| s.topics.contains(topic))
            .count()
    }

    fn set_subscribed(&self, id: u64, topic: &str, on: bool) {
        if let Some(session) = self.lock().get_mut(&id) {
            if on {
                session.topics.insert(topic.to_owned());
            } else {
                session.topics.remove(topic);
            }
        }
    }

    /// Completes the handshake on `stream` (whose request was already read; `leftover` holds
    /// the bytes read past it) and runs the session for `scope` until it ends.
    pub(crate) fn serve(
        &self,
        mut stream: TcpStream,
        leftover: Vec<u8>,
        scope: &str,
        accept: &str,
    ) {
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        if stream.write_all(response.as_bytes()).is_err() || stream.set_read_timeout(None).is_err()
        {
            return;
        }
        let (Ok(reader), Ok(writer), Ok(registered)) =
            (stream.try_clone(), stream.try_clone(), stream.try_clone())
        else {
            return;
        };
        let writer = Arc::new(Mutex::new(writer));
        let (queue, outbox) = sync_channel(QUEUE_SIZE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Session {
                topics: HashSet::new(),
                queue,
                stream: registered,
            },
        );
        let write_side = Arc::clone(&writer);
        let spawned = thread::Builder::new()
            .name("mizu-sync-live-writer".into())
            .spawn(move || write_loop(&write_side, &outbox));
        if let Ok(writer_thread) = spawned {
            self.read_loop(
                id,
                FrameSocket::from_partially_read(reader, leftover),
                &writer,
                scope,
            );
            // Dropping the session's queue ends the writer, which sends a close frame.
            self.lock().remove(&id);
            let _ = writer_thread.join();
        } else {
            self.lock().remove(&id);
        }
        let _ = stream.shutdown(Shutdown::Both);
    }

    fn read_loop(
        &self,
        id: u64,
        mut socket: FrameSocket<TcpStream>,
        writer: &Mutex<TcpStream>,
        scope: &str,
    ) {
        let topic = format!("sync:{scope}");
        while let Ok(Some(frame)) = socket.read(Some(READ_LIMIT)) {
            let header = frame.header();
            let Some(mask) = header.mask else {
                return; // client frames must be masked
            };
            if !header.is_final || header.opcode == OpCode::Data(Data::Continue) {
                return; // fragmentation is not supported
            }
            let opcode = header.opcode;
            let mut payload = frame.into_payload().to_vec();
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= mask[i % 4];
            }
            match opcode {
                OpCode::Control(Control::Close) => return,
                OpCode::Control(Control::Ping) => {
                    if payload.len() > 125 {
                        return;
                    }
                    let pong = encode(Frame::pong(payload));
                    let mut w = writer.lock().unwrap_or_else(PoisonError::into_inner);
                    if w.write_all(&pong).is_err() {
                        return;
                    }
                }
                OpCode::Data(Data::Text) | OpCode::Data(Data::Binary) => {
                    let Ok(envelope) = serde_json::from_slice::<LiveEnvelope>(&payload) else {
                        continue; // invalid messages are skipped
                    };
                    match envelope.topic.as_deref() {
                        Some("subscribe") => self.set_subscribed(id, &topic, true),
                        Some("unsubscribe") => self.set_subscribed(id, &topic, false),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

fn write_loop(writer: &Mutex<TcpStream>, outbox: &Receiver<Vec<u8>>) {
    while let Ok(frame) = outbox.recv() {
        let mut w = writer.lock().unwrap_or_else(PoisonError::into_inner);
        if w.write_all(&frame).is_err() {
            let _ = w.shutdown(Shutdown::Both);
            return;
        }
    }
    let close = encode(Frame::close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })));
    let mut w = writer.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = w.write_all(&close);
}
