//! [`SyncStatus`]: what the sync engine is doing, as a value the app can render.

use std::time::SystemTime;

use crate::client::Progress;

/// A snapshot of the client's sync state. [`crate::Client::status`] exposes it as a signal, so a
/// `Computed` or `Effect` that reads it re-runs whenever it changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncStatus {
    /// Whether the last exchange with the server succeeded (false until one has).
    pub online: bool,
    /// Whether a push, pull or snapshot is in flight.
    pub syncing: bool,
    /// How many local mutations wait to be acknowledged by the server.
    pub pending: usize,
    /// The pull cursor: the server log position the synced state is as of (`None` before the
    /// first snapshot).
    pub cursor: Option<u64>,
    /// The text of the last error, cleared by the next successful exchange.
    pub last_error: Option<String>,
    /// Wall-clock time of the last completed pull or snapshot.
    pub last_synced: Option<SystemTime>,
    /// Whether syncing is paused by [`crate::Client::pause`].
    pub paused: bool,
    /// Whether a first full catch-up with the server has completed (persisted with the store;
    /// false again after [`crate::Client::clear`]). See [`crate::Client::wait_for_first_sync`].
    pub has_synced: bool,
    /// The current (or last) download: server changes applied of those known to exist.
    pub download: Progress,
    /// The current (or last) upload: mutations acknowledged (or rejected) of those queued since
    /// the queue was last empty.
    pub upload: Progress,
}
