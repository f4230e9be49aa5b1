//! What the app can see of, and do to, the local queue and store: each entity's sync state, the
//! queued mutations, discarding one, and clearing everything at logout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::client::ids::made_at;
use crate::client::{ClientCore, Error};
use crate::protocol::entity::EntityKey;
use crate::reactive::Signal;

/// Where an entity stands with the server (see [`crate::Entity::sync_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// No local write of it waits for the server.
    Synced,
    /// Local writes of it wait for the server (pushed or not yet), `mutations` of them.
    Pending {
        /// How many queued mutations touch it.
        mutations: usize,
    },
    /// The server rejected its last local write (or the app discarded it): the write was rolled
    /// back. Stays until the entity is written again or the client is cleared.
    Rejected {
        /// The server's reason.
        reason: String,
    },
}

/// A mutation waiting in the queue (see [`crate::Client::pending`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMutation {
    /// Its idempotency id.
    pub id: String,
    /// Its name, e.g. `todo.update`.
    pub name: String,
    /// Its scope.
    pub scope: String,
    /// How long ago it was made.
    pub age: Duration,
    /// How many times it was pushed since this process started (0: not yet).
    pub attempts: u32,
}

/// How [`crate::Client::clear`] treats writes that have not reached the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClearOptions {
    /// First try to push them for at most this long (the client must be started).
    pub flush_within: Option<Duration>,
    /// Drop the writes still waiting after that, instead of refusing with
    /// [`Error::PendingWrites`].
    pub discard_pending: bool,
}

/// The reason a discarded mutation is reported with.
pub(crate) const DISCARDED: &str = "discarded by the app";

/// The per-client bookkeeping behind [`SyncState`] and [`QueuedMutation`].
pub(crate) struct QueueWatch {
    /// Bumped whenever the queue changes: what `sync_state` reads track.
    version: Signal<u64>,
    /// The last rejection of each entity, until it is written again.
    rejected: Mutex<HashMap<EntityKey, String>>,
    /// Pushes of each queued mutation since this process started.
    attempts: Mutex<HashMap<String, u32>>,
}

impl QueueWatch {
    pub(crate) fn new() -> Self {
        QueueWatch {
            version: Signal::new(0),
            rejected: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Wakes the readers of sync states (on the calling thread: call it where deliveries go).
    pub(crate) fn bump(&self) {
        self.version.update(|v| v.wrapping_add(1));
    }

    /// Counts one push of each of `ids`.
    pub(crate) fn pushed<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut attempts = lock(&self.attempts);
        for id in ids {
            *attempts.entry(id.to_owned()).or_default() += 1;
        }
    }

    /// Forgets the attempts of mutations that left the queue.
    pub(crate) fn settled<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut attempts = lock(&self.attempts);
        for id in ids {
            attempts.remove(id);
        }
    }

    pub(crate) fn mark_rejected(&self, key: EntityKey, reason: String) {
        lock(&self.rejected).insert(key, reason);
    }

    pub(crate) fn written(&self, key: &EntityKey) {
        let mut rejected = lock(&self.rejected);
        if !rejected.is_empty() {
            rejected.remove(key);
        }
    }

    fn reset(&self) {
        lock(&self.rejected).clear();
        lock(&self.attempts).clear();
    }
}

impl ClientCore {
    /// The sync state of `key`; tracked (wakes when the queue changes).
    pub(crate) fn sync_state(&self, key: &EntityKey) -> SyncState {
        self.queue_watch.version.get();
        let pending = self.store.pending_ids_of(key).len();
        if pending > 0 {
            return SyncState::Pending { mutations: pending };
        }
        match lock(&self.queue_watch.rejected).get(key) {
            Some(reason) => SyncState::Rejected {
                reason: reason.clone(),
            },
            None => SyncState::Synced,
        }
    }

    /// The queued mutations, oldest first.
    pub(crate) fn pending(&self) -> Vec<QueuedMutation> {
        let now = SystemTime::now();
        let attempts = lock(&self.queue_watch.attempts).clone();
        self.store
            .pending_all()
            .into_iter()
            .map(|p| {
                let m = p.mutation;
                QueuedMutation {
                    age: made_at(&m.id)
                        .and_then(|t| now.duration_since(t).ok())
                        .unwrap_or_default(),
                    attempts: attempts.get(&m.id).copied().unwrap_or(0),
                    id: m.id,
                    name: m.name,
                    scope: m.scope,
                }
            })
            .collect()
    }

    /// Rolls back the queued mutation `mutation_id` as if the server had rejected it.
    pub(crate) fn discard(self: &Arc<Self>, mutation_id: &str) -> Result<(), Error> {
        self.check_open()?;
        let queued = {
            let _order = self.lock_write_order();
            let Some(queued) = self.store.pending_by_id(mutation_id) else {
                return Err(Error::InvalidArgument(format!(
                    "no queued mutation has the id {mutation_id:?}"
                )));
            };
            let changed = self.store.discard(&[mutation_id.to_owned()])?;
            (queued, changed)
        };
        let (queued, changed) = queued;
        self.queue_watch.settled([mutation_id]);
        if let Some(change) = queued.change {
            self.queue_watch.mark_rejected(change.key, DISCARDED.into());
        }
        self.report(Error::Rejected {
            mutation_id: queued.mutation.id,
            name: queued.mutation.name,
            reason: DISCARDED.into(),
        });
        self.after_queue_change(changed);
        Ok(())
    }

    /// Deletes the local store (at logout): see [`crate::Client::clear`].
    pub(crate) fn clear(self: &Arc<Self>, options: ClearOptions) -> Result<(), Error> {
        self.check_open()?;
        let was_started = self.is_started();
        if let (Some(within), true) = (options.flush_within, was_started) {
            // Whatever it leaves behind is judged below.
            let _ = self.flush(within);
        }
        // Stopped first, with no lock held: a listener on the engine thread may be writing.
        self.stop();
        let wiped = {
            // No write can slip in between the check and the wipe.
            let _order = self.lock_write_order();
            let count = self.store.pending_count();
            if count > 0 && !options.discard_pending {
                Err(Error::PendingWrites { count })
            } else {
                let changed = self.store.wipe();
                if changed.is_ok() {
                    self.reset_after_wipe();
                }
                changed.map_err(Error::from)
            }
        };
        let changed = match wiped {
            Ok(changed) => changed,
            Err(e) => {
                if was_started && self.check_open().is_ok() {
                    let _ = self.start();
                }
                return Err(e);
            }
        };
        self.queue_watch.reset();
        // Readers of the status and of what vanished run here, with no lock held.
        self.reset_status();
        self.after_queue_change(changed);
        if was_started {
            self.start()?;
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
