//! What the clients did, as the test saw it: every write that left a client's API call as a
//! queued mutation ([`Ledger`], fed by a [`RecordingCodec`]), every app-defined mutation with its
//! id, and every rejection and error the clients reported.

use std::sync::{Arc, Mutex, PoisonError};

use mizu_sync::protocol::codec::{Codec, CodecError, DefaultCodec};
use mizu_sync::protocol::entity::{EntityChange, SnapshotData};
use mizu_sync::protocol::wire::Change;
use mizu_sync::Error;
use serde_json::Value;

/// One queued mutation of a client, as written on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// The mutation id, known for app-defined mutations only (collection writes do not return
    /// it).
    pub id: Option<String>,
    pub name: String,
    pub args: Option<Value>,
}

/// The mutations one client queued, in order.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Collection writes the codec encoded and no call has claimed yet.
    encoded: Mutex<Vec<Queued>>,
    queued: Mutex<Vec<Queued>>,
}

impl Ledger {
    /// Records the outcome of one collection write made on the only thread that writes to this
    /// client: when the call succeeded and encoded anything, the last thing it encoded was
    /// queued (a write encodes again when the entity appeared or vanished meanwhile).
    pub fn collection_write<T>(&self, result: &Result<T, Error>) {
        let last = std::mem::take(&mut *lock(&self.encoded)).pop();
        if let (Ok(_), Some(last)) = (result, last) {
            lock(&self.queued).push(last);
        }
    }

    /// Records an app-defined mutation queued with `Client::mutate`.
    pub fn app_mutation(&self, id: String, name: &str, args: Value) {
        lock(&self.queued).push(Queued {
            id: Some(id),
            name: name.to_owned(),
            args: Some(args),
        });
    }

    pub fn queued(&self) -> Vec<Queued> {
        lock(&self.queued).clone()
    }
}

/// The default codec, recording every collection write it encodes into a [`Ledger`].
pub struct RecordingCodec {
    pub ledger: Arc<Ledger>,
}

impl Codec for RecordingCodec {
    fn encode_write(&self, change: &EntityChange) -> Result<(String, Option<Value>), CodecError> {
        let (name, args) = DefaultCodec.encode_write(change)?;
        lock(&self.ledger.encoded).push(Queued {
            id: None,
            name: name.clone(),
            args: args.clone(),
        });
        Ok((name, args))
    }

    fn decode_change(&self, change: &Change) -> Result<Vec<EntityChange>, CodecError> {
        DefaultCodec.decode_change(change)
    }

    fn decode_snapshot(&self, data: &Value) -> Result<SnapshotData, CodecError> {
        DefaultCodec.decode_snapshot(data)
    }
}

/// A mutation a client reported as rejected by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub mutation_id: String,
    pub name: String,
    pub reason: String,
}

/// Everything the clients reported through `on_error`.
#[derive(Debug, Default)]
pub struct Reports {
    rejections: Mutex<Vec<Rejection>>,
    /// Other errors, by their display text's first word (`network:`, `timed`, ...).
    others: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Reports {
    /// An `on_error` callback feeding these reports.
    pub fn callback(self: &Arc<Self>) -> impl Fn(&Error) + Send + Sync + 'static {
        let reports = self.clone();
        move |e: &Error| match e {
            Error::Rejected {
                mutation_id,
                name,
                reason,
            } => lock(&reports.rejections).push(Rejection {
                mutation_id: mutation_id.clone(),
                name: name.clone(),
                reason: reason.clone(),
            }),
            other => {
                let kind = match other {
                    Error::Network(_) => "network",
                    Error::Timeout => "timeout",
                    Error::Server { .. } => "server",
                    Error::MalformedResponse(_) => "malformed response",
                    _ => "other",
                };
                *lock(&reports.others).entry(kind.to_owned()).or_default() += 1;
            }
        }
    }

    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.rejections).clone()
    }

    /// Reported errors other than rejections, by kind.
    pub fn others(&self) -> std::collections::BTreeMap<String, u64> {
        lock(&self.others).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
