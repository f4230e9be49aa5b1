//! The axum routes of the sync endpoints, mirroring mizu's `sync/http` transport on a
//! `net/http` `ServeMux`: `POST {prefix}/push|pull|snapshot`, the live WebSocket, the optional
//! admin API, plain-text 404 / 405 for everything else.
//!
//! Handlers read the body with the route's limit and deadline, then run the engine (and the
//! apply / scope hooks) on tokio's blocking pool: no hook ever runs on a runtime worker.

use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{on, post, MethodFilter, MethodRouter};
use axum::Router;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::apply::{ScopeFn, ScopeRequest};
use super::engine::{resolve_scope, Engine};
use super::live::Hub;
use super::request::{decode, PullBody, PushBody, ScopeBody};
use super::Error;
use crate::protocol::wire::{
    codes, Change, ErrorBody, PushResponse, SnapshotResponse, PULL_PATH, PUSH_PATH, SNAPSHOT_PATH,
};

/// Body limit of `/push` (mizu: 1 MiB).
pub(crate) const PUSH_BODY_LIMIT: usize = 1 << 20;
/// Body limit of `/pull`, `/snapshot` and the admin API (mizu: 64 KiB).
pub(crate) const SMALL_BODY_LIMIT: usize = 1 << 16;
/// Unread bodies of unrouted requests are discarded up to this size (as Go does).
const DISCARD_LIMIT: usize = 256 * 1024;
/// Oversized bodies up to this size are read and dropped before the error answer is sent, so
/// a client still sending sees the answer instead of a reset.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
/// How long a client may take to send a whole body.
const BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// Everything a request needs: the engine, the live hub and the settings.
pub(crate) struct App {
    pub(crate) engine: Engine,
    pub(crate) hub: Hub,
    pub(crate) prefix: String,
    pub(crate) live_path: String,
    pub(crate) max_push_batch: usize,
    pub(crate) pull_limit: usize,
    pub(crate) admin: bool,
    pub(crate) scope_fn: Option<ScopeFn>,
    pub(crate) unavailable: AtomicBool,
}

/// A JSON response: `application/json; charset=utf-8`, the value then a newline (as Go's
/// `json.Encoder` writes it).
pub(crate) fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    body.push(b'\n');
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A [`PullResponse`](crate::protocol::wire::PullResponse) written from the log's shared
/// changes: the same JSON, no change copied.
#[derive(Serialize)]
struct PullPage<'a> {
    changes: Option<LoggedChanges<'a>>,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<u64>,
}

/// Changes of the log, written as a JSON array.
struct LoggedChanges<'a>(&'a [Arc<Change>]);

impl Serialize for LoggedChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|change| &**change))
    }
}

/// A plain-text error like Go's `http.Error`: the text then a newline, with `nosniff`.
pub(crate) fn text_response(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{text}\n")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A JSON error response `{"code","error"}`.
pub(crate) fn error(status: StatusCode, code: &str, text: &str) -> Response {
    json_response(
        status,
        &ErrorBody {
            code: code.to_owned(),
            error: text.to_owned(),
        },
    )
}

/// mizu's answer to any body it cannot bind.
pub(crate) fn invalid_body() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        codes::INVALID_MUTATION,
        "invalid request body",
    )
}

/// Marks `response` to close its connection once written.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Why a body could not be read.
enum BodyError {
    /// Larger than the route's limit.
    TooLarge,
    /// Timed out or broke off.
    Io,
}

/// Reads `body`, at most `limit` bytes, within [`BODY_TIMEOUT`]. A body over the limit is
/// still read (and dropped) up to [`DRAIN_LIMIT`] before the error is returned.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let declared = hyper::body::Body::size_hint(&body).exact();
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(BodyError::TooLarge);
    }
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) | Ok(Some(Err(_))) => return Err(BodyError::Io),
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => {
                total = total.saturating_add(chunk.len());
                if total > DRAIN_LIMIT {
                    return Err(BodyError::TooLarge);
                }
                if total <= limit {
                    buf.extend_from_slice(&chunk);
                }
            }
        }
    }
    if total > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(buf))
}

/// The parts of a request the handlers use once the body is read.
pub(crate) struct Call {
    /// The request path (without query).
    pub(crate) path: String,
    /// Request headers as (lower-case name, value) pairs.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

/// The request's headers as (lower-case name, value) pairs, for the scope hook.
pub(crate) fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads a POST request's body with `limit`; the route's 400 (closing the connection, like a
/// Go handler whose body read fails) when it cannot.
async fn read_call(request: Request, limit: usize) -> Result<Call, Response> {
    let (parts, body) = request.into_parts();
    let body = match read_body(body, limit).await {
        Ok(body) => body,
        Err(BodyError::TooLarge | BodyError::Io) => return Err(closing(invalid_body())),
    };
    Ok(Call {
        path: parts.uri.path().to_owned(),
        headers: header_pairs(&parts.headers),
        body,
    })
}

/// Reads a POST handler's request with `limit`, then runs `handle` on the blocking pool.
async fn blocking_handler(
    app: Arc<App>,
    request: Request,
    limit: usize,
    handle: fn(&App, &Call) -> Response,
) -> Response {
    match read_call(request, limit).await {
        Ok(call) => run_blocking(move || handle(&app, &call)).await,
        Err(response) => response,
    }
}

/// Size of the chunks a snapshot is streamed in.
const SNAPSHOT_CHUNK: usize = 64 * 1024;

/// Serializes into [`SNAPSHOT_CHUNK`]-sized chunks sent to the response body as they fill.
struct ChunkWriter {
    buf: Vec<u8>,
    chunks: mpsc::Sender<Bytes>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.chunks
            .blocking_send(chunk)
            .map_err(|_| io::ErrorKind::BrokenPipe.into())
    }
}

impl io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SNAPSHOT_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `POST {prefix}/snapshot`: the state is serialized on the blocking pool while the body is
/// sent, chunk by chunk, so a large snapshot is never held whole as text. A snapshot that fits
/// in one chunk is sent with a `Content-Length`, like every other answer.
async fn snapshot(State(app): State<Arc<App>>, request: Request) -> Response {
    let call = match read_call(request, SMALL_BODY_LIMIT).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    let (decided, decision) = oneshot::channel();
    let (chunks, mut body) = mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let state = app.snapshot_state(&call);
        let (data, cursor) = match state {
            Ok(state) => state,
            Err(response) => {
                let _ = decided.send(Some(*response));
                return;
            }
        };
        let _ = decided.send(None);
        let mut writer = ChunkWriter {
            buf: Vec::with_capacity(SNAPSHOT_CHUNK + 1024),
            chunks,
        };
        // Ends early (dropping the sender) when the client went away.
        if serde_json::to_writer(&mut writer, &SnapshotResponse { data, cursor }).is_ok() {
            writer.buf.push(b'\n');
            let _ = writer.send();
        }
    });
    match decision.await {
        Ok(None) => {}
        Ok(Some(response)) => return response,
        Err(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL_ERROR,
                "internal error",
            )
        }
    }
    let first = body.recv().await.unwrap_or_default();
    let body = match body.recv().await {
        None => Body::from(first),
        Some(second) => {
            let rest = futures_util::stream::unfold(body, |mut body| async move {
                body.recv().await.map(|chunk| (chunk, body))
            });
            let chunks = futures_util::stream::iter([first, second])
                .chain(rest)
                .map(Ok::<_, Infallible>);
            Body::from_stream(chunks)
        }
    };
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Runs `f` on the blocking pool (hooks and SQLite may block); a panicking hook gives 500.
async fn run_blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_ERROR,
            "internal error",
        )
    })
}

/// Discards an unrouted request's body (up to [`DISCARD_LIMIT`]) and answers `response`,
/// closing the connection when the body could not be discarded.
async fn discard_then(request: Request, response: Response) -> Response {
    match read_body(request.into_body(), DISCARD_LIMIT).await {
        Ok(_) => response,
        Err(_) => closing(response),
    }
}

async fn not_found(request: Request) -> Response {
    discard_then(
        request,
        text_response(StatusCode::NOT_FOUND, "404 page not found"),
    )
    .await
}

fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response = text_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

/// A POST-only route running `handle` with `limit`.
fn post_route(limit: usize, handle: fn(&App, &Call) -> Response) -> MethodRouter<Arc<App>> {
    post(move |State(app): State<Arc<App>>, request: Request| {
        blocking_handler(app, request, limit, handle)
    })
    .fallback(|request: Request| discard_then(request, method_not_allowed("POST")))
}

/// Checks the options that become route paths (axum panics on paths it cannot route).
pub(crate) fn check_paths(prefix: &str, live_path: &str) -> Result<(), Error> {
    for (what, path) in [("prefix", prefix), ("live path", live_path)] {
        if path.contains(['{', '}', '*']) {
            return Err(Error::InvalidOption(format!(
                "{what} {path:?} must not contain {{, }} or *"
            )));
        }
    }
    let taken = [PUSH_PATH, PULL_PATH, SNAPSHOT_PATH]
        .iter()
        .map(|p| format!("{prefix}{p}"))
        .chain(["/_admin/trim".to_owned(), "/_admin/reject".to_owned()]);
    for path in taken {
        if path == live_path {
            return Err(Error::InvalidOption(format!(
                "live path {live_path:?} is already a sync or admin path"
            )));
        }
    }
    Ok(())
}

/// The router of `app` (its paths were checked by [`check_paths`]).
pub(crate) fn router(app: Arc<App>) -> Router {
    let prefix = app.prefix.clone();
    let mut router = Router::new()
        .route(
            &format!("{prefix}{PUSH_PATH}"),
            post_route(PUSH_BODY_LIMIT, App::push),
        )
        .route(
            &format!("{prefix}{PULL_PATH}"),
            post_route(SMALL_BODY_LIMIT, App::pull),
        )
        .route(
            &format!("{prefix}{SNAPSHOT_PATH}"),
            post(snapshot)
                .fallback(|request: Request| discard_then(request, method_not_allowed("POST"))),
        )
        .route(
            &app.live_path,
            on(
                MethodFilter::GET.or(MethodFilter::HEAD),
                super::live::handshake,
            )
            .fallback(|request: Request| discard_then(request, method_not_allowed("GET, HEAD"))),
        );
    if app.admin {
        router = router
            .route(
                "/_admin/trim",
                post_route(SMALL_BODY_LIMIT, App::admin_trim),
            )
            .route(
                "/_admin/reject",
                post_route(SMALL_BODY_LIMIT, App::admin_reject),
            );
    }
    router.fallback(not_found).with_state(app)
}

impl App {
    /// The 503 of a simulated outage, if one is on.
    pub(crate) fn outage(&self) -> Option<Response> {
        self.unavailable.load(Ordering::SeqCst).then(|| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL_ERROR,
                "server unavailable",
            )
        })
    }

    /// Applies the scope hook to a claimed scope (`_default` when empty).
    pub(crate) fn authorize(
        &self,
        path: &str,
        headers: &[(String, String)],
        claimed: &str,
    ) -> Result<String, Box<Response>> {
        let Some(scope_fn) = &self.scope_fn else {
            return Ok(claimed.to_owned());
        };
        let request = ScopeRequest {
            claimed: resolve_scope(claimed),
            path,
            headers,
        };
        scope_fn(&request)
            .map_err(|e| Box::new(error(StatusCode::FORBIDDEN, codes::INTERNAL_ERROR, &e)))
    }

    fn push(&self, call: &Call) -> Response {
        if let Some(outage) = self.outage() {
            return outage;
        }
        let Some(request) = decode::<PushBody>(&call.body) else {
            return invalid_body();
        };
        let count = request.len();
        if count == 0 {
            return error(
                StatusCode::BAD_REQUEST,
                codes::INVALID_MUTATION,
                "no mutations provided",
            );
        }
        if count > self.max_push_batch {
            return error(
                StatusCode::BAD_REQUEST,
                codes::INVALID_MUTATION,
                "too many mutations in batch",
            );
        }
        let mut mutations = request.into_mutations();
        if self.scope_fn.is_some() {
            for m in &mut mutations {
                m.scope = match self.authorize(&call.path, &call.headers, &m.scope) {
                    Ok(scope) => scope,
                    Err(denied) => return *denied,
                };
            }
        }
        let outcome = self.engine.push(mutations);
        for (scope, cursor) in outcome.published {
            self.hub
                .publish(&format!("sync:{scope}"), json!({ "cursor": cursor }));
        }
        json_response(
            StatusCode::OK,
            &PushResponse {
                results: outcome.results,
            },
        )
    }

    fn pull(&self, call: &Call) -> Response {
        if let Some(outage) = self.outage() {
            return outage;
        }
        let Some(request) = decode::<PullBody>(&call.body) else {
            return invalid_body();
        };
        let scope = match self.authorize(&call.path, &call.headers, &request.scope) {
            Ok(scope) => scope,
            Err(denied) => return *denied,
        };
        let limit = match usize::try_from(request.limit) {
            Ok(0) | Err(_) => 100,
            Ok(n) => n,
        }
        .min(self.pull_limit);
        match self.engine.pull(&scope, request.cursor, limit) {
            Ok((changes, has_more)) => {
                let next_cursor = changes.last().map(|c| c.cursor);
                let changes = (!changes.is_empty()).then_some(LoggedChanges(&changes));
                json_response(
                    StatusCode::OK,
                    &PullPage {
                        changes,
                        has_more,
                        next_cursor,
                    },
                )
            }
            Err(_) => error(
                StatusCode::GONE,
                codes::CURSOR_TOO_OLD,
                "sync: cursor too old",
            ),
        }
    }

    /// The state and cursor of the scope `call` asks for, or the answer when it cannot have it.
    fn snapshot_state(&self, call: &Call) -> Result<(serde_json::Value, u64), Box<Response>> {
        if let Some(outage) = self.outage() {
            return Err(Box::new(outage));
        }
        let Some(request) = decode::<ScopeBody>(&call.body) else {
            return Err(Box::new(invalid_body()));
        };
        let scope = self.authorize(&call.path, &call.headers, &request.scope)?;
        Ok(self.engine.snapshot(&scope))
    }
}
