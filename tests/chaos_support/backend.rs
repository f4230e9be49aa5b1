//! The server under test: the reference server with a recording apply function (the default),
//! or the real mizu server through the Go harness (`MIZU_SYNC_TEST_SERVER=mizu`). Both are
//! read the way any client could: snapshot, and the whole change log pulled from cursor 0.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mizu_sync::protocol::wire::Mutation;
use mizu_sync::server::{convention_apply, ScopeState, Server, ServerHandle, ServerOptions};
use serde_json::{json, Value};

use crate::client_support::{kind, Kind, TestServer};

/// The app-defined mutation of the reference server: adds `by` to the counter `id`.
pub const COUNTER_ADD: &str = "counter.add";
/// The app-defined mutation used against mizu, whose harness knows only the convention: a
/// create, sent with `Client::mutate` so that it has no local effect.
pub const TALLY_CREATE: &str = "tally.create";

/// One run of the reference server's apply function.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub mutation: Mutation,
    pub ok: bool,
    /// When the apply function ran.
    pub at: Instant,
}

/// The server under test.
pub enum Backend {
    Reference {
        handle: ServerHandle,
        attempts: Arc<Mutex<Vec<Attempt>>>,
    },
    Mizu(TestServer),
}

impl Backend {
    /// The server `MIZU_SYNC_TEST_SERVER` selects.
    pub fn start() -> Backend {
        match kind() {
            Kind::Mizu => Backend::Mizu(TestServer::start()),
            Kind::Reference => {
                let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
                let log = attempts.clone();
                let handle = Server::start(ServerOptions {
                    apply: Some(Arc::new(move |m: &Mutation, state: &mut ScopeState| {
                        let result = if m.name == COUNTER_ADD {
                            counter_add(m, state)
                        } else {
                            convention_apply(m, state)
                        };
                        log.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(Attempt {
                                mutation: m.clone(),
                                ok: result.is_ok(),
                                at: Instant::now(),
                            });
                        result
                    })),
                    ..ServerOptions::default()
                })
                .expect("the reference server starts");
                Backend::Reference {
                    handle,
                    attempts: attempts.clone(),
                }
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        match self {
            Backend::Reference { handle, .. } => handle.addr(),
            Backend::Mizu(server) => server.addr(),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/_sync", self.addr())
    }

    pub fn ws_url(&self, scope: &str) -> String {
        format!("ws://{}/ws?scope={scope}", self.addr())
    }

    /// Whether app-defined mutations other than convention writes are understood.
    pub fn has_app_logic(&self) -> bool {
        matches!(self, Backend::Reference { .. })
    }

    /// Every run of the apply function so far (reference server only).
    pub fn attempts(&self) -> Option<Vec<Attempt>> {
        match self {
            Backend::Reference { attempts, .. } => Some(
                attempts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
            ),
            Backend::Mizu(_) => None,
        }
    }

    /// The scope's state, `{collection: {id: value}}`.
    pub fn snapshot(&self, scope: &str) -> Value {
        let reply = post(&self.base_url(), "snapshot", &json!({ "scope": scope }));
        match reply["data"].clone() {
            Value::Null => json!({}),
            data => data,
        }
    }

    /// The `data` of every change in the scope's log, in log order.
    pub fn change_log(&self, scope: &str) -> Vec<Value> {
        let mut cursor = 0u64;
        let mut out = Vec::new();
        loop {
            let page = post(
                &self.base_url(),
                "pull",
                &json!({ "scope": scope, "cursor": cursor, "limit": 1000 }),
            );
            let changes = page["changes"].as_array().cloned().unwrap_or_default();
            for change in &changes {
                cursor = cursor.max(change["cursor"].as_u64().unwrap_or(cursor));
                out.push(change["data"].clone());
            }
            if let Some(next) = page["next_cursor"].as_u64() {
                cursor = cursor.max(next);
            }
            if page["has_more"] != json!(true) || changes.is_empty() {
                return out;
            }
        }
    }
}

/// `counter.add` with args `{"id":ID,"by":N,...}`: adds N to the counter's `total` (creating it
/// at 0) and logs the new value as a convention create or update.
fn counter_add(m: &Mutation, state: &mut ScopeState) -> Result<Vec<Value>, String> {
    let invalid = || mizu_sync::server::ERR_INVALID_MUTATION.to_owned();
    let args = m.args.as_ref().ok_or_else(invalid)?;
    let id = args["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(invalid)?;
    let by = args["by"].as_i64().ok_or_else(invalid)?;
    let (op, total) = match state.get("counter", id) {
        Some(old) => ("update", old["total"].as_i64().unwrap_or(0) + by),
        None => ("create", by),
    };
    let value = json!({ "total": total });
    state.insert("counter", id, value.clone());
    Ok(vec![
        json!({"entity": "counter", "id": id, "op": op, "data": value}),
    ])
}

fn post(base_url: &str, endpoint: &str, body: &Value) -> Value {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    );
    let url = format!("{base_url}/{endpoint}");
    let mut reply = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().expect("a readable body");
    assert_eq!(status, 200, "{url} answered {status}: {text}");
    serde_json::from_str(&text).expect("a JSON body")
}
