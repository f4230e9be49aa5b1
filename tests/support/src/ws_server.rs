//! A WebSocket server on 127.0.0.1 for live-connection tests (tungstenite's own server side):
//! hands each accepted connection to the test, or rejects the handshake as the test says.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::StatusCode;
use tungstenite::{Message, WebSocket};

/// How long a test waits for something the client should do.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// One handshake the server saw.
pub enum Arrival {
    /// Accepted: the open connection and the handshake's headers (names in lower case).
    Accepted(Box<Peer>),
    /// Refused with this status; the handshake's headers.
    Rejected(u16, Vec<(String, String)>),
}

/// The server's end of one accepted connection.
pub struct Peer {
    pub ws: WebSocket<TcpStream>,
    pub headers: Vec<(String, String)>,
}

impl Peer {
    /// Reads until a text message arrives (answering pings on the way).
    pub fn read_text(&mut self) -> String {
        loop {
            match self.ws.read().expect("peer read") {
                Message::Text(text) => return text.as_str().to_string(),
                _ => continue,
            }
        }
    }

    /// Sends one text message.
    pub fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("peer send");
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// The first value of header `name` (lower case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Decides each handshake: `None` accepts, `Some(status)` refuses.
type Gate = dyn Fn(&[(String, String)]) -> Option<u16> + Send + Sync;

/// The running server; stops accepting when dropped.
pub struct WsServer {
    addr: SocketAddr,
    arrivals: Receiver<Arrival>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl WsServer {
    /// A server that accepts every handshake.
    pub fn start() -> Self {
        Self::with_gate(|_| None)
    }

    /// A server that asks `gate` about each handshake.
    pub fn with_gate(
        gate: impl Fn(&[(String, String)]) -> Option<u16> + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, arrivals) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let gate: Arc<Gate> = Arc::new(gate);
        let acceptor = {
            let stopping = stopping.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    if let Some(arrival) = handshake(stream, &*gate) {
                        let _ = tx.send(arrival);
                    }
                }
            })
        };
        WsServer {
            addr,
            arrivals,
            stopping,
            acceptor: Some(acceptor),
        }
    }

    /// `ws://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// The port the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next handshake, waiting up to [`PATIENCE`].
    pub fn next_arrival(&self) -> Arrival {
        self.arrivals
            .recv_timeout(PATIENCE)
            .expect("a client handshake arrived")
    }

    /// The next accepted connection (fails the test on a rejection).
    pub fn next_peer(&self) -> Peer {
        match self.next_arrival() {
            Arrival::Accepted(peer) => *peer,
            Arrival::Rejected(status, _) => panic!("expected an accepted handshake, got {status}"),
        }
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Runs the server side of one handshake; `None` when it was not a WebSocket handshake at all.
#[allow(clippy::result_large_err)] // the callback's signature is tungstenite's
fn handshake(stream: TcpStream, gate: &Gate) -> Option<Arrival> {
    let mut seen = Vec::new();
    let mut refused = None;
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        seen = request
            .headers()
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_string(), value)
            })
            .collect();
        match gate(&seen) {
            None => Ok(response),
            Some(status) => {
                refused = Some(status);
                let mut error = ErrorResponse::new(Some("refused".into()));
                *error.status_mut() = StatusCode::from_u16(status).expect("valid status");
                Err(error)
            }
        }
    };
    // `.ok()` ends the error's borrow of the callback (and so of `seen` and `refused`).
    let accepted = tungstenite::accept_hdr(stream, callback).ok();
    match (accepted, refused) {
        (Some(ws), _) => Some(Arrival::Accepted(Box::new(Peer { ws, headers: seen }))),
        (None, Some(status)) => Some(Arrival::Rejected(status, seen)),
        (None, None) => None,
    }
}
