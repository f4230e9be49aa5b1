//! Tests of the store, against both backends (memory and real SQLite files in temp dirs).

mod arrival;
mod corruption;
mod overlay;
mod persistence;
mod staging;
mod threads;

use mizu_test_support::{temp_dir, TempDir};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::Store;
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText};
use crate::protocol::wire::Mutation;

/// Runs `test` against an in-memory store and against a fresh store file.
fn on_both_backends(name: &str, test: impl Fn(&Store)) {
    test(&Store::open_in_memory());
    let dir = temp_dir(name);
    test(&Store::open(&dir.path().join("store.db")).unwrap());
}

fn key(collection: &str, id: &str) -> EntityKey {
    EntityKey::new(collection, id)
}

fn text(json: serde_json::Value) -> JsonText {
    json.to_string().into()
}

/// A change as the codec would produce it: `op` on `collection/id` with value `value`.
fn change(
    op: EntityOp,
    collection: &str,
    id: &str,
    value: Option<serde_json::Value>,
) -> EntityChange {
    EntityChange {
        key: key(collection, id),
        op,
        value: value.map(text),
    }
}

fn upsert(collection: &str, id: &str, value: serde_json::Value) -> EntityChange {
    change(EntityOp::Update, collection, id, Some(value))
}

fn delete(collection: &str, id: &str) -> EntityChange {
    change(EntityOp::Delete, collection, id, None)
}

/// The default-convention mutation for `change`, with mutation id `id`.
fn mutation_for(id: &str, change: &EntityChange) -> Mutation {
    let mut args = json!({ "id": change.key.id });
    if let Some(value) = &change.value {
        args["data"] = serde_json::from_str(value).unwrap();
    }
    Mutation {
        id: id.into(),
        scope: String::new(),
        name: format!("{}.{}", change.key.collection, change.op.as_str()),
        args: Some(args),
    }
}

/// Enqueues `change` under mutation id `id`.
fn write(store: &Store, id: &str, change: EntityChange) -> super::Changed {
    store
        .enqueue(mutation_for(id, &change), Some(change))
        .unwrap()
        .1
}

fn value(store: &Store, collection: &str, id: &str) -> Option<serde_json::Value> {
    store
        .get(&key(collection, id))
        .map(|v| serde_json::from_str(&v).unwrap())
}

fn file_of(dir: &TempDir) -> (PathBuf, Store) {
    let path = dir.path().join("store.db");
    let store = Store::open(&path).unwrap();
    (path, store)
}

fn reopen(path: &Path, store: Store) -> Store {
    drop(store);
    Store::open(path).unwrap()
}
