//! The live connection's I/O: a WebSocket (tungstenite) that subscribes to the server's
//! `sync:<scope>` notifications and reports their cursors.
//!
//! It decides nothing: the sans-IO machine says when to open the socket and whether with a
//! refreshed token ([`Action::ConnectLive`](crate::protocol::machine::Action::ConnectLive)), and
//! when to close it; this module opens it when told, reads its frames (answering and sending
//! pings) and reports what happened as [`LiveEvent`]s, which the driver feeds to the machine
//! ([`LiveEvent::input`]). The machine's backoff decides when a dropped socket is reopened.
//!
//! The channel only speeds syncing up; the engine stays correct without it (it also polls).

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

use self::endpoint::{Endpoint, LiveStream};
use super::auth::{bearer, AuthProvider};
use super::http::validated_headers;
use super::logging::{log_to, targets, Logger};
use super::transport_error::TransportConfigError;
use crate::protocol::machine::Input;
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
    /// (10 s connect timeout, ping after 30 s of silence).
    pub(crate) fn new(url: impl Into<String>, scope: impl Into<String>) -> Self {
        LiveConfig {
            url: url.into(),
            headers: Vec::new(),
            auth: None,
            subscribe_message: serde_json::json!({"topic": "subscribe", "data": {}}),
            scope: scope.into(),
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
    /// A connection attempt failed or an open connection ended; the socket stays closed until
    /// the next [`LiveConnection::connect`].
    Disconnected {
        /// Why, for the log.
        reason: String,
        /// Whether the handshake had succeeded (an open connection was lost).
        was_connected: bool,
        /// The HTTP status when the server refused the handshake's credentials (401 or 403).
        auth_rejected: Option<u16>,
    },
}

impl LiveEvent {
    /// The machine input reporting this event.
    pub(crate) fn input(&self) -> Input {
        match self {
            LiveEvent::Connected => Input::LiveOpened,
            LiveEvent::Cursor(cursor) => Input::LiveCursor(*cursor),
            LiveEvent::Disconnected {
                auth_rejected: Some(status),
                ..
            } => Input::LiveAuthRejected { status: *status },
            LiveEvent::Disconnected { reason, .. } => Input::LiveClosed {
                reason: reason.clone(),
            },
        }
    }
}

/// A live connection's thread, running until stopped or dropped; it opens the socket only when
/// asked through a [`LiveRemote`].
pub(crate) struct LiveConnection {
    shared: Arc<ConnectionState>,
    thread: Option<JoinHandle<()>>,
}

/// Asks the connection thread to open or close the socket (the machine's `ConnectLive` and
/// `CloseLive`); cheap to clone.
#[derive(Clone)]
pub(crate) struct LiveRemote {
    shared: Arc<ConnectionState>,
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
    /// An open was asked for and not begun yet: whether with a refreshed token.
    wanted: Option<bool>,
    /// How many closes were asked for: an attempt begun before the last one is abandoned.
    closes: u64,
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

impl LiveRemote {
    /// Opens the socket (the machine's `ConnectLive`), asking the auth provider for a fresh
    /// token when `refresh_auth`. Ignored after `stop`.
    pub(crate) fn connect(&self, refresh_auth: bool) {
        self.shared.control().wanted = Some(refresh_auth);
        self.shared.changed.notify_all();
    }

    /// Closes the socket or abandons the attempt under way (the machine's `CloseLive`).
    pub(crate) fn close(&self) {
        {
            let mut control = self.shared.control();
            control.wanted = None;
            control.closes += 1;
            if let Some(socket) = control.socket.take() {
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        }
        self.shared.changed.notify_all();
    }
}

impl LiveConnection {
    /// Checks `cfg` and starts the connection thread, which opens the socket when
    /// [`LiveRemote::connect`] asks; `on_event` is called on that thread.
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

    /// Where to send the machine's `ConnectLive` and `CloseLive`.
    pub(crate) fn remote(&self) -> LiveRemote {
        LiveRemote {
            shared: self.shared.clone(),
        }
    }

    #[cfg(test)]
    /// How many frames were ignored because they were not a JSON envelope (or not text).
    pub(crate) fn ignored_frames(&self) -> u64 {
        self.shared.ignored_frames.load(Ordering::Relaxed)
    }

    /// Closes the connection and waits for the thread to end; no event is delivered after it
    /// returns.
    ///
    /// Returns promptly in every state (connecting, connected, idle) unless `on_event` is
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
    /// Whether the handshake succeeded.
    was_connected: bool,
    /// The HTTP status when the server refused the credentials (401 or 403).
    auth_rejected: Option<u16>,
}

impl Ending {
    fn failed(reason: impl Into<String>) -> Self {
        Ending {
            reason: reason.into(),
            was_connected: false,
            auth_rejected: None,
        }
    }
}

impl Worker {
    fn run(self) {
        while let Some((refresh, closes)) = self.next_open() {
            let Some(ending) = self.connect_and_listen(refresh, closes) else {
                return; // stopped
            };
            if self.shared.stopped() {
                return;
            }
            (self.on_event)(LiveEvent::Disconnected {
                reason: ending.reason,
                was_connected: ending.was_connected,
                auth_rejected: ending.auth_rejected,
            });
        }
    }

    /// Waits until an open is asked for; `None` when stopped. Returns whether to refresh the
    /// token, and the close count the attempt starts from.
    fn next_open(&self) -> Option<(bool, u64)> {
        let control = self.shared.control();
        let mut control = self
            .shared
            .changed
            .wait_while(control, |c| !c.stopped && c.wanted.is_none())
            .unwrap_or_else(|e| e.into_inner());
        if control.stopped {
            return None;
        }
        let refresh = control.wanted.take()?;
        Some((refresh, control.closes))
    }

    /// Whether the attempt begun at close count `closes` was stopped or closed since.
    fn abandoned(control: &Control, closes: u64) -> bool {
        control.stopped || control.closes != closes
    }

    /// One connection from TCP connect to its end; `None` when stopped.
    fn connect_and_listen(&self, refresh: bool, closes: u64) -> Option<Ending> {
        let tcp = match self.connect_tcp(closes)? {
            Ok(tcp) => tcp,
            Err(reason) => return Some(Ending::failed(reason)),
        };
        {
            let mut control = self.shared.control();
            if control.stopped {
                return None;
            }
            if control.closes != closes {
                return Some(Ending::failed("closed"));
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
    fn connect_tcp(&self, closes: u64) -> Option<Result<TcpStream, String>> {
        let endpoint = self.endpoint.clone();
        let timeout = self.cfg.connect_timeout;
        let shared = self.shared.clone();
        self.shared.control().connected = None;
        let spawned = thread::Builder::new()
            .name("mizu-sync-live-connect".into())
            .spawn(move || {
                let result = endpoint.connect(timeout);
                let mut control = shared.control();
                // The result of an abandoned attempt is dropped, never taken for a later one's.
                if control.closes == closes {
                    control.connected = Some(result);
                }
                drop(control);
                shared.changed.notify_all();
            });
        if let Err(e) = spawned {
            return Some(Err(format!("cannot start a connect thread: {e}")));
        }
        let control = self.shared.control();
        let mut control = self
            .shared
            .changed
            .wait_while(control, |c| {
                !Self::abandoned(c, closes) && c.connected.is_none()
            })
            .unwrap_or_else(|e| e.into_inner());
        if control.stopped {
            return None;
        }
        if control.closes != closes {
            return Some(Err("closed".into()));
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
                        auth_rejected: matches!(status, 401 | 403).then_some(status),
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
            auth_rejected: None,
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
