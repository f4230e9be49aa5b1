//! [`MizuError`]: the one error of the foreign-language surface, classified by what the app
//! would do differently, and its mapping from the core's [`crate::Error`].

/// An error raised by the mizu-sync bindings (a `MizuError` exception in Python, `MizuException`
/// in Kotlin, `MizuError` in Swift).
///
/// Listener and callback methods the app implements return it too: raising one (or any other
/// exception, which arrives as [`MizuError::Callback`]) never crashes the library; the error is
/// reported through the client's error listeners or [`crate::ffi::on_unhandled_error`].
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum MizuError {
    /// The caller passed something unusable: an empty id, a malformed URL, bad options, an
    /// entity id that already exists on `create`.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What was wrong.
        reason: String,
    },
    /// A query is malformed: an empty or malformed field path, an unknown operator or key in a
    /// JSON spec, an operand that is not JSON or of the wrong kind, a negative limit.
    #[error("invalid query: {reason}")]
    InvalidQuery {
        /// What was wrong.
        reason: String,
    },
    /// A value is not valid JSON, or not JSON of the shape the operation needs.
    #[error("invalid JSON: {reason}")]
    InvalidJson {
        /// The parser's message.
        reason: String,
    },
    /// The entity (or other named thing) the operation needs does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for, e.g. `todo/todo-1`.
        what: String,
    },
    /// The handle (client, collection, entity, signal, ...) was closed.
    #[error("{what} is closed")]
    Closed {
        /// Which kind of handle, e.g. `client` or `signal`.
        what: String,
    },
    /// Syncing is not running (the client is not started, or paused): start or resume it.
    #[error("offline: {reason}")]
    Offline {
        /// Why the client is not syncing.
        reason: String,
    },
    /// The server could not be reached, the connection broke, or it did not answer in time.
    /// Local reads and writes keep working; the client retries by itself.
    #[error("network: {reason}")]
    Network {
        /// The transport's message.
        reason: String,
    },
    /// A wait (`flush`) ran out of time before the server confirmed everything.
    #[error("timed out: {reason}")]
    Timeout {
        /// What was waited for.
        reason: String,
    },
    /// The server refused the credentials, even after a token refresh.
    #[error("not authorized (HTTP {status}): {reason}")]
    Unauthorized {
        /// The HTTP status (401 or 403).
        status: u16,
        /// The server's message.
        reason: String,
    },
    /// The server answered with an error, or with something this client cannot read.
    #[error("server error (HTTP {status}): {reason}")]
    Server {
        /// The HTTP status (200 for an unreadable success answer).
        status: u16,
        /// The protocol error code, when the server sent one.
        code: Option<String>,
        /// The server's message.
        reason: String,
    },
    /// The server rejected one mutation; its optimistic effect has been rolled back.
    #[error("mutation {mutation_id} ({name}) was rejected: {reason}")]
    Rejected {
        /// The mutation's id, as returned by `mutate` (entity writes have ids too).
        mutation_id: String,
        /// The mutation's name, e.g. `todo.update`.
        name: String,
        /// The server's reason.
        reason: String,
    },
    /// The local store could not read or write (disk full, corrupt file, file in use).
    #[error("storage: {reason}")]
    Storage {
        /// The store's message.
        reason: String,
    },
    /// `clear` refused: local writes have not reached the server, and discarding them was not
    /// asked for. Nothing was deleted.
    #[error("{count} local write(s) have not reached the server")]
    PendingWrites {
        /// How many mutations wait.
        count: u64,
    },
    /// The store file is encrypted and the encryption key is wrong or missing, or a key was
    /// given for a plain store file. Nothing was changed; open it again with the right key.
    #[error("wrong encryption key: {reason}")]
    WrongKey {
        /// What did not match.
        reason: String,
    },
    /// The server's snapshot is larger than the configured `max_snapshot_bytes`; the local state
    /// was kept. Asked for again at the next pull interval, live notice or `sync`.
    #[error("the snapshot is larger than the configured limit of {limit} bytes")]
    SnapshotTooLarge {
        /// The configured limit, in bytes.
        limit: u64,
    },
    /// App code called by the library (a listener, a computed or effect function) failed.
    #[error("callback failed: {reason}")]
    Callback {
        /// The host exception's text.
        reason: String,
    },
    /// A bug or an environment failure (a thread that could not start).
    #[error("internal error: {reason}")]
    Internal {
        /// What happened.
        reason: String,
    },
}

impl MizuError {
    pub(crate) fn closed(what: &str) -> Self {
        MizuError::Closed { what: what.into() }
    }

    pub(crate) fn invalid_json(e: &serde_json::Error) -> Self {
        MizuError::InvalidJson {
            reason: e.to_string(),
        }
    }
}

impl From<crate::Error> for MizuError {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        let reason = e.to_string();
        match e {
            E::InvalidArgument(reason) => MizuError::InvalidArgument { reason },
            E::InvalidQuery(e) => MizuError::InvalidQuery {
                reason: e.to_string(),
            },
            E::Serialization(reason) => MizuError::InvalidJson {
                reason: reason.to_string(),
            },
            E::Storage(reason) => MizuError::Storage {
                reason: reason.to_string(),
            },
            E::WrongKey(reason) => MizuError::WrongKey { reason },
            E::Network(reason) => MizuError::Network { reason },
            E::Timeout => MizuError::Network { reason },
            E::WaitTimedOut(_) => MizuError::Timeout { reason },
            E::Server {
                status,
                code,
                message,
            } => MizuError::Server {
                status,
                code,
                reason: message,
            },
            E::MalformedResponse(reason) | E::Codec(reason) => MizuError::Server {
                status: 200,
                code: None,
                reason,
            },
            E::Rejected {
                mutation_id,
                name,
                reason,
            } => MizuError::Rejected {
                mutation_id,
                name,
                reason,
            },
            E::Closed => MizuError::closed("client"),
            E::SnapshotTooLarge { limit } => MizuError::SnapshotTooLarge { limit },
            E::Unauthorized { status, message } => MizuError::Unauthorized {
                status,
                reason: message,
            },
            E::NotStarted | E::Paused => MizuError::Offline { reason },
            E::Internal(reason) => MizuError::Internal { reason },
            E::PendingWrites { count } => MizuError::PendingWrites {
                count: count as u64,
            },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for MizuError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        MizuError::Callback { reason: e.reason }
    }
}

impl From<serde_json::Error> for MizuError {
    fn from(e: serde_json::Error) -> Self {
        MizuError::invalid_json(&e)
    }
}

/// The message of a caught panic (`catch_unwind`'s payload), for the errors that report it at
/// the foreign boundaries (the direct calls here, the C API).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
