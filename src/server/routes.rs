//! Request routing and the sync endpoints, mirroring mizu's `sync/http` transport on a
//! `net/http` `ServeMux`: `POST {prefix}/push|pull|snapshot`, the live WebSocket, the optional
//! admin API, plain-text 404 / 405 for everything else.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::apply::{ScopeFn, ScopeRequest};
use super::engine::{resolve_scope, Engine};
use super::http::{BodyError, Conn, Head, HeadError, Response};
use super::live::{self, Hub};
use super::request::{decode, PullBody, PushBody, ScopeBody};
use crate::protocol::wire::{
    codes, ErrorBody, PullResponse, PushResponse, SnapshotResponse, PULL_PATH, PUSH_PATH,
    SNAPSHOT_PATH,
};

/// Body limit of `/push` (mizu: 1 MiB).
pub(crate) const PUSH_BODY_LIMIT: usize = 1 << 20;
/// Body limit of `/pull` and `/snapshot` (mizu: 64 KiB).
pub(crate) const SMALL_BODY_LIMIT: usize = 1 << 16;
/// Unread bodies of unrouted requests are discarded up to this size (as Go does).
const DISCARD_LIMIT: usize = 256 * 1024;

/// Everything a connection needs: the engine, the live hub and the settings.
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

/// A JSON error response `{"code","error"}`.
pub(crate) fn error(status: u16, code: &str, text: &str) -> Response {
    Response::json(
        status,
        &ErrorBody {
            code: code.to_owned(),
            error: text.to_owned(),
        },
    )
}

/// mizu's answer to any body it cannot bind.
pub(crate) fn invalid_body() -> Response {
    error(400, codes::INVALID_MUTATION, "invalid request body")
}

enum Route {
    Push,
    Pull,
    Snapshot,
    Live,
    Admin(&'static str),
}

impl App {
    fn route(&self, path: &str) -> Option<Route> {
        if let Some(rest) = path.strip_prefix(self.prefix.as_str()) {
            match rest {
                PUSH_PATH => return Some(Route::Push),
                PULL_PATH => return Some(Route::Pull),
                SNAPSHOT_PATH => return Some(Route::Snapshot),
                _ => {}
            }
        }
        if path == self.live_path {
            return Some(Route::Live);
        }
        if self.admin {
            match path {
                "/_admin/trim" => return Some(Route::Admin("trim")),
                "/_admin/reject" => return Some(Route::Admin("reject")),
                _ => {}
            }
        }
        None
    }

    /// Serves requests on one connection until it closes.
    pub(crate) fn serve_connection(&self, stream: TcpStream) {
        let mut conn = Conn::new(stream);
        loop {
            let head = match conn.read_head() {
                Ok(head) => head,
                Err(HeadError::TooLarge) => {
                    let r = Response::text(431, "431 Request Header Fields Too Large").closing();
                    let _ = conn.write(&r, false);
                    return;
                }
                Err(HeadError::Malformed) => {
                    let _ = conn.write(&Response::text(400, "400 Bad Request").closing(), false);
                    return;
                }
                Err(HeadError::Closed | HeadError::Io) => return,
            };
            let is_head = head.method == "HEAD";
            if let (Some(Route::Live), "GET" | "HEAD") =
                (self.route(&head.path), head.method.as_str())
            {
                match self.live_handshake(&head) {
                    Ok((scope, accept)) => {
                        let (stream, leftover) = conn.into_parts();
                        self.hub.serve(stream, leftover, &scope, &accept);
                        return;
                    }
                    Err(response) => {
                        let discarded = conn.read_body(&head, DISCARD_LIMIT).is_ok();
                        let close = !discarded || !head.keep_alive();
                        if conn.write(&response, is_head).is_err() || close {
                            return;
                        }
                        continue;
                    }
                }
            }
            let response = self.respond(&mut conn, &head);
            let close = response.close || !head.keep_alive();
            if conn.write(&response, is_head).is_err() || close {
                return;
            }
        }
    }

    fn respond(&self, conn: &mut Conn, head: &Head) -> Response {
        let route = self.route(&head.path);
        let (allowed, limit) = match route {
            Some(Route::Push) => ("POST", PUSH_BODY_LIMIT),
            Some(Route::Pull | Route::Snapshot | Route::Admin(_)) => ("POST", SMALL_BODY_LIMIT),
            Some(Route::Live) => ("GET, HEAD", DISCARD_LIMIT),
            None => ("", DISCARD_LIMIT),
        };
        let handled = head.method == "POST"
            && matches!(
                route,
                Some(Route::Push | Route::Pull | Route::Snapshot | Route::Admin(_))
            );
        let (body, close) = match conn.read_body(head, limit) {
            Ok(body) => (body, false),
            Err(BodyError::Unsupported) => {
                return Response::text(501, "unsupported transfer encoding").closing();
            }
            // Like a Go handler whose body read fails: the route's 400, then close.
            Err(_) if handled => return invalid_body().closing(),
            // Unrouted: the 404 / 405 still applies, but the connection cannot be reused.
            Err(_) => (Vec::new(), true),
        };
        let mut response = self.dispatch(route, head, &body, allowed);
        response.close |= close;
        response
    }

    fn dispatch(&self, route: Option<Route>, head: &Head, body: &[u8], allowed: &str) -> Response {
        let Some(route) = route else {
            return Response::text(404, "404 page not found");
        };
        if head.method != "POST" {
            return Response::text(405, "Method Not Allowed").with_header("Allow", allowed);
        }
        match route {
            Route::Admin(name) => self.admin(name, body),
            // GET and HEAD of the live path never get here.
            Route::Live => Response::text(405, "Method Not Allowed").with_header("Allow", allowed),
            _ if self.unavailable.load(Ordering::SeqCst) => {
                error(503, codes::INTERNAL_ERROR, "server unavailable")
            }
            Route::Push => self.push(head, body),
            Route::Pull => self.pull(head, body),
            Route::Snapshot => self.snapshot(head, body),
        }
    }

    /// Applies the scope hook to a claimed scope (`_default` when empty).
    fn authorize(&self, head: &Head, claimed: &str) -> Result<String, Response> {
        let Some(scope_fn) = &self.scope_fn else {
            return Ok(claimed.to_owned());
        };
        let request = ScopeRequest {
            claimed: resolve_scope(claimed),
            path: &head.path,
            headers: &head.headers,
        };
        scope_fn(&request).map_err(|e| error(403, codes::INTERNAL_ERROR, &e))
    }

    fn push(&self, head: &Head, body: &[u8]) -> Response {
        let Some(request) = decode::<PushBody>(body) else {
            return invalid_body();
        };
        let count = request.len();
        if count == 0 {
            return error(400, codes::INVALID_MUTATION, "no mutations provided");
        }
        if count > self.max_push_batch {
            return error(400, codes::INVALID_MUTATION, "too many mutations in batch");
        }
        let mut mutations = request.into_mutations();
        for m in &mut mutations {
            if self.scope_fn.is_some() {
                m.scope = match self.authorize(head, &m.scope) {
                    Ok(scope) => scope,
                    Err(denied) => return denied,
                };
            }
        }
        let outcome = self.engine.push(mutations);
        for (scope, cursor) in outcome.published {
            self.hub
                .publish(&format!("sync:{scope}"), json!({ "cursor": cursor }));
        }
        Response::json(
            200,
            &PushResponse {
                results: outcome.results,
            },
        )
    }

    fn pull(&self, head: &Head, body: &[u8]) -> Response {
        let Some(request) = decode::<PullBody>(body) else {
            return invalid_body();
        };
        let scope = if self.scope_fn.is_some() {
            match self.authorize(head, &request.scope) {
                Ok(scope) => scope,
                Err(denied) => return denied,
            }
        } else {
            request.scope
        };
        let limit = match usize::try_from(request.limit) {
            Ok(0) | Err(_) => 100,
            Ok(n) => n,
        }
        .min(self.pull_limit);
        match self.engine.pull(&scope, request.cursor, limit) {
            Ok((changes, has_more)) => {
                let next_cursor = changes.last().map(|c| c.cursor);
                let changes = (!changes.is_empty()).then_some(changes);
                Response::json(
                    200,
                    &PullResponse {
                        changes,
                        has_more,
                        next_cursor,
                    },
                )
            }
            Err(_) => error(410, codes::CURSOR_TOO_OLD, "sync: cursor too old"),
        }
    }

    fn snapshot(&self, head: &Head, body: &[u8]) -> Response {
        let Some(request) = decode::<ScopeBody>(body) else {
            return invalid_body();
        };
        let scope = if self.scope_fn.is_some() {
            match self.authorize(head, &request.scope) {
                Ok(scope) => scope,
                Err(denied) => return denied,
            }
        } else {
            request.scope
        };
        let (data, cursor) = self.engine.snapshot(&scope);
        Response::json(200, &SnapshotResponse { data, cursor })
    }

    /// Validates a live handshake in mizu's order (upgrade, version, auth, key); returns the
    /// session's scope and accept key, or the failure response.
    fn live_handshake(&self, head: &Head) -> Result<(String, String), Response> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(error(503, codes::INTERNAL_ERROR, "server unavailable"));
        }
        live::check_upgrade(head)?;
        let claimed = head.query_param("scope").unwrap_or_default();
        let scope = match &self.scope_fn {
            None => resolve_scope(&claimed).to_owned(),
            Some(_) => match self.authorize(head, &claimed) {
                Ok(scope) => resolve_scope(&scope).to_owned(),
                Err(_) => return Err(Response::text(401, "authentication failed")),
            },
        };
        let accept = live::accept_key(head)?;
        Ok((scope, accept))
    }
}
