//! The record shape every case writes (a todo of about 130 bytes of JSON), the push bodies the
//! raw bounds send, and a bare ureq agent to send them with.

use std::time::Duration;

use mizu_sync::protocol::wire::{PullRequest, RawPullResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The collection every case uses.
pub const COLLECTION: &str = "todo";

/// A realistic todo record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    pub title: String,
    pub completed: bool,
    pub priority: u8,
    pub tags: Vec<String>,
    pub due: String,
}

/// The `i`th todo: the same shape and about the same size for every `i`.
pub fn todo(i: usize) -> Todo {
    Todo {
        title: format!("Buy oat milk and bread for the week #{i:06}"),
        completed: i.is_multiple_of(3),
        priority: (i % 4) as u8,
        tags: vec!["home".into(), "errands".into()],
        due: format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
    }
}

/// Push bodies `{"mutations":[...]}` of `count` `todo.create` mutations in batches of `batch`,
/// with ids `{prefix}-{i}`, exactly the shape the client sends.
pub fn push_bodies(scope: &str, prefix: &str, count: usize, batch: usize) -> Vec<String> {
    (0..count)
        .step_by(batch)
        .map(|start| {
            let mutations: Vec<Value> = (start..(start + batch).min(count))
                .map(|i| {
                    json!({
                        "id": format!("{prefix}-m{i}"),
                        "scope": scope,
                        "name": format!("{COLLECTION}.create"),
                        "args": {"id": format!("{prefix}-{i}"), "data": todo(i)},
                    })
                })
                .collect();
            json!({ "mutations": mutations }).to_string()
        })
        .collect()
}

/// A bare ureq agent: what the client's transport would cost with nothing around it.
pub struct Raw {
    agent: ureq::Agent,
    base: String,
}

impl Raw {
    pub fn new(base: &str) -> Raw {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        Raw {
            agent,
            base: base.to_owned(),
        }
    }

    /// POSTs `body` as JSON to `{base}{path}`; panics on a transport error or an error status.
    fn send(&self, path: &str, body: &str) -> ureq::http::Response<ureq::Body> {
        self.agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// POSTs `body` to `{base}{path}` and returns the response body as a stream (no size cap).
    pub fn post_reader(&self, path: &str, body: &str) -> impl std::io::Read {
        self.send(path, body)
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader()
    }

    /// POSTs `body` to `{base}{path}` and returns the response body.
    pub fn post(&self, path: &str, body: &str) -> String {
        self.send(path, body)
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("POST {path}: reading the body: {e}"))
    }

    /// Pushes `bodies` one after the other; returns the largest result cursor. Each response is
    /// decoded as the least a client needs (ok, cursor, error per result; the changes the server
    /// reports are skipped by the parser, as the client does).
    pub fn push_all(&self, bodies: &[String]) -> u64 {
        let mut head = 0;
        for body in bodies {
            let response: BareResults =
                serde_json::from_str(&self.post("/push", body)).expect("push response");
            for result in response.results {
                assert!(
                    result.ok,
                    "the server refused a mutation: {:?}",
                    result.error
                );
                head = head.max(result.cursor.unwrap_or(0));
            }
        }
        head
    }

    /// Pulls every page after `cursor` (pages of `limit`) and decodes them as the least a client
    /// needs (each change's data validated and kept as raw JSON text, copied out as the owned
    /// text a store would keep); returns the number of changes.
    pub fn pull_all(&self, scope: &str, mut cursor: u64, limit: i64) -> usize {
        let mut count = 0;
        loop {
            let request = PullRequest {
                scope: scope.to_owned(),
                cursor,
                limit: Some(limit),
            };
            let body = serde_json::to_string(&request).expect("pull request");
            let page: RawPullResponse =
                serde_json::from_str(&self.post("/pull", &body)).expect("pull response");
            let changes = page.changes.unwrap_or_default();
            count += changes.len();
            for change in &changes {
                let kept: Option<Box<str>> = change.data.as_ref().map(|d| d.get().into());
                std::hint::black_box(kept);
            }
            let last = changes.last().map(|c| c.cursor);
            match page.next_cursor.or(last) {
                Some(next) if page.has_more => cursor = next,
                _ => return count,
            }
        }
    }
}

/// A push response as the least a client needs.
#[derive(Deserialize)]
struct BareResults {
    results: Vec<BareResult>,
}

#[derive(Deserialize)]
struct BareResult {
    ok: bool,
    #[serde(default)]
    cursor: Option<u64>,
    #[serde(default)]
    error: Option<String>,
}
