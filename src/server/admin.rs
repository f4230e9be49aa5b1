//! The test/admin API (only with `admin` enabled), which the Go interop harness implements
//! identically so one scenario suite drives both servers:
//!
//! - `POST /_admin/trim` `{"scope":S?}` → trims S's log up to its head → `{"cursor":HEAD}`.
//! - `POST /_admin/reject` `{"name":N?,"arg_contains":A?,"error":E}` → adds a reject rule;
//!   `{"clear":true}` removes all rules → `{}`.

use serde_json::json;

use super::engine::RejectRule;
use super::http::Response;
use super::request::{decode, RejectBody, ScopeBody};
use super::routes::{error, invalid_body, App};
use crate::protocol::wire::codes;

impl App {
    /// Handles `POST /_admin/{name}`.
    pub(crate) fn admin(&self, name: &str, body: &[u8]) -> Response {
        match name {
            "trim" => {
                let Some(request) = decode::<ScopeBody>(body) else {
                    return invalid_body();
                };
                match self.engine.trim(&request.scope) {
                    Ok(head) => Response::json(200, &json!({ "cursor": head })),
                    Err(e) => error(500, codes::INTERNAL_ERROR, &e.to_string()),
                }
            }
            "reject" => {
                let Some(request) = decode::<RejectBody>(body) else {
                    return invalid_body();
                };
                if request.clear {
                    self.engine.clear_reject_rules();
                    return Response::json(200, &json!({}));
                }
                let Some(error_text) = request.error.filter(|e| !e.is_empty()) else {
                    return error(400, codes::INVALID_MUTATION, "error text required");
                };
                self.engine.add_reject_rule(RejectRule {
                    name: request.name,
                    arg_contains: request.arg_contains,
                    error: error_text,
                });
                Response::json(200, &json!({}))
            }
            _ => Response::text(404, "404 page not found"),
        }
    }
}
