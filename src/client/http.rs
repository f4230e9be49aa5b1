//! The HTTP transport: one POST with a JSON body per push, pull or snapshot (ureq 3).

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use ureq::http::{HeaderName, HeaderValue, Uri};
use ureq::Agent;

use super::auth::{bearer, AuthProvider, AUTH_PROVIDER_FAILED};
use super::logging::{log_to, targets, LogLevel, Logger};
use super::transport_error::{TransportConfigError, TransportFailure};
use crate::protocol::entity::JsonText;
use crate::protocol::wire::{
    ErrorBody, LeanPushResponse, PullRequest, PushResponse, RawPullResponse, SnapshotRequest,
    SnapshotResponse, PULL_PATH, PUSH_PATH, SNAPSHOT_PATH,
};

/// Default largest 2xx push or pull body accepted; a larger one fails as `Decode`. Snapshots
/// are streamed ([`HttpTransport::snapshot_with`]) and have no fixed cap.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest error body read; the rest is ignored.
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;
/// Longest error text kept in [`TransportFailure::Http::message`], in characters.
const MAX_ERROR_MESSAGE_CHARS: usize = 512;

/// How to reach the sync server.
#[derive(Clone)]
pub(crate) struct HttpConfig {
    /// Base URL of the sync endpoints, e.g. `http://127.0.0.1:8080/_sync` (trailing `/` allowed).
    pub(crate) base_url: String,
    /// Budget for one whole exchange: connect, send, receive headers and body.
    pub(crate) request_timeout: Duration,
    /// Budget for establishing the connection (TCP and TLS), within `request_timeout`.
    pub(crate) connect_timeout: Duration,
    /// Extra headers sent with every request.
    pub(crate) headers: Vec<(String, String)>,
    /// Source of the bearer token, asked before every request.
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    /// The `User-Agent` header.
    pub(crate) user_agent: String,
    /// Largest 2xx body accepted; a larger one fails as [`TransportFailure::Decode`].
    pub(crate) max_response_bytes: u64,
    /// Where each exchange and auth retry is logged (never a header).
    pub(crate) logger: Logger,
}

impl HttpConfig {
    /// A configuration with 30 s request and 10 s connect timeouts and no extra headers.
    pub(crate) fn new(base_url: impl Into<String>) -> Self {
        HttpConfig {
            base_url: base_url.into(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            auth: None,
            user_agent: concat!("mizu-sync/", env!("CARGO_PKG_VERSION")).to_string(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            logger: Logger::default(),
        }
    }
}

/// Sends push, pull and snapshot requests; cheap to share between threads (one connection pool).
pub(crate) struct HttpTransport {
    agent: Agent,
    push_url: String,
    pull_url: String,
    snapshot_url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    auth: Option<Arc<dyn AuthProvider>>,
    max_response_bytes: u64,
    /// For a streamed snapshot: the longest wait for its answer's headers, and for each read of
    /// its body (the whole body has no deadline: it is as long as the snapshot is big).
    request_timeout: Duration,
    logger: Logger,
}

impl HttpTransport {
    /// Checks `cfg` and builds the agent.
    ///
    /// # Errors
    ///
    /// [`TransportConfigError`] when the base URL is not an `http`/`https` URL with a host (and no
    /// query), or a header is not valid HTTP.
    pub(crate) fn new(cfg: HttpConfig) -> Result<Self, TransportConfigError> {
        let base = base_url(&cfg.base_url)?;
        let headers = validated_headers(&cfg.headers)?;
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(cfg.request_timeout))
            .timeout_connect(Some(cfg.connect_timeout))
            .user_agent(cfg.user_agent.as_str())
            .build()
            .new_agent();
        Ok(HttpTransport {
            agent,
            push_url: format!("{base}{PUSH_PATH}"),
            pull_url: format!("{base}{PULL_PATH}"),
            snapshot_url: format!("{base}{SNAPSHOT_PATH}"),
            headers,
            auth: cfg.auth,
            max_response_bytes: cfg.max_response_bytes,
            request_timeout: cfg.request_timeout,
            logger: cfg.logger,
        })
    }

    /// `POST {base}/push` of `mutations`, each already encoded as JSON text
    /// ([`PendingMutation::encoded`](crate::store::PendingMutation::encoded)): the body
    /// `{"mutations":[...]}` is their concatenation, so no tree is cloned or serialized here.
    pub(crate) fn push(&self, mutations: &[JsonText]) -> Result<PushResponse, TransportFailure> {
        const OPEN: &[u8] = br#"{"mutations":["#;
        let text: usize = mutations.iter().map(|m| m.len() + 1).sum();
        let mut body = Vec::with_capacity(OPEN.len() + text + 2);
        body.extend_from_slice(OPEN);
        for (i, mutation) in mutations.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(mutation.as_bytes());
        }
        body.extend_from_slice(b"]}");
        // The changes the server may report per result are skipped while parsing: unused here.
        self.exchange_body::<LeanPushResponse>(PUSH_PATH, &self.push_url, body)
            .map(PushResponse::from)
    }

    /// `POST {base}/pull`.
    pub(crate) fn pull(&self, req: &PullRequest) -> Result<RawPullResponse, TransportFailure> {
        // Each change's data stays raw JSON text for the codec (no tree per change).
        self.exchange(PULL_PATH, &self.pull_url, req)
    }

    /// `POST {base}/snapshot`, read whole (capped like push and pull).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn snapshot(
        &self,
        req: &SnapshotRequest,
    ) -> Result<SnapshotResponse, TransportFailure> {
        self.exchange(SNAPSHOT_PATH, &self.snapshot_url, req)
    }

    /// `POST {base}/snapshot`, with the 2xx body handed to `read` as a stream (no size cap,
    /// nothing buffered here beyond the reader's own buffer). Retried once with a refreshed
    /// token after a 401 or 403, like the other requests.
    ///
    /// # Errors
    ///
    /// [`TransportFailure`] when no 2xx answer arrived; what `read` makes of the body is its own
    /// result.
    pub(crate) fn snapshot_with<T>(
        &self,
        req: &SnapshotRequest,
        read: impl FnOnce(&mut dyn Read) -> T,
    ) -> Result<T, TransportFailure> {
        let body = serde_json::to_vec(req)
            .map_err(|e| TransportFailure::Decode(format!("cannot encode the request: {e}")))?;
        let url = &self.snapshot_url;
        let started = Instant::now();
        let mut answer = self.start(url, &body, false, true)?;
        if let Err(r) = &answer {
            if self.auth.is_some() && matches!(r.status, 401 | 403) {
                log_to!(
                    self.logger,
                    Info,
                    targets::AUTH,
                    "{SNAPSHOT_PATH} refused with HTTP {}: retrying once with a refreshed token",
                    r.status
                );
                answer = self.start(url, &body, true, true)?;
            }
        }
        match answer {
            Ok(mut response) => {
                let mut reader = response.with_config().limit(u64::MAX).reader();
                let result = read(&mut reader);
                log_to!(
                    self.logger,
                    Trace,
                    targets::HTTP,
                    "POST {SNAPSHOT_PATH}: HTTP 2xx, body streamed in {:?}",
                    started.elapsed()
                );
                Ok(result)
            }
            Err(r) => Err(TransportFailure::Http {
                status: r.status,
                code: r.code,
                message: r.message,
            }),
        }
    }

    /// One request, retried once with a refreshed token after a 401 or 403. `endpoint` (the
    /// path alone, never the URL, which may hold credentials) names it in the log.
    fn exchange<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        endpoint: &str,
        url: &str,
        req: &Req,
    ) -> Result<Resp, TransportFailure> {
        // Cannot fail for the wire types (string keys only); reported rather than unwrapped.
        let body = serde_json::to_vec(req)
            .map_err(|e| TransportFailure::Decode(format!("cannot encode the request: {e}")))?;
        self.exchange_body(endpoint, url, body)
    }

    /// [`exchange`](Self::exchange) of a body already encoded.
    fn exchange_body<Resp: DeserializeOwned>(
        &self,
        endpoint: &str,
        url: &str,
        body: Vec<u8>,
    ) -> Result<Resp, TransportFailure> {
        let first = self.logged_send(endpoint, url, &body, false)?;
        let bytes = match first {
            Reply::Rejected(r) if self.auth.is_some() && matches!(r.status, 401 | 403) => {
                log_to!(
                    self.logger,
                    Info,
                    targets::AUTH,
                    "{endpoint} refused with HTTP {}: retrying once with a refreshed token",
                    r.status
                );
                self.logged_send(endpoint, url, &body, true)?
                    .into_result()?
            }
            reply => reply.into_result()?,
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            TransportFailure::Decode(format!("unexpected response body from {url}: {e}"))
        })
    }

    /// [`send`](Self::send), with its status, size and time logged at trace level.
    fn logged_send(
        &self,
        endpoint: &str,
        url: &str,
        body: &[u8],
        refresh: bool,
    ) -> Result<Reply, TransportFailure> {
        let started = Instant::now();
        let reply = self.send(url, body, refresh);
        if self.logger.enabled(LogLevel::Trace, targets::HTTP) {
            let took = started.elapsed();
            match &reply {
                Ok(Reply::Success(bytes)) => log_to!(
                    self.logger,
                    Trace,
                    targets::HTTP,
                    "POST {endpoint}: HTTP 2xx, {} bytes sent, {} received in {took:?}",
                    body.len(),
                    bytes.len()
                ),
                Ok(Reply::Rejected(r)) => log_to!(
                    self.logger,
                    Trace,
                    targets::HTTP,
                    "POST {endpoint}: HTTP {} in {took:?}",
                    r.status
                ),
                Err(e) => log_to!(
                    self.logger,
                    Trace,
                    targets::HTTP,
                    "POST {endpoint}: failed after {took:?}: {e}"
                ),
            }
        }
        reply
    }

    /// Sends the request and reads the response body (a 2xx one in full, an error one in part).
    fn send(&self, url: &str, body: &[u8], refresh: bool) -> Result<Reply, TransportFailure> {
        let mut body = match self.start(url, body, refresh, false)? {
            Ok(body) => body,
            Err(rejection) => return Ok(Reply::Rejected(rejection)),
        };
        match body
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
        {
            Ok(bytes) => Ok(Reply::Success(bytes)),
            Err(ureq::Error::BodyExceedsLimit(limit)) => Err(TransportFailure::Decode(format!(
                "response body larger than {limit} bytes"
            ))),
            Err(e) => Err(network_failure(e)),
        }
    }

    /// Sends the request: a 2xx answer's body unread, or a non-2xx answer read (in part).
    /// `streamed`: the body may take any time as long as data keeps coming (each read waits at
    /// most the request timeout), instead of the whole exchange being bounded by it.
    fn start(
        &self,
        url: &str,
        body: &[u8],
        refresh: bool,
        streamed: bool,
    ) -> Result<Result<ureq::Body, Rejection>, TransportFailure> {
        let authorization =
            bearer(self.auth.as_deref(), refresh).map_err(|e| TransportFailure::Http {
                status: 401,
                code: Some(AUTH_PROVIDER_FAILED.to_string()),
                message: e.0,
            })?;
        let mut request = self.agent.post(url);
        if streamed {
            let timeout = Some(self.request_timeout);
            request = request
                .config()
                .timeout_global(None)
                .timeout_recv_response(timeout)
                .timeout_per_read(timeout)
                .build();
        }
        let mut request = request
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request.send(body).map_err(network_failure)?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if (200..300).contains(&status) {
            return Ok(Ok(body));
        }
        // The status is what matters: keep whatever part of the error body could be read.
        let mut head = Vec::new();
        let _ = body
            .as_reader()
            .take(MAX_ERROR_BODY_BYTES)
            .read_to_end(&mut head);
        let text = String::from_utf8_lossy(&head);
        Ok(Err(rejection(status, &text)))
    }
}

// The engine shares one transport between its threads.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<HttpTransport>();
};

/// What came back from one request that reached the server.
enum Reply {
    Success(Vec<u8>),
    Rejected(Rejection),
}

/// A non-2xx answer.
struct Rejection {
    status: u16,
    code: Option<String>,
    message: String,
}

impl Reply {
    fn into_result(self) -> Result<Vec<u8>, TransportFailure> {
        match self {
            Reply::Success(bytes) => Ok(bytes),
            Reply::Rejected(r) => Err(TransportFailure::Http {
                status: r.status,
                code: r.code,
                message: r.message,
            }),
        }
    }
}

/// Reads a non-2xx body: the JSON `ErrorBody` when it is one, else the trimmed, truncated text.
fn rejection(status: u16, text: &str) -> Rejection {
    if let Ok(body) = serde_json::from_str::<ErrorBody>(text) {
        if !body.code.is_empty() || !body.error.is_empty() {
            return Rejection {
                status,
                code: (!body.code.is_empty()).then_some(body.code),
                message: truncated(&body.error),
            };
        }
    }
    Rejection {
        status,
        code: None,
        message: truncated(text.trim()),
    }
}

fn truncated(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Maps an I/O error met while reading a streamed body (ureq's errors come wrapped in it).
pub(crate) fn body_read_failure(e: std::io::Error) -> TransportFailure {
    if matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) {
        return TransportFailure::Timeout;
    }
    match e.downcast::<ureq::Error>() {
        Ok(inner) => network_failure(inner),
        Err(e) => TransportFailure::Network(e.to_string()),
    }
}

/// Maps a ureq error that happened before a complete answer arrived. Failures to connect are
/// told apart: their request was never sent, so it cannot run on the server later.
fn network_failure(e: ureq::Error) -> TransportFailure {
    use ureq::Timeout as Phase;
    match e {
        // (TLS errors are not among them: ureq does not say whether one struck the handshake
        // or a later record.)
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(Phase::Resolve | Phase::Connect) => {
            TransportFailure::Unreachable(e.to_string())
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            ) || is_lookup_failure(&io) =>
        {
            TransportFailure::Unreachable(io.to_string())
        }
        ureq::Error::Timeout(_) => TransportFailure::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            TransportFailure::Timeout
        }
        other => TransportFailure::Network(other.to_string()),
    }
}

/// Whether `io` is a failed name lookup (no network at all, typically). std gives those no
/// stable error kind, only this text; an unrecognized one is merely treated as a request that
/// may have been sent.
fn is_lookup_failure(io: &std::io::Error) -> bool {
    io.to_string()
        .starts_with("failed to lookup address information")
}

/// Checks the base URL and returns it without trailing slashes.
fn base_url(url: &str) -> Result<&str, TransportConfigError> {
    let invalid = |reason: &str| TransportConfigError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let uri: Uri = url.parse().map_err(|e| invalid(&format!("{e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(invalid("the scheme must be http or https"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if uri.query().is_some() {
        return Err(invalid("a base URL cannot have a query"));
    }
    Ok(url.trim_end_matches('/'))
}

/// Checks extra headers once, so that requests never fail on them.
pub(crate) fn validated_headers(
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, HeaderValue)>, TransportConfigError> {
    headers
        .iter()
        .map(|(name, value)| {
            let invalid = |reason: String| TransportConfigError::InvalidHeader {
                name: name.clone(),
                reason,
            };
            let header_name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
            let header_value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
            Ok((header_name, header_value))
        })
        .collect()
}

#[cfg(test)]
mod tests;
