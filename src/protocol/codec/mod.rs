//! The data codec: the pluggable mapping between entity-level changes and the app's wire shapes.
//!
//! The mizu server leaves the shape of mutation args, change data and snapshot data to the app.
//! A [`Codec`] maps a local collection write to a mutation, a server [`Change`] to the
//! [`EntityChange`]s it carries, and a snapshot's data to [`SnapshotData`]. [`DefaultCodec`]
//! implements this project's convention (see `PROTOCOL.md`, "The data convention").
//!
//! # What happens to data a codec cannot decode
//!
//! A codec reports malformed data as a [`CodecError`]; it never panics. The sync machine then:
//!
//! - for a change: emits an error event naming the change's cursor and the reason, skips that one
//!   change, applies the others of the page, and still advances the cursor past it. A change in the
//!   server's log never changes, so stopping on it would wedge every later pull forever; skipping
//!   it with an event keeps the client live and tells the app exactly what it missed.
//! - for a snapshot: emits an error event and keeps its current base (a snapshot is all or
//!   nothing); the next pull attempt (interval, `sync()`, live notice) tries again.

mod default;

pub use default::DefaultCodec;

use serde_json::value::RawValue;
use serde_json::Value;

use super::entity::{EntityChange, JsonText, SnapshotData};
use super::wire::{Change, RawChange};

/// Maps between entity-level changes and the app's wire shapes.
///
/// Implementations must be pure (no I/O) and must return a [`CodecError`] rather than panic on
/// any input: change and snapshot data come from the network.
///
/// # Threading
///
/// A codec is shared by the sync engine's threads, hence `Send + Sync`.
pub trait Codec: Send + Sync + 'static {
    /// The mutation (name, args) that carries a local collection write.
    ///
    /// # Errors
    ///
    /// [`CodecError`] when the change cannot be expressed (e.g. an empty id, a create without a
    /// value, a value that is not JSON).
    fn encode_write(&self, change: &EntityChange) -> Result<(String, Option<Value>), CodecError>;

    /// [`encode_write`](Self::encode_write) for a write whose value the library has already
    /// parsed: `value`, when given, is `change.value` as a JSON tree (the same JSON), which a
    /// codec may move into the mutation's args instead of parsing the text again. The default
    /// ignores it and calls `encode_write`.
    ///
    /// # Errors
    ///
    /// As [`encode_write`](Self::encode_write).
    fn encode_write_parsed(
        &self,
        change: &EntityChange,
        value: Option<Value>,
    ) -> Result<(String, Option<Value>), CodecError> {
        let _ = value;
        self.encode_write(change)
    }

    /// The entity changes carried by one server change; empty for changes the codec ignores.
    ///
    /// # Errors
    ///
    /// [`CodecError`] when the change's data is malformed for this codec.
    fn decode_change(&self, change: &Change) -> Result<Vec<EntityChange>, CodecError>;

    /// [`decode_change`](Self::decode_change) for a change whose data is still raw JSON text,
    /// as the client reads pull pages: a codec may decode straight from the text instead of
    /// building a tree. The default parses the data into a tree and calls `decode_change`.
    ///
    /// # Errors
    ///
    /// As [`decode_change`](Self::decode_change); [`CodecError::InvalidJson`] for data nested
    /// deeper than the parser's recursion limit.
    fn decode_raw_change(&self, change: &RawChange) -> Result<Vec<EntityChange>, CodecError> {
        decode_through_tree(self, change)
    }

    /// Whether every value this codec's decode methods return is one valid JSON text, so the
    /// store need not parse it again to check. `false` (the default) has the store check each
    /// value; return `true` only when the values come from a JSON serializer or a validated
    /// parse, never from string building.
    fn values_are_valid_json(&self) -> bool {
        false
    }

    /// The whole synced state from a snapshot's data.
    ///
    /// # Errors
    ///
    /// [`CodecError`] when the data is malformed for this codec; a snapshot is all or nothing.
    fn decode_snapshot(&self, data: &Value) -> Result<SnapshotData, CodecError>;

    /// One entity of a snapshot the client streams: the client reads the snapshot's `data` in
    /// the `{"COLLECTION":{"ID":VALUE,...},...}` layout incrementally (never as one tree) and
    /// asks for each entity's stored text, given the value's raw JSON text. The default is
    /// [`DefaultCodec`]'s rule: collection and id not empty, the value not `null`, kept as
    /// compact JSON text (nested at most [`MAX_SNAPSHOT_VALUE_DEPTH`] levels).
    /// [`decode_snapshot`](Self::decode_snapshot) remains the whole-tree form, used by hosts
    /// that drive the sans-IO machine with [`Input::Snapshotted`](super::machine::Input).
    ///
    /// # Errors
    ///
    /// [`CodecError`] when the entity is malformed for this codec; the snapshot is then not
    /// used (all or nothing).
    fn decode_snapshot_entity(
        &self,
        collection: &str,
        id: &str,
        value: &RawValue,
    ) -> Result<JsonText, CodecError> {
        default::snapshot_entity(collection, id, value)
    }
}

/// Deepest nesting of arrays and objects accepted in one streamed snapshot value (serde_json's
/// own recursion limit for parsing a value).
pub const MAX_SNAPSHOT_VALUE_DEPTH: usize = 128;

/// [`Codec::decode_raw_change`] the long way: `change`'s data parsed into a tree, then
/// [`Codec::decode_change`] (the default, and every codec's fallback for unusual input).
pub(crate) fn decode_through_tree<C: Codec + ?Sized>(
    codec: &C,
    change: &RawChange,
) -> Result<Vec<EntityChange>, CodecError> {
    let parsed = change.to_change().map_err(|e| CodecError::InvalidJson {
        key: format!("change data at cursor {}", change.cursor),
        reason: e.to_string(),
    })?;
    codec.decode_change(&parsed)
}

/// Why a codec could not map a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A value that must be a JSON object is something else.
    #[error("{what} must be a JSON object, found {found}")]
    NotAnObject {
        /// What was being decoded, e.g. `change data`.
        what: &'static str,
        /// The JSON type found instead (`array`, `string`, ...).
        found: &'static str,
    },
    /// A required field is absent (or `null`).
    #[error("{what} has no `{field}`")]
    MissingField {
        /// What was being decoded.
        what: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{field}` of {what} must be {expected}, found {found}")]
    WrongType {
        /// What was being decoded.
        what: &'static str,
        /// The offending field.
        field: &'static str,
        /// The expected type, e.g. `a string`.
        expected: &'static str,
        /// The JSON type found instead.
        found: &'static str,
    },
    /// A string field that must not be empty is empty (collection names, ids).
    #[error("`{field}` of {what} is empty")]
    Empty {
        /// What was being decoded or encoded.
        what: &'static str,
        /// The empty field.
        field: &'static str,
    },
    /// The `op` of a change is not `create`, `update` or `delete`.
    #[error("unknown op `{0}` (expected create, update or delete)")]
    UnknownOp(String),
    /// A snapshot entity or a local value is JSON `null`, or a create/update has no value.
    #[error("{key} has no value")]
    MissingValue {
        /// `collection/id` of the entity.
        key: String,
    },
    /// A snapshot holds the same collection/id twice.
    #[error("the snapshot holds {key} twice")]
    DuplicateEntity {
        /// `collection/id` of the entity.
        key: String,
    },
    /// One snapshot entity (its id and value, read whole) took more than `limit` bytes of
    /// the body: no server stores such a value, and holding it would cost that much memory.
    #[error("a snapshot entity in {collection} is larger than {limit} bytes")]
    EntityTooLarge {
        /// The collection it was in.
        collection: String,
        /// The most bytes one entity may take.
        limit: u64,
    },
    /// A local value is not valid JSON text.
    #[error("value of {key} is not valid JSON: {reason}")]
    InvalidJson {
        /// `collection/id` of the entity.
        key: String,
        /// The parser's message.
        reason: String,
    },
}

/// The name of a JSON value's type, for error messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
