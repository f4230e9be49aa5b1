//! [`Error`]: everything a [`crate::Client`], [`crate::Collection`] or [`crate::Entity`] can
//! report, classified by what the app would do differently.

use std::error::Error as StdError;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

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
    Serialization(#[source] Reason),
    /// The local store could not read or write (disk full, corrupt file, schema too new).
    #[error("storage: {0}")]
    Storage(#[source] Reason),
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
            e => Error::Storage(Reason::from_error(e)),
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
            SyncError::Storage(m) => Error::Storage(m.into()),
            SyncError::Paused => Error::Paused,
            SyncError::Stopped => Error::NotStarted,
        }
    }
}

/// The text of an [`Error`] variant, with the lower-level error it came from (SQLite's, the
/// file system's, serde's) kept for [`source`](StdError::source), so that a caller walking the
/// chain reaches the original error. Reads as its text: `Display`, `Debug` and `Deref<Target =
/// str>` show the text, and two reasons are equal when their texts are.
#[derive(Clone)]
pub struct Reason {
    text: String,
    origin: Origin,
}

#[derive(Clone)]
enum Origin {
    /// A reason of its own (a check of this crate failed).
    None,
    /// The text is this error's own message: the reason stands for it, and its source is this
    /// error's source.
    Is(Arc<dyn StdError + Send + Sync>),
    /// The text tells what failed; this error is why (the source).
    CausedBy(Arc<dyn StdError + Send + Sync>),
}

impl Reason {
    /// A reason that stands for `error`: its text and its sources.
    pub(crate) fn from_error(error: impl StdError + Send + Sync + 'static) -> Self {
        Reason {
            text: error.to_string(),
            origin: Origin::Is(Arc::new(error)),
        }
    }

    /// `text`, caused by `error` (which becomes the source).
    pub(crate) fn caused_by(
        text: impl Into<String>,
        error: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Reason {
            text: text.into(),
            origin: Origin::CausedBy(Arc::new(error)),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Reason {
            text,
            origin: Origin::None,
        }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Reason::from(text.to_owned())
    }
}

impl Deref for Reason {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl PartialEq for Reason {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl StdError for Reason {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.origin {
            Origin::None => None,
            Origin::Is(error) => error.source(),
            Origin::CausedBy(error) => Some(error.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_storage_error_keeps_the_sqlite_error_as_its_source() {
        let sqlite = rusqlite::Error::InvalidQuery;
        let expected = sqlite.to_string();
        let error = Error::from(crate::store::Error::Sqlite(sqlite));
        assert!(matches!(&error, Error::Storage(reason) if reason.contains(&expected)));
        let source = error.source().expect("the reason");
        let root = source.source().expect("SQLite's error");
        assert!(root.downcast_ref::<rusqlite::Error>().is_some(), "{root:?}");
    }

    #[test]
    fn a_serialization_error_keeps_serdes_error_as_its_source() {
        let serde = serde_json::from_str::<u8>("x").unwrap_err();
        let error = Error::Serialization(Reason::caused_by("not JSON", serde));
        assert_eq!(error.to_string(), "serialization: not JSON");
        let root = error.source().and_then(|reason| reason.source());
        assert!(root.is_some_and(|e| e.downcast_ref::<serde_json::Error>().is_some()));
    }
}
