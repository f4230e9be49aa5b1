//! The streamed snapshot: the `/snapshot` body decoded as it arrives and staged in the store.
//!
//! The body `{"data":{"COLLECTION":{"ID":VALUE,...},...},"cursor":N}` is read through a window
//! of its bytes (`body.rs`): serde_json parses each key and value in place, and each entity's
//! value, as raw JSON text (`&RawValue`) borrowed from the window, is handed to the codec
//! ([`Codec::decode_snapshot_entity`]) and staged ([`Store::stage_entity`]). No tree of the
//! response is ever built: memory holds the staged base (the base the store keeps afterwards)
//! and the window (64 KiB, more only while one longer value is read). The staging is swapped
//! in only once the whole body was read ([`Store::commit_snapshot`]), so a failure at any point
//! keeps the old base.
//!
//! One entity is held whole while it is read (its id, and its value as raw text), so one
//! entity may take at most [`MAX_SNAPSHOT_ENTITY_BYTES`] of the body: a longer one stops the
//! download with [`CodecError::EntityTooLarge`], and a hostile or broken server cannot make a
//! single value cost unbounded memory. The whole body may be as large as it is (or as
//! `max_snapshot_bytes` allows).
//!
//! A file store's full batches ([`SnapshotStaging::take_full_batch`]) are written by a second
//! thread while the body is decoded: decoding and SQLite overlap, and at most one batch waits
//! between them, so memory stays bounded.

mod body;

use std::io::Read;
use std::sync::mpsc::{self, SyncSender};

use serde_json::value::RawValue;

use crate::protocol::codec::{Codec, CodecError};
use crate::protocol::machine::{SnapshotFailure, StagedSnapshot};
use crate::store::{SnapshotStaging, StagingBatch, Store};
use body::{decode_body, Halt, Progress};

/// The most bytes of a snapshot body one entity (its id and value) may take, give or take the
/// reader's buffer: 64 times the largest push body the mizu server accepts.
pub(crate) const MAX_SNAPSHOT_ENTITY_BYTES: u64 = 64 * 1024 * 1024;

/// Decodes a snapshot body from `body` into a new staging of `store`. On success the staging
/// holds the whole snapshot (not yet in use); on failure it was abandoned.
pub(crate) fn stage_snapshot(
    body: &mut dyn Read,
    store: &Store,
    codec: &dyn Codec,
    limit: Option<u64>,
) -> (
    Result<StagedSnapshot, SnapshotFailure>,
    Option<SnapshotStaging>,
) {
    let staging = match store.begin_snapshot() {
        Ok(staging) => staging,
        Err(e) => return (Err(SnapshotFailure::Storage(e.to_string())), None),
    };
    let (outcome, staging) = if staging.writes_to_file() {
        std::thread::scope(|scope| {
            let (batches, to_write) = mpsc::sync_channel::<StagingBatch>(1);
            let writer = std::thread::Builder::new()
                .name("mizu-sync-stage".into())
                .spawn_scoped(scope, move || {
                    to_write
                        .into_iter()
                        .try_for_each(|batch| store.write_staging_batch(batch))
                });
            let writer = match writer {
                Ok(writer) => writer,
                Err(e) => {
                    let failure = SnapshotFailure::Storage(format!("cannot start a thread: {e}"));
                    return (Err(failure), staging);
                }
            };
            let (decoded, staging) = decode(body, store, codec, staging, Some(batches), limit);
            // The writer's own error, when it stopped the decoding (the sink only saw the
            // channel close), or when it failed on the last batch.
            let written = match writer.join() {
                Ok(written) => written.map_err(|e| e.to_string()),
                Err(_) => Err("the snapshot writer panicked".to_owned()),
            };
            let outcome = match (decoded, written) {
                (_, Err(e)) => Err(SnapshotFailure::Storage(e)),
                (decoded, Ok(())) => decoded,
            };
            (outcome, staging)
        })
    } else {
        // A memory store keeps only the model: nothing to write, no writer thread.
        decode(body, store, codec, staging, None, limit)
    };
    match outcome {
        Ok(staged) => (Ok(staged), Some(staging)),
        Err(failure) => {
            store.abandon_snapshot(staging);
            (Err(failure), None)
        }
    }
}

/// Decodes the body into `staging`, handing full batches to `batches` (a file store's writer);
/// gives the staged snapshot's cursor and size, or why it stopped.
fn decode(
    body: &mut dyn Read,
    store: &Store,
    codec: &dyn Codec,
    staging: SnapshotStaging,
    batches: Option<SyncSender<StagingBatch>>,
    limit: Option<u64>,
) -> (Result<StagedSnapshot, SnapshotFailure>, SnapshotStaging) {
    let progress = Progress::default();
    let mut sink = Sink {
        store,
        codec,
        staging,
        batches,
        failure: None,
        progress: &progress,
    };
    let decoded = decode_body(body, &mut sink, limit);
    // Dropping the sender ends the writer once it has written what it was sent.
    let Sink {
        staging, failure, ..
    } = sink;
    let outcome = match decoded {
        Ok(cursor) => Ok(StagedSnapshot {
            cursor,
            entities: staging.entities(),
        }),
        Err(e) => Err(failure.unwrap_or_else(|| e.into_failure(limit))),
    };
    (outcome, staging)
}

/// Where decoded entities go, and the typed reason a visitor stopped.
struct Sink<'a> {
    store: &'a Store,
    codec: &'a dyn Codec,
    staging: SnapshotStaging,
    /// To the thread writing full batches; `None` once it stopped.
    batches: Option<SyncSender<StagingBatch>>,
    failure: Option<SnapshotFailure>,
    progress: &'a Progress,
}

impl Sink<'_> {
    /// Stops the decoding with `failure`.
    fn fail(&mut self, failure: SnapshotFailure) -> Halt {
        self.failure = Some(failure);
        Halt::Sink
    }

    fn entity(&mut self, collection: &str, id: String, raw: &RawValue) -> Result<(), Halt> {
        let value = match self.codec.decode_snapshot_entity(collection, &id, raw) {
            Ok(value) => value,
            Err(e) => return Err(self.fail(SnapshotFailure::Codec(e))),
        };
        if let Err(id) = self
            .store
            .stage_entity(&mut self.staging, collection, id, value)
        {
            return Err(
                self.fail(SnapshotFailure::Codec(CodecError::DuplicateEntity {
                    key: format!("{collection}/{id}"),
                })),
            );
        }
        self.progress.mark();
        let Some(batch) = self.staging.take_full_batch() else {
            return Ok(());
        };
        let sent = self.batches.as_ref().map(|batches| batches.send(batch));
        match sent {
            Some(Ok(())) => Ok(()),
            // The writer stopped on an error, which the caller takes from it.
            _ => {
                self.batches = None;
                Err(Halt::Sink)
            }
        }
    }
}

#[cfg(test)]
mod tests;
