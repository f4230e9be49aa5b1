//! The test/admin API (only with `admin` enabled), which the Go interop harness implements
//! identically so one scenario suite drives both servers:
//!
//! - `POST /_admin/trim` `{"scope":S?}` → trims S's log up to its head → `{"cursor":HEAD}`.
//! - `POST /_admin/reject` `{"name":N?,"arg_contains":A?,"error":E}` → adds a reject rule;
//!   `{"clear":true}` removes all rules → `{}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::engine::RejectRule;
use super::request::{decode, RejectBody, ScopeBody};
use super::routes::{error, invalid_body, json_response, App, Call};
use crate::protocol::wire::codes;

impl App {
    /// Handles `POST /_admin/trim`.
    pub(crate) fn admin_trim(&self, call: &Call) -> Response {
        let Some(request) = decode::<ScopeBody>(&call.body) else {
            return invalid_body();
        };
        match self.engine.trim(&request.scope) {
            Ok(head) => json_response(StatusCode::OK, &json!({ "cursor": head })),
            Err(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL_ERROR,
                &e.to_string(),
            ),
        }
    }

    /// Handles `POST /_admin/reject`.
    pub(crate) fn admin_reject(&self, call: &Call) -> Response {
        let Some(request) = decode::<RejectBody>(&call.body) else {
            return invalid_body();
        };
        if request.clear {
            self.engine.clear_reject_rules();
            return json_response(StatusCode::OK, &json!({}));
        }
        let Some(error_text) = request.error.filter(|e| !e.is_empty()) else {
            return error(
                StatusCode::BAD_REQUEST,
                codes::INVALID_MUTATION,
                "error text required",
            );
        };
        self.engine.add_reject_rule(RejectRule {
            name: request.name,
            arg_contains: request.arg_contains,
            error: error_text,
        });
        json_response(StatusCode::OK, &json!({}))
    }
}
