//! What the driver tells the machine: [`Input`], with the transport's outcome of each request.

use crate::protocol::codec::CodecError;
use crate::protocol::wire::{PushResponse, RawPullResponse, SnapshotResponse};

/// Identifies one request the machine asked for, so a late answer to an abandoned request (after
/// `Stop`) is recognized and ignored. Copied from the `Send*` action into the matching input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Why a request produced no usable 200 response. The HTTP driver maps its transport's errors
/// into exactly these variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportFailure {
    /// The request was never sent: the server could not be reached (DNS, connection refused,
    /// connect timeout, TLS handshake).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The exchange broke after the request may have been sent (reset, closed connection, ...):
    /// the server may have received and run it.
    #[error("network error: {0}")]
    Network(String),
    /// The request timed out; the server may still receive and run it.
    #[error("request timed out")]
    Timeout,
    /// The server answered with a non-200 status. `code` and `message` come from the JSON error
    /// body `{"code","error"}` when there is one; otherwise `code` is `None` and `message` is the
    /// body text (possibly empty).
    #[error("HTTP {status}: {message}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The error body's `code`, e.g. `cursor_too_old`.
        code: Option<String>,
        /// The error body's `error` text, or the raw body.
        message: String,
    },
    /// A 200 response whose body is not the expected JSON (e.g. a captive portal's HTML page).
    #[error("unreadable response: {0}")]
    Decode(String),
}

/// One mutation the driver sent in a push, in the order sent: what the machine needs to report
/// acknowledgements and rejections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMutation {
    /// The mutation's id (idempotency key).
    pub id: String,
    /// The mutation's name, e.g. `todo.create`, for rejection events.
    pub name: String,
}

/// Everything the driver reports to the machine through [`SyncMachine::handle`].
///
/// [`SyncMachine::handle`]: super::SyncMachine::handle
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin syncing from the store's durable state: its cursor (`None` before the first
    /// snapshot) and its number of pending mutations. Ignored while already started.
    Start {
        /// The stored pull cursor.
        cursor: Option<u64>,
        /// How many mutations are pending in the store.
        pending: usize,
    },
    /// Stop syncing: timers are cleared, waiting `sync()` calls fail with
    /// [`SyncError::Stopped`](super::SyncError::Stopped), and answers to requests sent before
    /// the stop are ignored. `Start` may follow.
    Stop,
    /// Stop sending requests until `Resume` (e.g. the app went to the background). An answer to
    /// a request already in flight is still applied. Waiting `sync()` calls fail with
    /// [`SyncError::Paused`](super::SyncError::Paused).
    Pause,
    /// Undo `Pause`: push what is pending and pull at once.
    Resume,
    /// The store's number of pending mutations changed (after a local write, or after applying
    /// [`Action::ApplyPush`](super::Action::ApplyPush)). A positive count while idle pushes at
    /// once. The count may be stale by the time it arrives (a write raced a push answer): the
    /// machine asks for at most that many, and a push for which the store has nothing corrects
    /// the count (see [`Input::Pushed`]).
    PendingChanged {
        /// The store's current number of pending mutations.
        count: usize,
    },
    /// The host called `sync()`: push everything pending, then pull to the head. Completion is
    /// reported by [`Event::SyncCompleted`](super::Event::SyncCompleted) with the same `id`.
    SyncRequested {
        /// Chosen by the driver to match the completion.
        id: u64,
    },
    /// The live channel announced the scope's cursor (a notification on the socket, or the host
    /// calling `notify_live`): pull at once if it is above ours.
    LiveCursor(u64),
    /// Answer to [`Action::SendPush`](super::Action::SendPush).
    Pushed {
        /// The request this answers.
        request: RequestId,
        /// What the driver took from the store and sent, oldest first. Empty when the store had
        /// nothing pending: the driver then sends no request, reports
        /// `Ok(PushResponse { results: vec![] })` (the result is not looked at), and the machine
        /// learns that nothing is pending.
        sent: Vec<SentMutation>,
        /// The server's response, or why there is none.
        result: Result<PushResponse, TransportFailure>,
    },
    /// Answer to [`Action::SendPull`](super::Action::SendPull).
    Pulled {
        /// The request this answers.
        request: RequestId,
        /// The server's response, or why there is none.
        result: Result<RawPullResponse, TransportFailure>,
    },
    /// Answer to [`Action::SendSnapshot`](super::Action::SendSnapshot).
    Snapshotted {
        /// The request this answers.
        request: RequestId,
        /// The server's response, or why there is none.
        result: Result<SnapshotResponse, TransportFailure>,
    },
    /// Answer to [`Action::SendSnapshot`](super::Action::SendSnapshot) from a driver that
    /// decoded the snapshot as it streamed in and staged it in its store (the client does):
    /// what was staged, or why there is nothing to use. On success the machine answers with
    /// [`Action::SwapStagedBase`](super::Action::SwapStagedBase).
    SnapshotStaged {
        /// The request this answers.
        request: RequestId,
        /// The staged snapshot, or why there is none.
        result: Result<StagedSnapshot, SnapshotFailure>,
    },
    /// Answer to [`Action::RefreshAuth`](super::Action::RefreshAuth): whether new credentials
    /// are in place.
    AuthRefreshed {
        /// `true` when the credentials were refreshed.
        ok: bool,
    },
    /// The live socket asked for by [`Action::ConnectLive`](super::Action::ConnectLive) is
    /// open: handshake done and subscribed. Its backoff starts over.
    LiveOpened,
    /// The live connection attempt failed, or the open socket ended (closed by the server,
    /// unanswered pings, a network error). The machine reconnects after a backoff delay
    /// ([`SyncMachine::live_retry_at`](super::SyncMachine::live_retry_at)).
    LiveClosed {
        /// Why, for the driver's log.
        reason: String,
    },
    /// The server refused the live handshake's credentials (HTTP 401 or 403): like
    /// [`Input::LiveClosed`], and the next attempt asks the auth provider for a fresh token.
    LiveAuthRejected {
        /// The handshake's HTTP status.
        status: u16,
    },
    /// The driver could not carry out an [`Action::ApplyChanges`], [`Action::ReplaceBase`] or
    /// [`Action::SwapStagedBase`] (a storage error, which the driver reports itself): the
    /// store's base did not move and stays at `cursor`. The machine goes back to it and pulls
    /// from there again at the next interval, live notice or `sync()` (waiting `sync()` calls
    /// fail with `error`), never past changes the store does not hold; the pull in flight, sent
    /// from the cursor that did not hold, is abandoned (its answer is ignored).
    ///
    /// [`Action::ApplyChanges`]: super::Action::ApplyChanges
    /// [`Action::ReplaceBase`]: super::Action::ReplaceBase
    /// [`Action::SwapStagedBase`]: super::Action::SwapStagedBase
    ApplyFailed {
        /// The store's cursor (`None` before its first snapshot).
        cursor: Option<u64>,
        /// Why it failed.
        error: super::SyncError,
    },
    /// Nothing new: only lets expired timers fire. Send it when `now` reaches
    /// [`SyncMachine::poll_timeout`](super::SyncMachine::poll_timeout). (Every input fires
    /// expired timers first, so a `Tick` is only needed when nothing else happened.)
    Tick,
}

/// A snapshot received and staged by the driver, not yet in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagedSnapshot {
    /// The log position the snapshot is as of.
    pub cursor: u64,
    /// How many entities it holds.
    pub entities: u64,
}

/// Why a streamed snapshot cannot be used; the current base stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotFailure {
    /// No usable 200 response (as for a whole response).
    #[error(transparent)]
    Transport(#[from] TransportFailure),
    /// The codec refused an entity (or the data is not in the snapshot layout).
    #[error("cannot use the snapshot: {0}")]
    Codec(#[from] CodecError),
    /// The body went past the configured snapshot size limit (`limit` bytes).
    #[error("the snapshot is larger than the configured limit of {limit} bytes")]
    TooLarge {
        /// The configured limit, in bytes.
        limit: u64,
    },
    /// The local store could not stage it.
    #[error("cannot stage the snapshot locally: {0}")]
    Storage(String),
}
