//! Wire types of the mizu sync protocol (see `PROTOCOL.md`).
//!
//! Request types are decoded strictly (`deny_unknown_fields`), as the mizu server does, so the
//! reference server can reuse them; response types ignore unknown fields, as a client must.
//! Every type serializes to exactly the keys the real server accepts.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Default path prefix of the sync endpoints on a mizu server.
pub const DEFAULT_PREFIX: &str = "/_sync";
/// Path of the push endpoint, relative to the base URL.
pub const PUSH_PATH: &str = "/push";
/// Path of the pull endpoint, relative to the base URL.
pub const PULL_PATH: &str = "/pull";
/// Path of the snapshot endpoint, relative to the base URL.
pub const SNAPSHOT_PATH: &str = "/snapshot";
/// The server's default (and this client's maximum) number of mutations per push.
pub const MAX_PUSH_BATCH: usize = 100;
/// The scope the server uses when a request names none.
pub const DEFAULT_SCOPE: &str = "_default";

/// Error codes the server puts in [`ErrorBody::code`].
pub mod codes {
    /// The requested thing does not exist.
    pub const NOT_FOUND: &str = "not_found";
    /// The request body or a mutation is malformed.
    pub const INVALID_MUTATION: &str = "invalid_mutation";
    /// The pull cursor is older than the retained log (HTTP 410): take a snapshot.
    pub const CURSOR_TOO_OLD: &str = "cursor_too_old";
    /// A conflict.
    pub const CONFLICT: &str = "conflict";
    /// Anything else, including scope denial (HTTP 403).
    pub const INTERNAL_ERROR: &str = "internal_error";
}

/// One mutation sent to `/push`: exactly the keys `id`, `scope`, `name`, `args`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// Idempotency key, unique per scope, generated once and reused on every retry.
    pub id: String,
    /// Scope; omitted when empty (the server then uses [`DEFAULT_SCOPE`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Mutation name, e.g. `todo.create`.
    pub name: String,
    /// Arguments, opaque to the server library; omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

/// Body of `POST {base}/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The mutations, applied one by one in order.
    #[serde(default)]
    pub mutations: Vec<Mutation>,
}

/// 200 response of `/push`: one result per mutation, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Results in the order of the request's mutations.
    #[serde(default)]
    pub results: Vec<MutationResult>,
}

/// The outcome of one pushed mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    /// Whether the server applied (or had already applied) the mutation.
    pub ok: bool,
    /// The scope's log position after this mutation. Never use it as a pull cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// The error text of a failed mutation (there is no code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Changes the mutation produced, when the server reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
}

/// Body of `POST {base}/pull`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// Scope; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Exclusive lower bound: changes with `cursor > this` are returned.
    #[serde(default)]
    pub cursor: u64,
    /// Page size; `<= 0` means the server default (100), capped by the server (1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// 200 response of `/pull`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The changes, ascending by cursor; JSON `null` when there is nothing new.
    #[serde(default)]
    pub changes: Option<Vec<Change>>,
    /// Whether more changes follow this page.
    #[serde(default)]
    pub has_more: bool,
    /// Where the next pull starts; absent when no changes came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<u64>,
}

/// One entry of a scope's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Log position (increasing, with gaps).
    pub cursor: u64,
    /// The change's scope.
    #[serde(default)]
    pub scope: String,
    /// RFC 3339 time with nanoseconds, as the server wrote it.
    #[serde(default)]
    pub time: String,
    /// Whatever the server app wrote; decoded by the codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A 200 response of `/pull` as a client reads it: like [`PullResponse`], but each change's
/// `data` is kept as its raw JSON text (checked to be one JSON value, never built into a tree),
/// for the codec to decode straight from the text ([`Codec::decode_raw_change`]).
///
/// [`Codec::decode_raw_change`]: crate::protocol::codec::Codec::decode_raw_change
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RawPullResponse {
    /// The changes, ascending by cursor; JSON `null` when there is nothing new.
    #[serde(default)]
    pub changes: Option<Vec<RawChange>>,
    /// Whether more changes follow this page.
    #[serde(default)]
    pub has_more: bool,
    /// Where the next pull starts; absent when no changes came back.
    #[serde(default)]
    pub next_cursor: Option<u64>,
}

/// One entry of a scope's change log, its data as raw JSON text (see [`RawPullResponse`]).
#[derive(Debug, Clone, Deserialize)]
pub struct RawChange {
    /// Log position (increasing, with gaps).
    pub cursor: u64,
    /// The change's scope.
    #[serde(default)]
    pub scope: String,
    /// RFC 3339 time with nanoseconds, as the server wrote it.
    #[serde(default)]
    pub time: String,
    /// Whatever the server app wrote, as JSON text; `None` when absent or `null`.
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
}

impl PartialEq for RawChange {
    /// Equal when every field is, the data compared as text.
    fn eq(&self, other: &Self) -> bool {
        self.cursor == other.cursor
            && self.scope == other.scope
            && self.time == other.time
            && self.data.as_ref().map(|d| d.get()) == other.data.as_ref().map(|d| d.get())
    }
}

impl RawChange {
    /// The change with its data parsed into a [`Value`] tree.
    ///
    /// # Errors
    /// The parser's error, for data nested deeper than `serde_json`'s recursion limit (the raw
    /// text is otherwise valid JSON).
    pub fn to_change(&self) -> serde_json::Result<Change> {
        Ok(Change {
            cursor: self.cursor,
            scope: self.scope.clone(),
            time: self.time.clone(),
            data: match &self.data {
                Some(raw) => Some(serde_json::from_str(raw.get())?),
                None => None,
            },
        })
    }
}

impl From<Change> for RawChange {
    fn from(change: Change) -> Self {
        RawChange {
            cursor: change.cursor,
            scope: change.scope,
            time: change.time,
            data: change
                .data
                .filter(|data| !data.is_null())
                // A `Value` always serializes.
                .and_then(|data| serde_json::value::to_raw_value(&data).ok()),
        }
    }
}

impl From<PullResponse> for RawPullResponse {
    fn from(response: PullResponse) -> Self {
        RawPullResponse {
            changes: response
                .changes
                .map(|changes| changes.into_iter().map(RawChange::from).collect()),
            has_more: response.has_more,
            next_cursor: response.next_cursor,
        }
    }
}

/// A 200 response of `/push` as a client reads it: the results without the changes each
/// mutation produced, which the server may report but a client does not use (skipped while
/// parsing, never built into trees).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LeanPushResponse {
    #[serde(default)]
    results: Vec<LeanMutationResult>,
}

#[derive(Debug, Clone, Deserialize)]
struct LeanMutationResult {
    ok: bool,
    #[serde(default)]
    cursor: Option<u64>,
    #[serde(default)]
    error: Option<String>,
}

impl From<LeanPushResponse> for PushResponse {
    fn from(lean: LeanPushResponse) -> Self {
        PushResponse {
            results: lean
                .results
                .into_iter()
                .map(|r| MutationResult {
                    ok: r.ok,
                    cursor: r.cursor,
                    error: r.error,
                    changes: None,
                })
                .collect(),
        }
    }
}

/// Body of `POST {base}/snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    /// Scope; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// 200 response of `/snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The whole state of the scope, in the app's shape; decoded by the codec.
    #[serde(default)]
    pub data: Value,
    /// The log position the snapshot is as of.
    pub cursor: u64,
}

/// Body of every non-200 JSON response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One of [`codes`].
    #[serde(default)]
    pub code: String,
    /// Human-readable text.
    #[serde(default)]
    pub error: String,
}

/// The live (WebSocket) envelope, both directions: `{"topic":..., "data":...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEnvelope {
    /// Topic, e.g. `subscribe` or `sync:<scope>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl LiveEnvelope {
    /// The cursor a `sync:<scope>` notification carries, at `data.cursor` or
    /// `data.payload.cursor`, when the topic matches `scope` (empty scope means `_default`).
    pub fn sync_cursor(&self, scope: &str) -> Option<u64> {
        let scope = if scope.is_empty() {
            DEFAULT_SCOPE
        } else {
            scope
        };
        let topic = self.topic.as_deref()?;
        if topic.strip_prefix("sync:")? != scope {
            return None;
        }
        let data = self.data.as_ref()?;
        data.get("cursor")
            .or_else(|| data.get("payload").and_then(|p| p.get("cursor")))
            .and_then(Value::as_u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_a_mutation_with_exactly_the_allowed_keys() {
        let m = Mutation {
            id: "m1".into(),
            scope: String::new(),
            name: "todo.create".into(),
            args: None,
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"id":"m1","name":"todo.create"})
        );
        let m = Mutation {
            scope: "s".into(),
            args: Some(json!({"id":"a"})),
            ..m
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"id":"m1","scope":"s","name":"todo.create","args":{"id":"a"}})
        );
    }

    #[test]
    fn rejects_unknown_request_fields_and_accepts_unknown_response_fields() {
        assert!(serde_json::from_str::<PullRequest>(r#"{"cursor":1,"x":2}"#).is_err());
        let r: PullResponse =
            serde_json::from_str(r#"{"changes":null,"has_more":false,"extra":1}"#).unwrap();
        assert_eq!(r.changes, None);
    }

    #[test]
    fn reads_a_pull_page_with_raw_data_as_the_tree_page_reads_it() {
        let text = r#"{"changes":[{"cursor":3,"scope":"s","time":"t","data":{"b": [1, 2],"a":"x"}},
            {"cursor":4,"data":null},{"cursor":5}],"has_more":true,"next_cursor":5,"extra":1}"#;
        let raw: RawPullResponse = serde_json::from_str(text).unwrap();
        let tree: PullResponse = serde_json::from_str(text).unwrap();
        let changes = raw.changes.as_ref().unwrap();
        assert_eq!(
            changes[0].data.as_ref().unwrap().get(),
            r#"{"b": [1, 2],"a":"x"}"#
        );
        assert!(changes[1].data.is_none() && changes[2].data.is_none());
        let parsed: Vec<Change> = changes.iter().map(|c| c.to_change().unwrap()).collect();
        let mut expected = tree.changes.clone().unwrap();
        expected[1].data = None;
        assert_eq!(parsed, expected);
        assert_eq!((raw.has_more, raw.next_cursor), (true, Some(5)));
        let back: RawPullResponse = tree.into();
        assert_eq!(
            back.changes.unwrap()[0].data.as_ref().unwrap().get(),
            r#"{"a":"x","b":[1,2]}"#
        );
        assert!(serde_json::from_str::<RawPullResponse>(
            r#"{"changes":[{"cursor":1,"data":{"a":}}]}"#
        )
        .is_err());
    }

    #[test]
    fn reads_push_results_without_their_changes() {
        let text = r#"{"results":[{"ok":true,"cursor":7,"changes":[{"cursor":7,"data":{"x":[1]}}]},
            {"ok":false,"error":"no"}]}"#;
        let lean: PushResponse = serde_json::from_str::<LeanPushResponse>(text)
            .unwrap()
            .into();
        let mut full: PushResponse = serde_json::from_str(text).unwrap();
        full.results[0].changes = None;
        assert_eq!(lean, full);
        assert!(serde_json::from_str::<LeanPushResponse>(r#"{"results":[{"cursor":1}]}"#).is_err());
    }

    #[test]
    fn reads_the_live_cursor_at_both_places() {
        let e: LiveEnvelope =
            serde_json::from_str(r#"{"topic":"sync:s","data":{"cursor":7}}"#).unwrap();
        assert_eq!(e.sync_cursor("s"), Some(7));
        assert_eq!(e.sync_cursor("t"), None);
        let e: LiveEnvelope =
            serde_json::from_str(r#"{"topic":"sync:_default","data":{"payload":{"cursor":9}}}"#)
                .unwrap();
        assert_eq!(e.sync_cursor(""), Some(9));
    }
}
