//! [`Status`]: a snapshot of the machine's state for the host.

use std::time::Instant;

use super::SyncError;

/// What the sync engine is doing, as of the last input. Compare two snapshots with `==` to
/// notice changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Between `Start` and `Stop`.
    pub running: bool,
    /// Paused by `Pause` (and still running).
    pub paused: bool,
    /// The last request reached the server (anything but a network error, timeout, undecodable
    /// response, 5xx, 408 or 429). `false` before the first answer.
    pub online: bool,
    /// A request is in flight, or the machine is waiting for refreshed credentials.
    pub syncing: bool,
    /// Pending local mutations, as last reported by the store minus those resolved since.
    pub pending: usize,
    /// The pull cursor; `None` before the first snapshot.
    pub cursor: Option<u64>,
    /// The latest unresolved error: a push error until a push succeeds, a pull or snapshot error
    /// until one of those succeeds.
    pub last_error: Option<SyncError>,
    /// The `now` of the input whose pull reached the head of the log.
    pub last_synced_at: Option<Instant>,
}
