//! The live connection: a WebSocket (tungstenite) that subscribes to the server's `sync:<scope>`
//! notifications and reports their cursors, reconnecting with backoff whenever it drops.
//!
//! The channel only speeds syncing up; the engine stays correct without it (it also polls).

mod backoff;
mod endpoint;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Error as WsError, Message, WebSocket};

use self::backoff::backoff;
use self::endpoint::{Endpoint, LiveStream};
use super::auth::{bearer, AuthProvider};
use super::http::validated_headers;
use super::logging::{log_to, targets, Logger};
use super::transport_error::TransportConfigError;
use crate::protocol::wire::LiveEnvelope;

/// Largest message and frame accepted from the server (the mizu server's own read limit).
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// How to reach the live endpoint and how to behave on it.
#[derive(Clone)]
pub(crate) struct LiveConfig {
    /// `ws://` or `wss://` URL, conventionally `.../ws?scope=S`.
    pub(crate) url: String,
    /// Extra headers sent with the handshake.
    pub(crate) headers: Vec<(String, String)>,
    /// Source of the bearer token sent with the handshake (refreshed after a 401 or 403).
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    /// Sent as one text frame right after each handshake.
    pub(crate) subscribe_message: serde_json::Value,
    /// The scope whose `sync:<scope>` notifications are reported (empty means `_default`).
    pub(crate) scope: String,
    /// First reconnect delay; doubles per failed attempt.
    pub(crate) backoff_min: Duration,
    /// Largest reconnect delay.
    pub(crate) backoff_max: Duration,
    /// Budget for each of DNS + TCP connect, and the TLS + WebSocket handshake.
    pub(crate) connect_timeout: Duration,
    /// After this long without a frame the client pings; without an answer after as long again,
    /// the connection counts as dead and is replaced.
    pub(crate) ping_interval: Duration,
    /// Where connections, disconnections and notifications are logged (never the URL, which
    /// may hold a token, nor a header).
    pub(crate) logger: Logger,
}

impl LiveConfig {
    /// A configuration with the conventional subscribe message and default timings
    /// (backoff 0.5 s to 30 s, 10 s connect timeout, ping after 30 s of silence).
    pub(crate) fn new(url: impl Into<String>, scope: impl Into<String>) -> Self {
        LiveConfig {
            url: url.into(),
            headers: Vec::new(),
            auth: None,
            subscribe_message: serde_json::json!({"topic": "subscribe", "data": {}}),
            scope: scope.into(),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            logger: Logger::default(),
        }
    }
}

/// Checks a live URL as [`LiveConnection::start`] will, without connecting.
///
/// # Errors
/// As [`LiveConnection::start`]: anything but a `ws://` or `wss://` URL with a host.
pub(crate) fn validate_url(url: &str) -> Result<(), TransportConfigError> {
    Endpoint::parse(url).map(drop)
}

/// What the live connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiveEvent {
    /// Handshake done and subscribe message sent.
    Connected,
    /// The server announced changes in the scope up to this cursor.
    Cursor(u64),
    /// A connection attempt failed or an open connection ended; a reconnect follows after a
    /// backoff delay.
    Disconnected(String),
}

/// A live connection running on its own thread until stopped or dropped.
pub(crate) struct LiveConnection {
    shared: Arc<ConnectionState>,
    thread: Option<JoinHandle<()>>,
}

/// State shared by the handle, the connection thread and a pending TCP connect.
struct ConnectionState {
    control: Mutex<Control>,
    changed: Condvar,
    ignored_frames: AtomicU64,
}

#[derive(Default)]
struct Control {
    stopped: bool,
    /// A second handle to the open socket, so that `stop` can interrupt any blocking I/O.
    socket: Option<TcpStream>,
    /// The result of the pending TCP connect, when it has finished.
    connected: Option<Result<TcpStream, String>>,
}

impl ConnectionState {
    fn control(&self) -> MutexGuard<'_, Control> {
        // A poisoned lock only means a panic elsewhere; the state itself stays consistent.
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        self.control().stopped
    }
}

impl LiveConnection {
    /// Checks `cfg` and starts connecting on a new thread; `on_event` is called on that thread.
    ///
    /// # Errors
    ///
    /// [`TransportConfigError`] when the URL is not `ws://` / `wss://` with a host or a header is
    /// invalid: such a configuration could never connect.
    pub(crate) fn start(
        cfg: LiveConfig,
        on_event: impl Fn(LiveEvent) + Send + 'static,
    ) -> Result<LiveConnection, TransportConfigError> {
        let endpoint = Endpoint::parse(&cfg.url)?;
        let headers = validated_headers(&cfg.headers)?;
        let shared = Arc::new(ConnectionState {
            control: Mutex::new(Control::default()),
            changed: Condvar::new(),
            ignored_frames: AtomicU64::new(0),
        });
        let worker = Worker {
            cfg,
            endpoint,
            headers,
            shared: shared.clone(),
            on_event: Box::new(on_event),
        };
        let thread = thread::Builder::new()
            .name("mizu-sync-live".into())
            .spawn(move || worker.run())
            .map_err(|e| TransportConfigError::Thread {
                reason: e.to_string(),
            })?;
        Ok(LiveConnection {
            shared,
            thread: Some(thread),
        })
    }

    #[cfg(test)]
    /// How many frames were ignored because they were not a JSON envelope (or not text).
    pub(crate) fn ignored_frames(&self) -> u64 {
        self.shared.ignored_frames.load(Ordering::Relaxed)
    }

    /// Closes the connection and waits for the thread to end; no event is delivered after it
    /// returns.
    ///
    /// Returns promptly in every state (connecting, connected, backing off) unless `on_event` is
    /// running, which it lets finish. Called from inside `on_event`, it stops without waiting.
    pub(crate) fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        {
            let mut control = self.shared.control();
            control.stopped = true;
            if let Some(socket) = control.socket.take() {
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        }
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

// The client owns its live connection and is itself shared between threads.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<LiveConnection>();
};

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The connection thread's state.
struct Worker {
    cfg: LiveConfig,
    endpoint: Endpoint,
    /// `cfg.headers`, checked.
    headers: Vec<(HeaderName, HeaderValue)>,
    shared: Arc<ConnectionState>,
    on_event: Box<dyn Fn(LiveEvent) + Send>,
}

/// How a connection attempt or an open connection ended.
struct Ending {
    reason: String,
    /// Whether the handshake succeeded (resets the backoff).
    was_connected: bool,
    /// Whether the server refused the credentials (the next attempt refreshes the token).
    auth_rejected: bool,
}

impl Ending {
    fn failed(reason: impl Into<String>) -> Self {
        Ending {
            reason: reason.into(),
            was_connected: false,
            auth_rejected: false,
        }
    }
}

impl Worker {
    fn run(self) {
        let mut failures: u32 = 0;
        let mut refresh = false;
        loop {
            let Some(ending) = self.connect_and_listen(refresh) else {
                return; // stopped
            };
            if self.shared.stopped() {
                return;
            }
            refresh = ending.auth_rejected;
            failures = if ending.was_connected {
                0
            } else {
                failures.saturating_add(1)
            };
            let delay = backoff(&self.cfg, failures);
            // A lost connection is worth a warning; each failed attempt to reopen it is detail.
            let retry = if refresh {
                " with a refreshed token"
            } else {
                ""
            };
            if ending.was_connected {
                log_to!(
                    self.cfg.logger,
                    Warn,
                    targets::LIVE,
                    "live connection lost: {}; reconnecting in {delay:?}{retry}",
                    ending.reason
                );
            } else {
                log_to!(
                    self.cfg.logger,
                    Debug,
                    targets::LIVE,
                    "live connection failed: {}; retrying in {delay:?}{retry}",
                    ending.reason
                );
            }
            (self.on_event)(LiveEvent::Disconnected(ending.reason));
            if !self.wait(delay) {
                return;
            }
        }
    }

    /// Sleeps for `delay` unless stopped first; returns whether to go on.
    fn wait(&self, delay: Duration) -> bool {
        let control = self.shared.control();
        let (control, _) = self
            .shared
            .changed
            .wait_timeout_while(control, delay, |c| !c.stopped)
            .unwrap_or_else(|e| e.into_inner());
        !control.stopped
    }

    /// One connection from TCP connect to its end; `None` when stopped.
    fn connect_and_listen(&self, refresh: bool) -> Option<Ending> {
        let tcp = match self.connect_tcp()? {
            Ok(tcp) => tcp,
            Err(reason) => return Some(Ending::failed(reason)),
        };
        {
            let mut control = self.shared.control();
            if control.stopped {
                return None;
            }
            control.socket = tcp.try_clone().ok();
        }
        let ending = match self.handshake(tcp, refresh) {
            Ok(socket) => self.listen(socket),
            Err(ending) => ending,
        };
        self.shared.control().socket = None;
        Some(ending)
    }

    /// Resolves and connects on a short-lived helper thread, so that `stop` never waits for DNS
    /// or an unanswered SYN; `None` when stopped first.
    fn connect_tcp(&self) -> Option<Result<TcpStream, String>> {
        let endpoint = self.endpoint.clone();
        let timeout = self.cfg.connect_timeout;
        let shared = self.shared.clone();
        self.shared.control().connected = None;
        let spawned = thread::Builder::new()
            .name("mizu-sync-live-connect".into())
            .spawn(move || {
                let result = endpoint.connect(timeout);
                shared.control().connected = Some(result);
                shared.changed.notify_all();
            });
        if let Err(e) = spawned {
            return Some(Err(format!("cannot start a connect thread: {e}")));
        }
        let control = self.shared.control();
        let mut control = self
            .shared
            .changed
            .wait_while(control, |c| !c.stopped && c.connected.is_none())
            .unwrap_or_else(|e| e.into_inner());
        if control.stopped {
            return None;
        }
        control.connected.take()
    }

    /// TLS (for `wss://`) and WebSocket handshakes, then the subscribe message.
    fn handshake(&self, tcp: TcpStream, refresh: bool) -> Result<WebSocket<LiveStream>, Ending> {
        let io = |e: std::io::Error| Ending::failed(format!("socket setup failed: {e}"));
        tcp.set_nodelay(true).map_err(io)?;
        tcp.set_read_timeout(Some(self.cfg.connect_timeout))
            .map_err(io)?;
        tcp.set_write_timeout(Some(self.cfg.connect_timeout))
            .map_err(io)?;
        let stream = self.endpoint.stream(tcp).map_err(Ending::failed)?;
        let mut request = self
            .endpoint
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Ending::failed(format!("invalid handshake request: {e}")))?;
        for (name, value) in &self.headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        // The provider is user code: no lock of ours is held here.
        match bearer(self.cfg.auth.as_deref(), refresh) {
            Ok(None) => {}
            Ok(Some(value)) => {
                let value = value
                    .parse()
                    .map_err(|_| Ending::failed("the auth token is not a valid header value"))?;
                request.headers_mut().insert("Authorization", value);
            }
            Err(e) => return Err(Ending::failed(format!("auth provider failed: {e}"))),
        }
        // Client frames are masked by tungstenite and each message is written as one frame:
        // tungstenite never fragments outgoing messages.
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let mut socket =
            match tungstenite::client::client_with_config(request, stream, Some(config)) {
                Ok((socket, _response)) => socket,
                Err(HandshakeError::Failure(WsError::Http(response))) => {
                    let status = response.status().as_u16();
                    return Err(Ending {
                        reason: format!("handshake rejected with HTTP {status}"),
                        was_connected: false,
                        auth_rejected: matches!(status, 401 | 403),
                    });
                }
                Err(HandshakeError::Failure(e)) => {
                    return Err(Ending::failed(format!("handshake failed: {e}")))
                }
                Err(HandshakeError::Interrupted(_)) => {
                    return Err(Ending::failed("handshake timed out"))
                }
            };
        let subscribe = Message::text(self.cfg.subscribe_message.to_string());
        socket
            .send(subscribe)
            .map_err(|e| Ending::failed(format!("cannot subscribe: {e}")))?;
        Ok(socket)
    }

    /// Reads frames until the connection ends, reporting cursors and keeping it alive.
    fn listen(&self, mut socket: WebSocket<LiveStream>) -> Ending {
        let ended = |reason: String| Ending {
            reason,
            was_connected: true,
            auth_rejected: false,
        };
        if let Err(e) = socket
            .get_ref()
            .tcp()
            .set_read_timeout(Some(self.cfg.ping_interval))
        {
            return ended(format!("socket setup failed: {e}"));
        }
        log_to!(self.cfg.logger, Info, targets::LIVE, "live connection open");
        (self.on_event)(LiveEvent::Connected);
        let mut awaiting_pong = false;
        loop {
            match socket.read() {
                Ok(Message::Text(text)) => {
                    awaiting_pong = false;
                    match serde_json::from_str::<LiveEnvelope>(text.as_str()) {
                        Ok(envelope) => {
                            if let Some(cursor) = envelope.sync_cursor(&self.cfg.scope) {
                                log_to!(
                                    self.cfg.logger,
                                    Debug,
                                    targets::LIVE,
                                    "live notification: the server is at cursor {cursor}"
                                );
                                (self.on_event)(LiveEvent::Cursor(cursor));
                            }
                        }
                        Err(_) => self.ignore_frame(),
                    }
                }
                Ok(Message::Binary(_)) => {
                    awaiting_pong = false;
                    self.ignore_frame();
                }
                Ok(Message::Ping(_)) => {
                    awaiting_pong = false;
                    // tungstenite queued the pong; send it now rather than on the next read.
                    if let Err(e) = socket.flush() {
                        return ended(format!("cannot answer a ping: {e}"));
                    }
                }
                Ok(Message::Pong(_)) | Ok(Message::Frame(_)) => awaiting_pong = false,
                Ok(Message::Close(frame)) => {
                    // Echo the close (tungstenite queued it) and end without waiting for the
                    // server to drop the TCP connection.
                    let _ = socket.flush();
                    return ended(match frame {
                        Some(f) => format!("closed by the server ({} {})", f.code, f.reason),
                        None => "closed by the server".to_string(),
                    });
                }
                Err(WsError::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    if awaiting_pong {
                        return ended(format!(
                            "no answer to a ping within {:?}",
                            self.cfg.ping_interval
                        ));
                    }
                    if let Err(e) = socket.send(Message::Ping(Default::default())) {
                        return ended(format!("cannot ping: {e}"));
                    }
                    awaiting_pong = true;
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                    return ended("connection closed".into());
                }
                Err(e) => return ended(e.to_string()),
            }
        }
    }

    fn ignore_frame(&self) {
        self.shared.ignored_frames.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
