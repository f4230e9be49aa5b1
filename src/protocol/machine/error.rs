//! [`SyncError`]: what went wrong in a sync step, as reported in events and the status.

use crate::protocol::codec::CodecError;

/// Which request (or which part of the sync) an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /push`.
    Push,
    /// `POST /pull`, including decoding its changes.
    Pull,
    /// `POST /snapshot`, including decoding its data.
    Snapshot,
}

/// What went wrong. Cheap to clone; compared in tests and by status observers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached. Retried with backoff; the client is offline.
    #[error("network error: {0}")]
    Network(String),
    /// A request timed out. Retried with backoff; the client is offline.
    #[error("request timed out")]
    Timeout,
    /// The server is failing or overloaded (5xx, 408, 429). Retried with backoff; the client is
    /// offline.
    #[error("server unavailable (HTTP {status}): {message}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The error body's text.
        message: String,
    },
    /// A 200 response that is not the expected JSON. Retried with backoff; the client is offline
    /// (this is what a captive portal looks like).
    #[error("unreadable response: {0}")]
    Decode(String),
    /// 401 or 403 even after refreshing credentials (or the refresh failed): an auth or scope
    /// problem. Retried only after a long backoff or a new refresh.
    #[error("not authorized (HTTP {status}): {message}")]
    Unauthorized {
        /// The HTTP status (401 or 403); 0 when the credential refresh itself failed.
        status: u16,
        /// The error body's text.
        message: String,
    },
    /// Any other refusal (4xx) of a whole request. Not retried until the next interval, live
    /// notice or `sync()`.
    #[error("request refused (HTTP {status}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error body's code.
        code: Option<String>,
        /// The error body's text.
        message: String,
    },
    /// The server broke the protocol (e.g. fewer push results than mutations, or `has_more`
    /// without progress). Not retried until the next interval, live notice or `sync()`.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// One change could not be decoded by the codec; it was skipped and the cursor moved past it.
    #[error("skipped the change at cursor {cursor}: {error}")]
    Change {
        /// The skipped change's cursor.
        cursor: u64,
        /// Why the codec refused it.
        error: CodecError,
    },
    /// The snapshot could not be decoded; the base was left as it was.
    #[error("cannot use the snapshot: {0}")]
    Snapshot(CodecError),
    /// The snapshot is larger than the configured limit (`limit` bytes); the base was left as
    /// it was. The server is reachable (the client stays online); the snapshot is asked for
    /// again at the next pull interval, live notice or `sync()`, not in a backoff loop.
    #[error("the snapshot is larger than the configured limit of {limit} bytes")]
    SnapshotTooLarge {
        /// The configured limit, in bytes.
        limit: u64,
    },
    /// The local store failed while staging a snapshot; the base was left as it was. Retried
    /// like [`Snapshot`](Self::Snapshot).
    #[error("local storage: {0}")]
    Storage(String),
    /// `sync()` was called, or was waiting, while the machine is paused.
    #[error("sync is paused")]
    Paused,
    /// `sync()` was called, or was waiting, while the machine is stopped.
    #[error("sync is stopped")]
    Stopped,
}

impl SyncError {
    /// Whether this error means the server is unreachable or failing (the client is offline
    /// and retries with backoff).
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            SyncError::Network(_)
                | SyncError::Timeout
                | SyncError::Unavailable { .. }
                | SyncError::Decode(_)
        )
    }
}
