//! Tests of the store, against both backends (memory and real SQLite files in temp dirs).

mod corruption;
mod overlay;
mod persistence;
mod threads;
mod throughput;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;

use super::Store;
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText};
use crate::protocol::wire::Mutation;

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "mizu-store-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` against an in-memory store and against a fresh store file.
fn on_both_backends(name: &str, test: impl Fn(&Store)) {
    test(&Store::open_in_memory());
    let dir = TempDir::new(name);
    test(&Store::open(&dir.path("store.db")).unwrap());
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
    let path = dir.path("store.db");
    let store = Store::open(&path).unwrap();
    (path, store)
}

fn reopen(path: &Path, store: Store) -> Store {
    drop(store);
    Store::open(path).unwrap()
}
