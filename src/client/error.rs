//! [`Error`]: everything a [`crate::Client`], [`crate::Collection`] or [`crate::Entity`] can
//! report, classified by what the app would do differently.

use crate::protocol::machine::SyncError;

/// An error of the sync client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something unusable (an empty id, a malformed URL, bad options).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A query is malformed: an empty or malformed field path, an unknown operator or key in a
    /// JSON spec, an operand of the wrong kind, a negative limit.
    #[error("invalid query: {0}")]
    InvalidQuery(#[from] crate::query::QueryError),
    /// A value did not serialize to JSON, or a stored value did not decode as the expected type.
    #[error("serialization: {0}")]
    Serialization(String),
    /// The local store could not read or write (disk full, corrupt file, schema too new).
    #[error("storage: {0}")]
    Storage(String),
    /// The store file is encrypted and the encryption key is wrong or missing, or a key was
    /// given for a plain store file.
    #[error("wrong encryption key: {0}")]
    WrongKey(String),
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server did not answer within the request timeout.
    #[error("timed out waiting for the server")]
    Timeout,
    /// The server answered with an error status (an invalid request, a denied scope, ...).
    #[error("server answered {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// The protocol error code, when the body carried one.
        code: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The server answered 200 with a body this client cannot read.
    #[error("malformed server response: {0}")]
    MalformedResponse(String),
    /// The server refused one mutation; its optimistic effect has been rolled back.
    #[error("mutation {mutation_id} ({name}) was rejected by the server: {reason}")]
    Rejected {
        /// The mutation's idempotency id.
        mutation_id: String,
        /// The mutation's name, e.g. `todo.update`.
        name: String,
        /// The server's error text.
        reason: String,
    },
    /// A server change or snapshot could not be decoded by the codec; it was skipped.
    #[error("undecodable server data: {0}")]
    Codec(String),
    /// The server's snapshot is larger than
    /// [`Options::max_snapshot_bytes`](crate::Options::max_snapshot_bytes); the local state was
    /// kept. Asked for again at the next pull interval, live notice or `sync()`.
    #[error("the snapshot is larger than the configured limit of {limit} bytes")]
    SnapshotTooLarge {
        /// The configured limit, in bytes.
        limit: u64,
    },
    /// The client was closed; no further operations are possible.
    #[error("the client is closed")]
    Closed,
    /// [`Client::clear`](crate::Client::clear) refused: writes still wait for the server, and
    /// discarding them was not asked for. Nothing was deleted.
    #[error("{count} local write(s) have not reached the server; clear with discard_pending to drop them")]
    PendingWrites {
        /// How many mutations wait.
        count: usize,
    },
    /// The server refused the credentials (HTTP 401 / 403), even after a token refresh.
    #[error("not authorized (HTTP {status}): {message}")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A wait (`flush`, `sync`) ran out of time.
    #[error("gave up waiting after {0:?}")]
    WaitTimedOut(std::time::Duration),
    /// The operation needs a started client ([`crate::Client::start`]).
    #[error("the client is not started")]
    NotStarted,
    /// Syncing is paused ([`crate::Client::pause`]).
    #[error("syncing is paused")]
    Paused,
    /// A bug or an environment failure (a thread that could not start, a panicking callback).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        match e {
            crate::store::Error::WrongKey(reason) => Error::WrongKey(reason),
            e @ crate::store::Error::NotEncrypted => Error::InvalidArgument(format!(
                "{e}: rekey needs a store opened with an encryption_key"
            )),
            crate::store::Error::Closed => Error::Closed,
            e => Error::Storage(e.to_string()),
        }
    }
}

impl From<SyncError> for Error {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Network(m) => Error::Network(m),
            SyncError::Timeout => Error::Timeout,
            SyncError::Unavailable { status, message } => Error::Server {
                status,
                code: None,
                message,
            },
            SyncError::Decode(m) | SyncError::Protocol(m) => Error::MalformedResponse(m),
            SyncError::Unauthorized { status, message } => Error::Unauthorized { status, message },
            SyncError::Refused {
                status,
                code,
                message,
            } => Error::Server {
                status,
                code,
                message,
            },
            e @ (SyncError::Change { .. } | SyncError::Snapshot(_)) => Error::Codec(e.to_string()),
            SyncError::SnapshotTooLarge { limit } => Error::SnapshotTooLarge { limit },
            SyncError::Storage(m) => Error::Storage(m),
            SyncError::Paused => Error::Paused,
            SyncError::Stopped => Error::NotStarted,
        }
    }
}
