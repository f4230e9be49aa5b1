//! Local state: the synced base plus the pending local mutations, in memory or in SQLite.
//!
//! The *visible* state of a collection is the synced base (what the server said, as of the
//! cursor) with the optimistic effects of the pending mutations applied on top, in enqueue order:
//! a create or update sets the value, a delete removes it, an app-defined mutation (no effect)
//! changes nothing locally. Values are compact JSON text ([`JsonText`]). Every write returns a
//! [`Changed`]: exactly the keys whose visible value changed, so the client layer can wake only
//! the readers of those keys.
//!
//! # Durability
//! With a file ([`Store::open`]) every write is one SQLite transaction, committed (and fsynced)
//! before the call returns: the queued mutation with its optimistic effect; the server's changes
//! with the cursor that covers them; a snapshot with its cursor. A process killed at any instant
//! reopens to exactly the last committed state. The in-memory model is updated only after the
//! commit, so a failed write returns an [`Error`] and changes nothing.
//!
//! # Memory
//! One copy of each value: the base map, plus an overlay holding only the keys that pending
//! mutations touch (sharing the pending mutations' `Arc<str>` values). Collections are
//! `BTreeMap`s, so listings come out sorted by id without sorting.
//!
//! # Threading
//! [`Store`] is `Send + Sync`; share it in an `Arc`. Writes are serialized; reads never wait for a
//! write's disk I/O, only for its short in-memory update.

mod durability;
mod error;
mod memory;
mod schema;
mod sqlite;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{
    Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};
use crate::protocol::wire::Mutation;

pub use durability::Durability;
pub use error::{Error, Result};
use memory::Memory;
use sqlite::Db;

/// A queued local mutation.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMutation {
    /// Position in the queue: increases with every enqueue and is never reused by this store.
    pub seq: u64,
    /// The mutation as it will be pushed.
    pub mutation: Mutation,
    /// `mutation` as compact JSON text, encoded once when it was queued: what a push sends (and
    /// what the store file keeps), so pushing a batch copies no tree.
    pub encoded: JsonText,
    /// Its optimistic effect on local state; `None` for app-defined mutations (no local effect).
    pub change: Option<EntityChange>,
}

impl PendingMutation {
    /// Encodes `mutation` as the JSON text a push sends.
    ///
    /// # Errors
    /// [`Error::Encode`] (not for mutations built from JSON values, whose keys are strings).
    pub fn encode(mutation: &Mutation) -> Result<JsonText> {
        serde_json::to_string(mutation)
            .map(JsonText::from)
            .map_err(|source| Error::Encode {
                id: mutation.id.clone(),
                source,
            })
    }
}

/// What a store operation changed in the visible state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// The keys whose visible value differs (compared as text) before and after, ascending.
    pub keys: Vec<EntityKey>,
    /// The collections whose set of visible ids changed (an entity appeared or vanished),
    /// ascending.
    pub collections: Vec<String>,
    /// The collections that arrived whole, ascending: a snapshot brought at least
    /// [`ARRIVAL_MIN_ENTITIES`] entities of a collection that had no visible entity before, so
    /// every entity it shows now appeared (none is listed in `keys`). Telling of a
    /// million-entity bootstrap this way costs nothing per entity.
    pub arrived: Vec<String>,
}

/// The size from which a collection new to the store is told of as [`Changed::arrived`]
/// rather than key by key.
pub const ARRIVAL_MIN_ENTITIES: usize = 256;

impl Changed {
    /// Whether nothing visible changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.collections.is_empty() && self.arrived.is_empty()
    }

    /// Adds what `more` changed (keys and collections stay ascending and distinct).
    pub fn merge(&mut self, more: Changed) {
        fn union<T: Ord>(into: &mut Vec<T>, more: Vec<T>) {
            if more.is_empty() {
                return;
            }
            into.extend(more);
            into.sort();
            into.dedup();
        }
        union(&mut self.keys, more.keys);
        union(&mut self.collections, more.collections);
        union(&mut self.arrived, more.arrived);
    }
}

/// What one transaction changed, with each changed key's visible value before it (parallel to
/// `changed.keys`); the value after is the view's. A collection in `changed.arrived` had no
/// visible entity before: every entity the view shows of it is new.
#[derive(Debug, Default)]
pub struct Delta {
    /// The keys and collections that changed.
    pub changed: Changed,
    /// `changed.keys[i]`'s visible value before the transaction (`None`: it did not exist).
    pub before: Vec<Option<JsonText>>,
}

/// Told of every transaction that changed visible state, in commit order, while the store's
/// state lock is held: the view shows the state right after the transaction, and no other
/// transaction or reader of the store can interleave. Implementations must be quick and must
/// never call host code or the store (the query layer keeps its indexes and live results here).
pub trait Observer: Send + Sync {
    /// Called once per transaction whose `delta` is not empty.
    fn on_transaction(&self, view: &View<'_>, delta: &Delta);
}

/// A read-only view of the visible state, lent under the store's lock
/// ([`Store::read_view`], [`Observer::on_transaction`]).
pub struct View<'a> {
    memory: &'a Memory,
}

impl<'a> View<'a> {
    /// The visible value of `collection`/`id`.
    pub fn get(&self, collection: &str, id: &str) -> Option<&'a JsonText> {
        self.memory.get_in(collection, id)
    }

    /// The visible entities of `collection`, ascending by id (byte order).
    pub fn entries(&self, collection: &str) -> impl Iterator<Item = (&'a String, &'a JsonText)> {
        self.memory.visible(collection)
    }
}

/// The local store: synced base, pending queue, cursor, client id and metadata.
///
/// See the [module docs](self) for the model, durability and threading.
pub struct Store {
    /// Replaced by [`wipe`](Store::wipe).
    client_id: RwLock<String>,
    /// The file, for [`wipe`](Store::wipe); `None` in memory.
    path: Option<PathBuf>,
    /// Serializes writers; holds the file, if any. Taken before `state`, never after.
    writer: Mutex<Writer>,
    /// The read model, updated only after the file committed.
    state: RwLock<State>,
    /// Told of each transaction under the `state` write lock (see [`Observer`]).
    observer: OnceLock<Arc<dyn Observer>>,
}

struct Writer {
    db: Option<Db>,
    /// The file's encryption key, for [`Store::wipe`] to create the new file with.
    key: Option<String>,
    /// The file's durability mode, for [`Store::wipe`] to reopen the new file with.
    durability: Durability,
    /// The last seq handed out by an in-memory store (a file store asks SQLite).
    last_seq: u64,
    /// Set by [`Store::close`].
    closed: bool,
    /// Bumped by every [`Store::begin_snapshot`] and [`Store::wipe`]: a staging of another
    /// epoch is stale.
    staging_epoch: u64,
}

/// Rows buffered before one staging transaction (see [`Store::stage_entity`]).
const STAGING_BATCH_ROWS: usize = 4096;
/// Bytes of values buffered before one staging transaction.
const STAGING_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A snapshot being received, entity by entity, before it replaces the base in one step
/// ([`Store::begin_snapshot`], [`Store::stage_entity`], [`Store::commit_snapshot`]).
///
/// A file store writes the staged entities to a staging table in bounded transactions (at most
/// 4096 rows or 4 MiB of values each, see [`take_full_batch`](Self::take_full_batch)); the base
/// table, the in-memory model and every reader keep the old state until the commit swaps the
/// staging table in. A process killed before the commit reopens to the old state (the staging
/// table is dropped at open). The new base's in-memory model is built here as the entities
/// arrive (it is the base the store keeps after the commit).
#[derive(Debug)]
pub struct SnapshotStaging {
    epoch: u64,
    data: SnapshotData,
    batch: Vec<StagedRow>,
    batch_bytes: usize,
    /// The collection of the last staged row, shared by the rows of a batch.
    collection: Option<Arc<str>>,
    entities: u64,
    /// Whether staged rows go to a file (a memory store keeps only the model).
    to_file: bool,
}

impl SnapshotStaging {
    /// Whether staged rows are written to a file (through
    /// [`take_full_batch`](Self::take_full_batch)); a memory store keeps only the model.
    pub fn writes_to_file(&self) -> bool {
        self.to_file
    }

    /// The number of entities staged so far.
    pub fn entities(&self) -> u64 {
        self.entities
    }

    /// The number of collections staged so far.
    pub fn collections(&self) -> usize {
        self.data.len()
    }

    /// The rows staged since the last batch, once they are a full batch (4096 rows or 4 MiB of
    /// values), for [`Store::write_staging_batch`]; `None` before that, and always for a memory
    /// store. Writing batches as they fill keeps the staging's memory bounded; it may run on
    /// another thread than the decoding (the client does so), as batches of one staging are
    /// written in the order they were taken.
    pub fn take_full_batch(&mut self) -> Option<StagingBatch> {
        let full =
            self.batch.len() >= STAGING_BATCH_ROWS || self.batch_bytes >= STAGING_BATCH_BYTES;
        (self.to_file && full).then(|| self.take_batch())
    }

    fn take_batch(&mut self) -> StagingBatch {
        self.batch_bytes = 0;
        StagingBatch {
            epoch: self.epoch,
            rows: std::mem::take(&mut self.batch),
        }
    }
}

/// Who asked for a change of the queue: the server's answer, or the app.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Server,
    App,
}

/// One staged entity of a batch: collection, id, value.
type StagedRow = (Arc<str>, String, JsonText);

/// Rows of a [`SnapshotStaging`] to write to the staging table in one transaction
/// ([`Store::write_staging_batch`]).
#[derive(Debug)]
pub struct StagingBatch {
    epoch: u64,
    rows: Vec<StagedRow>,
}

struct State {
    memory: Memory,
    cursor: Option<u64>,
    meta: BTreeMap<String, String>,
    /// Queued mutations the server acknowledged, with their result cursors.
    acked: BTreeMap<String, u64>,
}

impl Store {
    /// A store that lives in memory only (no storage path): empty, never synced, new client id.
    pub fn open_in_memory() -> Store {
        Store::build(
            new_client_id(),
            None,
            None,
            None,
            Memory::default(),
            BTreeMap::new(),
            BTreeMap::new(),
        )
    }

    /// Opens the store file at `path`, creating it (and a new client id) if it does not exist,
    /// migrating an older schema, and restoring base, pending queue, cursor, client id and
    /// metadata.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for a file that is not a database or holds malformed rows,
    /// [`Error::SchemaTooNew`] for a file from a newer library, [`Error::Locked`] when another
    /// store (in any process) has the file open, [`Error::Sqlite`] for I/O and other failures.
    // The client opens with `open_with_key`; the store's own tests use this.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with_key(path, None)
    }

    /// [`open`](Self::open) with an encryption key: `Some(key)` opens (or creates) a file
    /// encrypted with SQLCipher under `key`; `None` is a plain SQLite file.
    ///
    /// # Errors
    /// As [`open`](Self::open), and [`Error::WrongKey`] when the file is encrypted and `key` is
    /// wrong or missing, or when a key is given for a plain file.
    pub fn open_with_key(path: &Path, key: Option<&str>) -> Result<Store> {
        Store::open_with(path, key, Durability::Full)
    }

    /// [`open_with_key`](Self::open_with_key) in the given [`Durability`] mode.
    ///
    /// # Errors
    /// As [`open_with_key`](Self::open_with_key).
    pub fn open_with(path: &Path, key: Option<&str>, durability: Durability) -> Result<Store> {
        let (db, loaded) = Db::open(path, key, durability, new_client_id)?;
        let memory = Memory::restore(loaded.base, loaded.pending);
        let store = Store::build(
            loaded.client_id,
            loaded.cursor,
            Some(path.to_owned()),
            Some(db),
            memory,
            loaded.meta,
            loaded.acked,
        );
        {
            let mut writer = store.write_lock();
            writer.key = key.map(str::to_owned);
            writer.durability = durability;
        }
        Ok(store)
    }

    fn build(
        client_id: String,
        cursor: Option<u64>,
        path: Option<PathBuf>,
        db: Option<Db>,
        memory: Memory,
        meta: BTreeMap<String, String>,
        acked: BTreeMap<String, u64>,
    ) -> Store {
        let last_seq = memory.pending().last().map_or(0, |p| p.seq);
        Store {
            client_id: RwLock::new(client_id),
            path,
            writer: Mutex::new(Writer {
                db,
                key: None,
                durability: Durability::Full,
                last_seq,
                closed: false,
                staging_epoch: 0,
            }),
            state: RwLock::new(State {
                memory,
                cursor,
                meta,
                acked,
            }),
            observer: OnceLock::new(),
        }
    }

    /// Sets the observer told of every later transaction (once; a second call is ignored and
    /// returns `false`).
    pub fn set_observer(&self, observer: Arc<dyn Observer>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Runs `f` with a view of the visible state, under the store's read lock: no transaction
    /// (and so no [`Observer`] call) can run meanwhile. `f` must not call host code or the store.
    pub fn read_view<R>(&self, f: impl FnOnce(&View<'_>) -> R) -> R {
        let state = self.read();
        f(&View {
            memory: &state.memory,
        })
    }

    /// Tells the observer of `delta`, under the state lock it was made in, and returns what changed.
    fn observed(&self, state: &State, delta: Delta) -> Changed {
        if let Some(observer) = self.observer.get() {
            if !delta.changed.keys.is_empty() || !delta.changed.arrived.is_empty() {
                observer.on_transaction(
                    &View {
                        memory: &state.memory,
                    },
                    &delta,
                );
            }
        }
        delta.changed
    }

    /// This installation's random id: generated on first open, then read back from the file.
    pub fn client_id(&self) -> String {
        self.client_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Deletes everything this store holds and starts it afresh with a new client id: a file
    /// store closes its file, deletes it with its `-wal` and `-shm` files, and creates a new
    /// one at the same path. Returns what vanished (every visible entity), told to the observer
    /// like any transaction.
    ///
    /// # Errors
    /// [`Error::Closed`]; [`Error::Sqlite`] when the files cannot be deleted or recreated (the
    /// store is then closed: nothing written afterwards could be durable).
    pub fn wipe(&self) -> Result<Changed> {
        let mut writer = self.open_writer()?;
        let client_id = match &self.path {
            Some(path) => {
                // Dropping the connection releases the file and its exclusive lock.
                writer.db = None;
                let key = writer.key.clone();
                let durability = writer.durability;
                let reopened = remove_files(path)
                    .and_then(|()| Db::open(path, key.as_deref(), durability, new_client_id));
                match reopened {
                    Ok((db, loaded)) => {
                        writer.db = Some(db);
                        loaded.client_id
                    }
                    Err(e) => {
                        writer.closed = true;
                        return Err(e);
                    }
                }
            }
            None => new_client_id(),
        };
        writer.last_seq = 0;
        writer.staging_epoch += 1;
        let mut state = self.write();
        let delta = state.memory.clear();
        state.cursor = None;
        state.meta.clear();
        state.acked.clear();
        *self
            .client_id
            .write()
            .unwrap_or_else(PoisonError::into_inner) = client_id;
        Ok(self.observed(&state, delta))
    }

    /// The ids of the pending mutations that touch `key`, oldest first.
    pub fn pending_ids_of(&self, key: &EntityKey) -> Vec<String> {
        self.read().memory.pending_ids_of(key)
    }

    /// Every pending mutation, oldest first.
    pub fn pending_all(&self) -> Vec<PendingMutation> {
        self.read().memory.pending().cloned().collect()
    }

    /// The pending mutation `mutation_id`, if queued.
    pub fn pending_by_id(&self, mutation_id: &str) -> Option<PendingMutation> {
        self.read().memory.pending_by_id(mutation_id).cloned()
    }

    /// The pull cursor: the server log position the base is as of; `None` when never synced
    /// (the client must bootstrap from a snapshot).
    pub fn cursor(&self) -> Option<u64> {
        self.read().cursor
    }

    /// Queues `mutation` with its optimistic effect `change` (`None` for an app-defined
    /// mutation), durably, in one transaction. Returns the mutation's seq and what became visible.
    ///
    /// A `change` with op `Delete` is stored without its value (a delete has none).
    ///
    /// # Errors
    /// [`Error::DuplicateMutation`] if a mutation with this id is pending, [`Error::InvalidChange`]
    /// for a create/update without a value or with a value that is not JSON, storage errors.
    pub fn enqueue(
        &self,
        mutation: Mutation,
        change: Option<EntityChange>,
    ) -> Result<(u64, Changed)> {
        let change = change.map(checked).transpose()?;
        let encoded = PendingMutation::encode(&mutation)?;
        let mut writer = self.open_writer()?;
        if self.read().memory.seq_of(&mutation.id).is_some() {
            return Err(Error::DuplicateMutation(mutation.id));
        }
        let seq = match &mut writer.db {
            Some(db) => db.enqueue(&mutation.id, &encoded, change.as_ref())?,
            None => writer.last_seq + 1,
        };
        writer.last_seq = seq;
        let pending = PendingMutation {
            seq,
            mutation,
            encoded,
            change,
        };
        let mut state = self.write();
        let delta = state.memory.push_pending(pending);
        Ok((seq, self.observed(&state, delta)))
    }

    /// The first `limit` pending mutations, oldest first.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn pending(&self, limit: usize) -> Vec<PendingMutation> {
        self.read().memory.pending().take(limit).cloned().collect()
    }

    /// What `take` makes of the first `limit` pending mutations from seq `from` on whose ids
    /// `skip` does not hold, oldest first, and the seq to start the next such read from: the
    /// first one returned, or past everything read when all of it was skipped. Only the
    /// returned mutations are looked at by `take` (a push takes their id, name and encoded
    /// text, not a clone of each). (The engine skips the acknowledged mutations still awaiting
    /// their pull, which can be most of a long queue.)
    pub fn pending_except<T>(
        &self,
        from: u64,
        limit: usize,
        skip: impl Fn(&str) -> bool,
        take: impl Fn(&PendingMutation) -> T,
    ) -> (Vec<T>, u64) {
        let state = self.read();
        let mut found = Vec::new();
        let mut next = from;
        for p in state.memory.pending_from(from) {
            if found.len() >= limit {
                break;
            }
            if skip(&p.mutation.id) {
                if found.is_empty() {
                    next = p.seq + 1;
                }
            } else {
                if found.is_empty() {
                    next = p.seq;
                }
                found.push(take(p));
            }
        }
        (found, next)
    }

    /// Runs `sql` on the store file's own connection (tests inject failures with triggers:
    /// the file is locked for any other connection).
    #[cfg(test)]
    pub(crate) fn execute_for_test(&self, sql: &str) {
        let mut writer = self.write_lock();
        let db = writer.db.as_mut().expect("a store file");
        db.execute_for_test(sql);
    }

    /// The ids of all pending mutations, oldest first.
    #[cfg(test)]
    pub fn pending_ids(&self) -> Vec<String> {
        let state = self.read();
        state
            .memory
            .pending()
            .map(|p| p.mutation.id.clone())
            .collect()
    }

    /// The number of pending mutations.
    pub fn pending_count(&self) -> usize {
        self.read().memory.pending_count()
    }

    /// Removes the mutations with these ids from the queue, whether the server acknowledged
    /// (`acked`) or rejected (`rejected`) them; ids not pending are ignored. Each affected key
    /// shows its remaining pending effects, or the base: a rejected optimistic effect disappears.
    ///
    /// An acknowledged effect also leaves the overlay, so the key shows the base until the pull
    /// that carries the server's change. To avoid a flicker back to the old value, apply that
    /// pull (via [`apply_remote`](Self::apply_remote)) before settling the acknowledgement.
    ///
    /// # Errors
    /// Storage errors; then nothing is removed.
    pub fn settle(&self, acked: &[String], rejected: &[String]) -> Result<Changed> {
        self.acknowledge(acked, rejected, &[])
    }

    /// [`settle`](Self::settle)s `settled` and `rejected`, and records that the server
    /// acknowledged the `awaiting` mutations (with their result cursors), which stay queued until
    /// the pull that carries their change: after a restart, [`acked`](Self::acked) names them,
    /// so they are not pushed again. One transaction.
    ///
    /// # Errors
    /// Storage errors; then nothing changes.
    pub fn acknowledge(
        &self,
        settled: &[String],
        rejected: &[String],
        awaiting: &[(String, u64)],
    ) -> Result<Changed> {
        self.remove_queued(settled, rejected, awaiting, Origin::Server)
    }

    /// Removes the queued mutations `ids` that the app gave up on, rolling back their effects as
    /// a rejection does; ids not pending are ignored. Unlike what the server sent (see
    /// [`acknowledge`](Self::acknowledge)), this commits in the store's own durability mode: a
    /// discard lost to a power cut would push the mutation after all.
    ///
    /// # Errors
    /// Storage errors; then nothing is removed.
    pub fn discard(&self, ids: &[String]) -> Result<Changed> {
        self.remove_queued(&[], ids, &[], Origin::App)
    }

    fn remove_queued(
        &self,
        settled: &[String],
        rejected: &[String],
        awaiting: &[(String, u64)],
        origin: Origin,
    ) -> Result<Changed> {
        let mut writer = self.open_writer()?;
        let (mut seqs, awaiting): (Vec<u64>, Vec<(String, u64)>) = {
            let state = self.read();
            let seqs = settled
                .iter()
                .chain(rejected)
                .filter_map(|id| state.memory.seq_of(id))
                .collect();
            let queued = awaiting
                .iter()
                .filter(|(id, _)| state.memory.seq_of(id).is_some())
                .cloned()
                .collect();
            (seqs, queued)
        };
        seqs.sort_unstable();
        seqs.dedup();
        if seqs.is_empty() && awaiting.is_empty() {
            return Ok(Changed::default());
        }
        if let Some(db) = &mut writer.db {
            // A lost acknowledgement only costs a push the server answers `ok` by id; a lost
            // rejection or discard would push the mutation again, and it might then apply.
            match origin {
                Origin::Server if rejected.is_empty() => db.settle(&seqs, &awaiting)?,
                Origin::Server | Origin::App => db.settle_durably(&seqs, &awaiting)?,
            }
        }
        let mut state = self.write();
        for id in settled.iter().chain(rejected) {
            state.acked.remove(id);
        }
        state.acked.extend(awaiting);
        let delta = state.memory.remove_pending(&seqs);
        Ok(self.observed(&state, delta))
    }

    /// The queued mutations the server acknowledged (see [`acknowledge`](Self::acknowledge)),
    /// with their result cursors.
    pub fn acked(&self) -> BTreeMap<String, u64> {
        self.read().acked.clone()
    }

    /// Applies the server's `changes` (in order) to the base and sets the cursor to
    /// `new_cursor`, in one transaction. Pending effects stay on top.
    ///
    /// # Errors
    /// [`Error::InvalidChange`] for a create/update without a JSON value (then nothing is
    /// applied), storage errors.
    pub fn apply_remote(&self, changes: &[EntityChange], new_cursor: u64) -> Result<Changed> {
        for change in changes {
            check(change)?;
        }
        self.apply_checked(changes, new_cursor)
    }

    /// [`apply_remote`](Self::apply_remote) for changes whose values the caller knows to be
    /// valid JSON text (a codec that vouches for it, see
    /// [`Codec::values_are_valid_json`](crate::protocol::codec::Codec::values_are_valid_json)):
    /// the values are not parsed again; a create or update without a value is still refused.
    ///
    /// # Errors
    /// As [`apply_remote`](Self::apply_remote).
    pub fn apply_remote_valid(&self, changes: &[EntityChange], new_cursor: u64) -> Result<Changed> {
        for change in changes {
            if change.op != EntityOp::Delete && change.value.is_none() {
                return Err(Error::InvalidChange {
                    key: change.key.clone(),
                    reason: format!("{} without a value", change.op.as_str()),
                });
            }
        }
        self.apply_checked(changes, new_cursor)
    }

    fn apply_checked(&self, changes: &[EntityChange], new_cursor: u64) -> Result<Changed> {
        let mut writer = self.open_writer()?;
        if let Some(db) = &mut writer.db {
            db.apply_remote(changes, new_cursor)?;
        }
        let mut state = self.write();
        state.cursor = Some(new_cursor);
        let delta = state.memory.apply_remote(changes);
        Ok(self.observed(&state, delta))
    }

    /// Replaces the whole base with `snapshot` and sets the cursor to `cursor`, in one
    /// transaction (bootstrap, and recovery from a cursor the server no longer has). Pending
    /// effects stay on top.
    ///
    /// # Errors
    /// [`Error::InvalidChange`] for a value that is not JSON (then nothing is replaced), storage
    /// errors.
    pub fn replace_base(&self, snapshot: SnapshotData, cursor: u64) -> Result<Changed> {
        for (collection, ids) in &snapshot {
            for (id, value) in ids {
                check_json(value).map_err(|err| Error::InvalidChange {
                    key: EntityKey::new(collection.as_str(), id.as_str()),
                    reason: format!("value is not JSON: {err}"),
                })?;
            }
        }
        let mut writer = self.open_writer()?;
        if let Some(db) = &mut writer.db {
            db.replace_base(&snapshot, cursor)?;
        }
        let mut state = self.write();
        state.cursor = Some(cursor);
        let delta = state.memory.replace_base(snapshot);
        Ok(self.observed(&state, delta))
    }

    /// Starts receiving a snapshot (see [`SnapshotStaging`]); a staging begun earlier and not
    /// committed is dropped.
    ///
    /// # Errors
    /// [`Error::Closed`], storage errors.
    pub fn begin_snapshot(&self) -> Result<SnapshotStaging> {
        let mut writer = self.open_writer()?;
        writer.staging_epoch += 1;
        if let Some(db) = &mut writer.db {
            db.begin_staging()?;
        }
        Ok(SnapshotStaging {
            epoch: writer.staging_epoch,
            data: SnapshotData::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            collection: None,
            entities: 0,
            to_file: writer.db.is_some(),
        })
    }

    /// Adds one entity to `staging`'s model and its next batch; `Err(id)` (and nothing
    /// staged) when `collection`/`id` is already staged. `value` must be JSON text (a codec's
    /// output). Nothing is written here: see [`SnapshotStaging::take_full_batch`].
    pub fn stage_entity(
        &self,
        staging: &mut SnapshotStaging,
        collection: &str,
        id: String,
        value: JsonText,
    ) -> std::result::Result<(), String> {
        let ids = match staging.data.get_mut(collection) {
            Some(ids) => ids,
            None => staging.data.entry(collection.to_owned()).or_default(),
        };
        let slot = match ids.entry(id) {
            std::collections::btree_map::Entry::Vacant(slot) => slot,
            std::collections::btree_map::Entry::Occupied(staged) => {
                return Err(staged.key().clone())
            }
        };
        staging.entities += 1;
        if staging.to_file {
            let id = slot.key().clone();
            staging.batch_bytes += value.len() + id.len();
            let shared = match &staging.collection {
                Some(shared) if **shared == *collection => shared.clone(),
                _ => staging.collection.insert(Arc::from(collection)).clone(),
            };
            staging.batch.push((shared, id, value.clone()));
        }
        slot.insert(value);
        Ok(())
    }

    /// Writes `batch` to the staging table, in one transaction.
    ///
    /// # Errors
    /// [`Error::InvalidChange`] when the staging is stale (another snapshot began, or the
    /// store was wiped), [`Error::Closed`], storage errors; then the staging is unusable.
    pub fn write_staging_batch(&self, batch: StagingBatch) -> Result<()> {
        let mut writer = self.open_writer()?;
        check_epoch(&writer, batch.epoch)?;
        if let Some(db) = &mut writer.db {
            db.stage(&batch.rows)?;
        }
        Ok(())
    }

    /// Replaces the whole base with the staged snapshot and sets the cursor to `cursor`, in one
    /// step: the staging table becomes the base table in one transaction, then the in-memory
    /// model swaps in the staged base. Pending effects stay on top. Readers see the old state
    /// until then, never a part of the new one.
    ///
    /// # Errors
    /// As [`write_staging_batch`](Self::write_staging_batch); then the base is unchanged.
    pub fn commit_snapshot(&self, mut staging: SnapshotStaging, cursor: u64) -> Result<Changed> {
        if staging.to_file && !staging.batch.is_empty() {
            self.write_staging_batch(staging.take_batch())?;
        }
        let mut writer = self.open_writer()?;
        check_epoch(&writer, staging.epoch)?;
        if let Some(db) = &mut writer.db {
            db.swap_staged(cursor)?;
        }
        writer.staging_epoch += 1;
        let mut state = self.write();
        state.cursor = Some(cursor);
        let delta = state.memory.replace_base(staging.data);
        Ok(self.observed(&state, delta))
    }

    /// Drops `staging` without using it (a failed or refused download).
    pub fn abandon_snapshot(&self, staging: SnapshotStaging) {
        let mut writer = self.write_lock();
        if writer.closed || writer.staging_epoch != staging.epoch {
            return;
        }
        writer.staging_epoch += 1;
        if let Some(db) = &mut writer.db {
            // Best effort: a table left behind is dropped by the next staging or open.
            let _ = db.drop_staging();
        }
    }

    /// The visible value of `key`.
    pub fn get(&self, key: &EntityKey) -> Option<JsonText> {
        self.read().memory.get(key).cloned()
    }

    /// Whether `key` is visible.
    pub fn has(&self, key: &EntityKey) -> bool {
        self.read().memory.get(key).is_some()
    }

    /// The visible entities of `collection` as `(id, value)`, ascending by id (byte order).
    pub fn all(&self, collection: &str) -> Vec<(String, JsonText)> {
        let state = self.read();
        let visible = state.memory.visible(collection);
        visible
            .map(|(id, value)| (id.clone(), value.clone()))
            .collect()
    }

    /// The visible ids of `collection`, ascending (byte order).
    pub fn ids(&self, collection: &str) -> Vec<String> {
        let state = self.read();
        let visible = state.memory.visible(collection);
        visible.map(|(id, _)| id.clone()).collect()
    }

    /// The number of visible entities in `collection`.
    pub fn count(&self, collection: &str) -> usize {
        self.read().memory.count(collection)
    }

    /// A metadata value stored with [`meta_set`](Self::meta_set).
    #[allow(dead_code)] // Small app metadata persisted with the store; only tests use it so far.
    pub fn meta_get(&self, key: &str) -> Option<String> {
        self.read().meta.get(key).cloned()
    }

    /// Stores (`Some`) or removes (`None`) a small metadata value, durably.
    ///
    /// # Errors
    /// Storage errors; then nothing changes.
    #[allow(dead_code)] // See `meta_get`.
    pub fn meta_set(&self, key: &str, value: Option<&str>) -> Result<()> {
        let mut writer = self.open_writer()?;
        if let Some(db) = &mut writer.db {
            db.set_meta(key, value)?;
        }
        let mut state = self.write();
        match value {
            Some(value) => state.meta.insert(key.to_owned(), value.to_owned()),
            None => state.meta.remove(key),
        };
        Ok(())
    }

    /// Re-encrypts the store file with `new_key` (the old key stops opening it). Waits for the
    /// write in progress, if any.
    ///
    /// # Errors
    /// [`Error::NotEncrypted`] for a store opened without a key or in memory; [`Error::Closed`];
    /// SQLite errors (then the file keeps its old key).
    pub fn rekey(&self, new_key: &str) -> Result<()> {
        let mut writer = self.open_writer()?;
        match &mut writer.db {
            Some(db) => db.rekey(new_key)?,
            None => return Err(Error::NotEncrypted),
        }
        writer.key = Some(new_key.to_owned());
        Ok(())
    }

    /// The durability mode the store file is in, read back from SQLite (`PRAGMA synchronous`);
    /// `None` for a store in memory.
    ///
    /// # Errors
    /// [`Error::Closed`]; SQLite errors.
    pub fn durability(&self) -> Result<Option<Durability>> {
        let writer = self.open_writer()?;
        match &writer.db {
            Some(db) => db.durability().map(Some),
            None => Ok(None),
        }
    }

    // Poisoning: a panic while a lock is held can only come from a bug in this module (no foreign
    // code runs under these locks); the state it guards is still memory-safe, so keep serving.
    /// Closes the store: the file (and its exclusive lock) is released; reads keep answering
    /// from memory, writes fail with [`Error::Closed`]. Idempotent.
    pub fn close(&self) {
        let mut writer = self.write_lock();
        writer.db = None;
        writer.closed = true;
    }

    /// The writer, unless the store is closed.
    fn open_writer(&self) -> Result<MutexGuard<'_, Writer>> {
        let writer = self.write_lock();
        if writer.closed {
            return Err(Error::Closed);
        }
        Ok(writer)
    }

    fn write_lock(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`Error::InvalidChange`] unless `epoch` is the store's current staging's.
fn check_epoch(writer: &Writer, epoch: u64) -> Result<()> {
    if writer.staging_epoch == epoch {
        return Ok(());
    }
    Err(Error::InvalidChange {
        key: EntityKey::new("", ""),
        reason:
            "the snapshot staging was superseded (another snapshot began, or the store was wiped)"
                .into(),
    })
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("Store")
            .field("client_id", &self.client_id())
            .field("cursor", &state.cursor)
            .field("pending", &state.memory.pending_count())
            .finish_non_exhaustive()
    }
}

/// Checks that `value` is one JSON value.
pub(crate) fn check_json(value: &str) -> serde_json::Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(value).map(drop)
}

/// Checks a change: create/update carry a JSON value.
fn check(change: &EntityChange) -> Result<()> {
    let invalid = |reason: String| Error::InvalidChange {
        key: change.key.clone(),
        reason,
    };
    match (change.op, &change.value) {
        (EntityOp::Delete, _) => Ok(()),
        (op, None) => Err(invalid(format!("{} without a value", op.as_str()))),
        (_, Some(value)) => {
            check_json(value).map_err(|err| invalid(format!("value is not JSON: {err}")))
        }
    }
}

/// [`check`]s a change and drops a delete's value.
fn checked(mut change: EntityChange) -> Result<EntityChange> {
    check(&change)?;
    if change.op == EntityOp::Delete {
        change.value = None;
    }
    Ok(change)
}

/// A new random client id: 32 hex digits from the standard library's randomly keyed hasher,
/// mixed with the time and process id (no extra dependency; unique, not secret).
/// Deletes the store file at `path` and its `-wal` and `-shm` companions (those missing are
/// fine).
fn remove_files(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Delete {
                    path: Path::new(&name).display().to_string(),
                    source,
                })
            }
        }
    }
    Ok(())
}

fn new_client_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut id = String::with_capacity(32);
    for half in 0..2u8 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write_u8(half);
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id
}
