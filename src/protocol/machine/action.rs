//! What the machine asks the driver to do: [`Action`], and the [`Event`]s it reports to the host.

use super::{Operation, RequestId, SyncError};
use crate::protocol::entity::{EntityChange, SnapshotData};
use crate::protocol::wire::{PullRequest, SnapshotRequest};

/// One thing for the driver to do, taken from [`SyncMachine::poll_action`] in order.
///
/// Store effects (`Apply*`, `ReplaceBase`) come before the events that describe them, so a host
/// notified of an event already sees its effect in the store.
///
/// [`SyncMachine::poll_action`]: super::SyncMachine::poll_action
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Take the oldest `limit` pending mutations from the store (fewer if fewer are pending),
    /// `POST` them to `/push` in that order, and answer with
    /// [`Input::Pushed`](super::Input::Pushed) carrying the same `request` and what was sent.
    /// `1 <= limit <= 100`.
    SendPush {
        /// Identifies the answer.
        request: RequestId,
        /// The most mutations to send.
        limit: usize,
    },
    /// `POST` this body to `/pull`; answer with [`Input::Pulled`](super::Input::Pulled).
    SendPull {
        /// Identifies the answer.
        request: RequestId,
        /// The request body.
        body: PullRequest,
    },
    /// `POST` this body to `/snapshot`; answer with
    /// [`Input::Snapshotted`](super::Input::Snapshotted).
    SendSnapshot {
        /// Identifies the answer.
        request: RequestId,
        /// The request body.
        body: SnapshotRequest,
    },
    /// Remove these mutations from the store's pending queue: `acked` ones were applied by the
    /// server (their effect now comes back through pulls), `rejected` ones were refused and their
    /// optimistic effect must disappear. Then report [`Input::PendingChanged`] with the new
    /// count. A [`Event::Rejected`] follows for each rejection.
    ///
    /// [`Input::PendingChanged`]: super::Input::PendingChanged
    ApplyPush {
        /// Ids of acknowledged mutations.
        acked: Vec<String>,
        /// Refused mutations.
        rejected: Vec<Rejection>,
    },
    /// Apply these server changes to the synced base and store `cursor`, in one transaction;
    /// pending mutations stay applied on top. `changes` may be empty (the cursor still moves).
    ApplyChanges {
        /// Decoded changes, in log order.
        changes: Vec<EntityChange>,
        /// The new pull cursor.
        cursor: u64,
    },
    /// Replace the whole synced base with `data` and store `cursor`, in one transaction. Pending
    /// mutations are kept and stay applied on top.
    ReplaceBase {
        /// The decoded snapshot.
        data: SnapshotData,
        /// The snapshot's cursor.
        cursor: u64,
    },
    /// Swap the snapshot staged for [`Input::SnapshotStaged`](super::Input::SnapshotStaged) in
    /// as the whole synced base and store `cursor`, in one step. Pending mutations are kept and
    /// stay applied on top.
    SwapStagedBase {
        /// The snapshot's cursor.
        cursor: u64,
    },
    /// Credentials were refused (401/403): refresh them (e.g. ask the host for a new token), then
    /// answer with [`Input::AuthRefreshed`](super::Input::AuthRefreshed). No request is sent
    /// until that answer.
    RefreshAuth,
    /// Open the live socket (handshake, then the subscribe message), sending a token freshly
    /// asked from the auth provider when `refresh_auth`; report [`Input::LiveOpened`], then each
    /// notification as [`Input::LiveCursor`], and its end as [`Input::LiveClosed`] or
    /// [`Input::LiveAuthRejected`]. Never queued while a socket is open or being opened.
    ///
    /// [`Input::LiveOpened`]: super::Input::LiveOpened
    /// [`Input::LiveCursor`]: super::Input::LiveCursor
    /// [`Input::LiveClosed`]: super::Input::LiveClosed
    /// [`Input::LiveAuthRejected`]: super::Input::LiveAuthRejected
    ConnectLive {
        /// Ask the auth provider for a new token (the last handshake's was refused).
        refresh_auth: bool,
    },
    /// Close the live socket (or abandon the attempt under way); nothing it reports afterwards
    /// is looked at.
    CloseLive,
    /// Tell the host.
    Emit(Event),
}

/// A mutation the server refused; it has left the queue and its effect is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The mutation's id.
    pub mutation_id: String,
    /// The mutation's name.
    pub name: String,
    /// The server's error text (`ok:false` result, or the 400 body of a batch of one).
    pub reason: String,
}

/// Something the host is told about (listeners, `on_error`, `sync()` completions).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server answered after a failure (or for the first time): the client is online.
    Online,
    /// The server is unreachable or failing: the client is offline and retries with backoff.
    /// Fired on the transition only, not on every failed retry.
    Offline,
    /// A pull reached the head of the log: the client has everything up to `cursor`.
    Synced {
        /// The cursor reached.
        cursor: u64,
    },
    /// The server refused one mutation.
    Rejected(Rejection),
    /// A sync step failed in a way the host should hear about. Retried failures of an offline
    /// client are not repeated here: they show as [`Event::Offline`] and in the status.
    Error {
        /// Which step failed.
        operation: Operation,
        /// Why.
        error: SyncError,
    },
    /// A `sync()` call finished: everything pending when it was called (or after) was pushed and
    /// a pull reached the head, or the first error on the way.
    SyncCompleted {
        /// The id from [`Input::SyncRequested`](super::Input::SyncRequested).
        id: u64,
        /// `Ok` on success, else the error that ended it.
        result: Result<(), SyncError>,
    },
}
