//! The live WebSocket, shaped like mizu's `live` package wired the conventional way: a session
//! at `/ws?scope=S` subscribes to topic `sync:S` by sending `{"topic":"subscribe"}`, and every
//! push that logs changes in S publishes `{"topic":"sync:S","data":{"cursor":N}}`.
//!
//! The handshake is checked in mizu's order (503 outage, 400 not an upgrade, 426 version,
//! 401 scope hook, 400 key), then hyper upgrades the connection and tokio-tungstenite runs the
//! session. Like mizu's `live/internal/ws`: client frames must be masked (tungstenite's server
//! role) and unfragmented (a continuation frame or FIN=0 ends the session, see
//! [`WholeFrames`]), messages are capped at 4 MiB, pings are answered, the server never pings,
//! and each session has a bounded send queue (256) whose overflow closes the session.

use std::collections::{HashMap, HashSet};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::engine::resolve_scope;
use super::routes::{header_pairs, text_response, App};
use crate::protocol::wire::LiveEnvelope;

/// Largest accepted client message (mizu's default read limit).
pub(crate) const READ_LIMIT: usize = 4 * 1024 * 1024;
/// Messages queued per session before it is closed (mizu's default queue size).
const QUEUE_SIZE: usize = 256;
/// How long the closing handshake may take when a session ends on its own.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

struct Session {
    topics: HashSet<String>,
    queue: mpsc::Sender<Message>,
    /// Ends the session without a closing handshake (outage, overflow, shutdown).
    kill: Arc<Notify>,
}

/// The topic-based fan-out to live sessions.
#[derive(Default)]
pub(crate) struct Hub {
    sessions: Mutex<HashMap<u64, Session>>,
    next_id: AtomicU64,
}

/// Checks a live handshake as mizu's live handler does before authentication: an upgrade
/// request (400 otherwise) of WebSocket version 13 (426 otherwise).
fn check_upgrade(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has(header::UPGRADE, "websocket") || !has(header::CONNECTION, "upgrade") {
        return Err(Box::new(text_response(
            StatusCode::BAD_REQUEST,
            "websocket upgrade required",
        )));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut response = text_response(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version",
        );
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return Err(Box::new(response));
    }
    Ok(())
}

/// The `Sec-WebSocket-Accept` value for a valid key (standard base64 of 16 bytes), or the
/// 400 mizu answers after authentication.
fn accept_key(headers: &HeaderMap) -> Result<String, Box<Response>> {
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let alphabet = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    let valid = key.len() == 24 && key.ends_with(b"==") && key[..22].iter().all(alphabet);
    if !valid {
        return Err(Box::new(text_response(
            StatusCode::BAD_REQUEST,
            "invalid Sec-WebSocket-Key",
        )));
    }
    Ok(derive_accept_key(key))
}

/// `GET`/`HEAD` of the live path: validates the handshake, then upgrades the connection and
/// serves the session on its own task.
pub(crate) async fn handshake(State(app): State<Arc<App>>, mut request: Request) -> Response {
    if let Some(outage) = app.outage() {
        return outage;
    }
    if let Err(response) = check_upgrade(request.headers()) {
        return *response;
    }
    let claimed = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|Query(mut query)| query.remove("scope"))
        .unwrap_or_default();
    let scope = if app.scope_fn.is_some() {
        let (hook_app, path) = (Arc::clone(&app), request.uri().path().to_owned());
        let headers = header_pairs(request.headers());
        let decided =
            tokio::task::spawn_blocking(move || hook_app.authorize(&path, &headers, &claimed))
                .await;
        match decided {
            Ok(Ok(scope)) => resolve_scope(&scope).to_owned(),
            _ => return text_response(StatusCode::UNAUTHORIZED, "authentication failed"),
        }
    } else {
        resolve_scope(&claimed).to_owned()
    };
    let accept = match accept_key(request.headers()) {
        Ok(accept) => accept,
        Err(response) => return *response,
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            app.hub.serve(TokioIo::new(upgraded), &scope).await;
        }
    });
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
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
        let sessions = self.lock();
        for session in sessions.values().filter(|s| s.topics.contains(topic)) {
            match session.queue.try_send(Message::text(text.clone())) {
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                Err(TrySendError::Full(_)) => session.kill.notify_one(),
            }
        }
    }

    /// Closes every live session.
    pub(crate) fn close_all(&self) {
        for session in self.lock().values() {
            session.kill.notify_one();
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

    /// Runs the session for `scope` on an upgraded connection until it ends.
    async fn serve<S>(&self, io: S, scope: &str)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = WebSocketConfig::default()
            .max_message_size(Some(READ_LIMIT))
            .max_frame_size(Some(READ_LIMIT));
        let ws = WebSocketStream::from_raw_socket(WholeFrames::new(io), Role::Server, Some(config))
            .await;
        let (mut sink, mut incoming) = ws.split();
        let (queue, mut outbox) = mpsc::channel(QUEUE_SIZE);
        let kill = Arc::new(Notify::new());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Session {
                topics: HashSet::new(),
                queue,
                kill: Arc::clone(&kill),
            },
        );
        let topic = format!("sync:{scope}");
        let killed = loop {
            tokio::select! {
                () = kill.notified() => break true,
                out = outbox.recv() => match out {
                    Some(message) => {
                        if sink.send(message).await.is_err() {
                            break true;
                        }
                    }
                    None => break false,
                },
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) => self.on_message(id, &topic, text.as_bytes()),
                    Some(Ok(Message::Binary(data))) => self.on_message(id, &topic, &data),
                    // Pings are answered by tungstenite; pongs and frames are ignored.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break false,
                },
            }
        };
        self.lock().remove(&id);
        if !killed {
            let close = Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(close)).await;
        }
    }

    fn on_message(&self, id: u64, topic: &str, payload: &[u8]) {
        // Invalid messages are skipped.
        let Ok(envelope) = serde_json::from_slice::<LiveEnvelope>(payload) else {
            return;
        };
        match envelope.topic.as_deref() {
            Some("subscribe") => self.set_subscribed(id, topic, true),
            Some("unsubscribe") => self.set_subscribed(id, topic, false),
            _ => {}
        }
    }
}

/// Fails the read side of a session on the first fragmented client message (FIN=0 or a
/// continuation frame), which mizu treats as a protocol error; tungstenite would otherwise
/// wait for the rest of the message. It only follows frame boundaries (header and payload
/// lengths) and passes every byte through unchanged.
struct WholeFrames<S> {
    inner: S,
    head: [u8; 14],
    head_len: usize,
    payload_left: u64,
}

impl<S> WholeFrames<S> {
    fn new(inner: S) -> Self {
        WholeFrames {
            inner,
            head: [0; 14],
            head_len: 0,
            payload_left: 0,
        }
    }

    /// Follows `bytes` read from the client; `false` at a fragmented frame.
    fn follow(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = usize::try_from(self.payload_left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                self.payload_left -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            self.head[self.head_len] = bytes[0];
            self.head_len += 1;
            bytes = &bytes[1..];
            if self.head_len == 1 {
                let (fin, opcode) = (self.head[0] & 0x80 != 0, self.head[0] & 0x0f);
                if !fin || opcode == 0 {
                    return false;
                }
                continue;
            }
            let len7 = self.head[1] & 0x7f;
            let extended = match len7 {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let mask = if self.head[1] & 0x80 != 0 { 4 } else { 0 };
            if self.head_len < 2 + extended + mask {
                continue;
            }
            self.payload_left = match extended {
                0 => u64::from(len7),
                n => self.head[2..2 + n]
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
            };
            self.head_len = 0;
        }
        true
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WholeFrames<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.follow(&buf.filled()[before..]) {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "fragmented WebSocket message",
                    )))
                }
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WholeFrames<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::WholeFrames;

    #[test]
    fn follows_frames_and_stops_at_the_first_fragment() {
        let mut frames = WholeFrames::new(());
        // A masked final text frame "hi", split across reads, then a final ping.
        assert!(frames.follow(&[0x81, 0x82, 1, 2]));
        assert!(frames.follow(&[3, 4, b'h' ^ 1, b'i' ^ 2, 0x89, 0x80, 0, 0, 0, 0]));
        // A 16-bit length: 200 bytes of payload are skipped, whatever they hold.
        assert!(frames.follow(&[0x82, 0xfe, 0, 200, 0, 0, 0, 0]));
        assert!(frames.follow(&[0x01; 200]));
        assert!(!frames.follow(&[0x01, 0x81]), "FIN=0 is refused");
        let mut frames = WholeFrames::new(());
        assert!(!frames.follow(&[0x80, 0x80]), "a continuation is refused");
    }
}
