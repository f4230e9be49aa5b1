//! Records: plain values copied across the boundary ([`ClientOptions`], [`SyncStatus`],
//! [`EntityRecord`], [`CollectionChange`], [`RejectedMutation`]).

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use crate::ffi::error::MizuError;

/// How to create a [`crate::ffi::Client`]. Every field but `base_url` has a default.
#[derive(Clone, PartialEq, uniffi::Record)]
pub struct ClientOptions {
    /// Base URL of the sync endpoints, e.g. `https://api.example.com/_sync`.
    pub base_url: String,
    /// Scope of every request; empty means the server's default scope.
    #[uniffi(default = "")]
    pub scope: String,
    /// SQLite file for the durable store (created when missing); `None` keeps data in memory.
    #[uniffi(default = None)]
    pub storage_path: Option<String>,
    /// Encrypts the store file (and its WAL) with SQLCipher under this key: a passphrase, or a
    /// raw 256-bit key written `x'<64 hex digits>'`. Needs `storage_path`; the same key opens
    /// it every time, and `Client.rekey` changes it. Keep it in the Keychain or the Android
    /// Keystore: a lost key is lost data. `None` keeps the file plain SQLite.
    #[uniffi(default = None)]
    pub encryption_key: Option<String>,
    /// How hard each commit to the store file is pushed to disk; `None` is
    /// [`Durability::Full`] (see [`Durability`] for the trade-off).
    #[uniffi(default = None)]
    pub durability: Option<Durability>,
    /// URL of the live WebSocket (e.g. `ws://host/ws?scope=S`); `None` means polling only.
    #[uniffi(default = None)]
    pub live_url: Option<String>,
    /// How often pending mutations are pushed when nothing else triggers a push.
    #[uniffi(default = 5000)]
    pub push_interval_ms: u64,
    /// How often the client pulls when no live notification arrives.
    #[uniffi(default = 30000)]
    pub pull_interval_ms: u64,
    /// Upper bound of one HTTP request.
    #[uniffi(default = 30000)]
    pub request_timeout_ms: u64,
    /// First retry delay after a failure (doubled per failure, with jitter).
    #[uniffi(default = 500)]
    pub backoff_min_ms: u64,
    /// Largest retry delay.
    #[uniffi(default = 60000)]
    pub backoff_max_ms: u64,
    /// Mutations per push request, 1 to 100.
    #[uniffi(default = 100)]
    pub push_batch_size: u32,
    /// Changes per pull page.
    #[uniffi(default = 1000)]
    pub pull_limit: u32,
    /// Extra HTTP headers sent with every request and the live handshake.
    #[uniffi(default)]
    pub headers: HashMap<String, String>,
    /// Largest snapshot accepted, in bytes; `None` accepts any size. A larger one is abandoned
    /// as it streams in (the local state is kept) and reported as `MizuError::SnapshotTooLarge`
    /// through the status and the error listeners. Whatever the limit, one entity may take at
    /// most 64 MiB of the body; a larger one is refused the same way, as `MizuError::Server`
    /// (undecodable server data).
    #[uniffi(default = None)]
    pub max_snapshot_bytes: Option<u64>,
    /// The message sent after the live connection opens, as JSON; `None` for the default
    /// `{"topic":"subscribe","data":{}}`.
    #[uniffi(default = None)]
    pub subscribe_message_json: Option<String>,
}

impl ClientOptions {
    /// The core options (without callbacks) these describe.
    pub(crate) fn to_core(&self) -> Result<crate::Options, MizuError> {
        let mut options = crate::Options::new(self.base_url.clone())
            .scope(self.scope.clone())
            .push_interval(Duration::from_millis(self.push_interval_ms))
            .pull_interval(Duration::from_millis(self.pull_interval_ms))
            .request_timeout(Duration::from_millis(self.request_timeout_ms))
            .backoff(
                Duration::from_millis(self.backoff_min_ms),
                Duration::from_millis(self.backoff_max_ms),
            )
            .push_batch_size(self.push_batch_size as usize)
            .pull_limit(self.pull_limit);
        let mut headers: Vec<_> = self.headers.iter().collect();
        headers.sort();
        for (name, value) in headers {
            options = options.header(name.clone(), value.clone());
        }
        if let Some(path) = &self.storage_path {
            options = options.storage_path(path.clone());
        }
        if let Some(key) = &self.encryption_key {
            options = options.encryption_key(key.clone());
        }
        if let Some(durability) = self.durability {
            options = options.durability(durability.into());
        }
        if let Some(url) = &self.live_url {
            options = options.live_url(url.clone());
        }
        if let Some(limit) = self.max_snapshot_bytes {
            options = options.max_snapshot_bytes(limit);
        }
        if let Some(text) = &self.subscribe_message_json {
            options = options.subscribe_message(serde_json::from_str(text)?);
        }
        Ok(options)
    }
}

impl std::fmt::Debug for ClientOptions {
    // Every field but the encryption key, which is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("scope", &self.scope)
            .field("storage_path", &self.storage_path)
            .field("encrypted", &self.encryption_key.is_some())
            .field("durability", &self.durability)
            .field("live_url", &self.live_url)
            .field("push_interval_ms", &self.push_interval_ms)
            .field("pull_interval_ms", &self.pull_interval_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("backoff_min_ms", &self.backoff_min_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("push_batch_size", &self.push_batch_size)
            .field("pull_limit", &self.pull_limit)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_snapshot_bytes", &self.max_snapshot_bytes)
            .field("subscribe_message_json", &self.subscribe_message_json)
            .finish()
    }
}

/// A snapshot of what the sync engine is doing.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    /// Whether the last exchange with the server succeeded (false until one has).
    pub online: bool,
    /// Whether a push, pull or snapshot is in flight.
    pub syncing: bool,
    /// How many local mutations wait to be acknowledged by the server.
    pub pending: u64,
    /// The pull cursor, `None` before the first snapshot.
    pub cursor: Option<u64>,
    /// The text of the last error, cleared by the next successful exchange.
    pub last_error: Option<String>,
    /// When the last pull or snapshot completed, in milliseconds since the Unix epoch.
    pub last_synced_ms: Option<u64>,
    /// Whether syncing is paused.
    pub paused: bool,
    /// Whether a first full catch-up with the server has completed (persisted).
    pub has_synced: bool,
    /// The current (or last) download: server changes applied of those known to exist.
    pub download: SyncProgress,
    /// The current (or last) upload: mutations acknowledged of those queued since the queue
    /// was last empty.
    pub upload: SyncProgress,
}

/// `done` of `total` (equal when complete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// How much is done.
    pub done: u64,
    /// How much there is, as known now.
    pub total: u64,
}

impl From<crate::Progress> for SyncProgress {
    fn from(p: crate::Progress) -> Self {
        SyncProgress {
            done: p.done,
            total: p.total,
        }
    }
}

/// What `Client::sync_once` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Mutations that left the queue (acknowledged or rejected).
    pub pushed: u64,
    /// How far the pull cursor moved.
    pub pulled: u64,
    /// Whether it ended caught up.
    pub caught_up: bool,
    /// The last round's error when it did not end caught up.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
}

impl From<crate::SyncReport> for SyncReport {
    fn from(r: crate::SyncReport) -> Self {
        SyncReport {
            pushed: r.pushed as u64,
            pulled: r.pulled,
            caught_up: r.caught_up,
            error: r.error.map(|e| e.to_string()),
            elapsed_ms: u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl From<&crate::SyncStatus> for SyncStatus {
    fn from(s: &crate::SyncStatus) -> Self {
        SyncStatus {
            online: s.online,
            syncing: s.syncing,
            pending: s.pending as u64,
            cursor: s.cursor,
            last_error: s.last_error.clone(),
            last_synced_ms: s.last_synced.and_then(|t| {
                let ms = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
                u64::try_from(ms).ok()
            }),
            paused: s.paused,
            has_synced: s.has_synced,
            download: s.download.into(),
            upload: s.upload.into(),
        }
    }
}

/// One entity: its id and its value as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntityRecord {
    /// The entity's id.
    pub id: String,
    /// The value as JSON text (canonical: object keys sorted, no spaces).
    pub value_json: String,
}

/// What changed in a collection since the listener's previous call: only the entities that
/// changed, never the whole collection (except on the first call, which has every entity).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CollectionChange {
    /// Entities created or changed since the previous call (all of them on the first call),
    /// ordered by id.
    pub changed: Vec<EntityRecord>,
    /// Ids of the entities deleted since the previous call.
    pub removed: Vec<String>,
}

/// A mutation the server rejected.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedMutation {
    /// The mutation's id.
    pub mutation_id: String,
    /// The mutation's name, e.g. `todo.update`.
    pub name: String,
    /// The server's reason.
    pub reason: String,
}

/// How hard each commit to the store file is pushed to disk (SQLite's `synchronous` setting).
///
/// `Full` (the default) fsyncs every commit: a write that returned survives a process kill and a
/// power loss. `Normal` skips that fsync: writes are faster and still survive a process kill (a
/// crash, the OS killing the app), but the last commits before a power loss or an OS crash may
/// be lost, with their queued mutations (the file stays consistent). In both modes what the
/// server sent (snapshots, pulled changes, acknowledgements) commits without its own fsync: a
/// power loss may take the store back to an earlier cursor, and the client fetches it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Durability {
    /// `synchronous = FULL`: each commit is fsynced before the write returns.
    Full,
    /// `synchronous = NORMAL`: commits survive a process kill, not necessarily a power loss.
    Normal,
}

impl From<Durability> for crate::Durability {
    fn from(d: Durability) -> Self {
        match d {
            Durability::Full => crate::Durability::Full,
            Durability::Normal => crate::Durability::Normal,
        }
    }
}

impl From<crate::Durability> for Durability {
    fn from(d: crate::Durability) -> Self {
        match d {
            crate::Durability::Full => Durability::Full,
            crate::Durability::Normal => Durability::Normal,
        }
    }
}

/// Where an entity stands with the server (see `Entity::sync_state`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EntitySyncState {
    /// No local write of it waits for the server.
    Synced,
    /// Local writes of it wait for the server.
    Pending {
        /// How many queued mutations touch it.
        mutations: u64,
    },
    /// Its last local write was rejected by the server (or discarded by the app) and rolled
    /// back; until it is written again.
    Rejected {
        /// The server's reason.
        reason: String,
    },
}

impl From<crate::SyncState> for EntitySyncState {
    fn from(s: crate::SyncState) -> Self {
        match s {
            crate::SyncState::Synced => EntitySyncState::Synced,
            crate::SyncState::Pending { mutations } => EntitySyncState::Pending {
                mutations: mutations as u64,
            },
            crate::SyncState::Rejected { reason } => EntitySyncState::Rejected { reason },
        }
    }
}

/// A mutation waiting for the server (see `Client::pending`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueuedMutation {
    /// Its idempotency id.
    pub id: String,
    /// Its name, e.g. `todo.update`.
    pub name: String,
    /// Its scope.
    pub scope: String,
    /// How long ago it was made, in milliseconds.
    pub age_ms: u64,
    /// How many times it was pushed since the process started (0: not yet).
    pub attempts: u32,
}

impl From<crate::QueuedMutation> for QueuedMutation {
    fn from(m: crate::QueuedMutation) -> Self {
        QueuedMutation {
            id: m.id,
            name: m.name,
            scope: m.scope,
            age_ms: u64::try_from(m.age.as_millis()).unwrap_or(u64::MAX),
            attempts: m.attempts,
        }
    }
}
