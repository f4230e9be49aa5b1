//! Entity-level changes: what the data codec turns server changes and snapshots into, and what
//! the store applies. Values are kept as compact JSON text (readers deserialize into their own
//! types, and the FFI passes JSON strings anyway).

use std::collections::BTreeMap;
use std::sync::Arc;

/// A value as compact JSON text, shared cheaply between the store, readers and events.
pub type JsonText = Arc<str>;

/// What happened to one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityOp {
    /// The entity was created (or replaced wholesale).
    Create,
    /// The entity's value was replaced.
    Update,
    /// The entity was removed.
    Delete,
}

impl EntityOp {
    /// The op's name on the wire and in mutation names (`create`, `update`, `delete`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityOp::Create => "create",
            EntityOp::Update => "update",
            EntityOp::Delete => "delete",
        }
    }

    /// Parses `create` / `update` / `delete`.
    pub fn parse(s: &str) -> Option<EntityOp> {
        match s {
            "create" => Some(EntityOp::Create),
            "update" => Some(EntityOp::Update),
            "delete" => Some(EntityOp::Delete),
            _ => None,
        }
    }
}

/// Identifies an entity: its collection and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    /// Collection name, e.g. `todo`.
    pub collection: String,
    /// Entity id, unique within the collection.
    pub id: String,
}

impl EntityKey {
    /// Builds a key.
    pub fn new(collection: impl Into<String>, id: impl Into<String>) -> Self {
        EntityKey {
            collection: collection.into(),
            id: id.into(),
        }
    }
}

/// One change to one entity (from the server, or the optimistic effect of a local write).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityChange {
    /// Which entity.
    pub key: EntityKey,
    /// What happened.
    pub op: EntityOp,
    /// The new value for create/update; `None` for delete.
    pub value: Option<JsonText>,
}

/// The decoded state of a whole scope: collection → id → value.
pub type SnapshotData = BTreeMap<String, BTreeMap<String, JsonText>>;
