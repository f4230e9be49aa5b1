//! The store's error type: everything that can go wrong reading or writing local state.

use crate::protocol::entity::EntityKey;

/// What went wrong in the store.
///
/// A failed write changes nothing: neither the file nor the in-memory state.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite reported an error (I/O, disk full, constraint, ...).
    #[error("SQLite error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The file is not a SQLite database, or a row holds data this library never writes.
    #[error("the store file is corrupt: {0}")]
    Corrupt(String),
    /// The file is encrypted and the key given is wrong or missing, or a key was given for a
    /// plain (unencrypted) file.
    #[error("wrong encryption key: {0}")]
    WrongKey(String),
    /// Rekeying needs a store opened with a key (a plain file or memory has none to change).
    #[error("the store is not encrypted")]
    NotEncrypted,
    /// The file was written by a newer version of this library.
    #[error("the store file has schema version {found}; this library supports up to {supported}")]
    SchemaTooNew {
        /// The file's schema version.
        found: i64,
        /// The newest schema version this library knows.
        supported: i64,
    },
    /// Another store (in this or another process) has the file open.
    #[error("the store file is in use by another store")]
    Locked,
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
    /// A store file could not be deleted (by [`Store::wipe`](crate::store::Store::wipe)).
    #[error("cannot delete {path}: {source}")]
    Delete {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A mutation with this id is already pending.
    #[error("mutation {0:?} is already pending")]
    DuplicateMutation(String),
    /// A change handed to the store is malformed (a create without a value, a value that is
    /// not JSON, ...).
    #[error("invalid change for {}/{}: {reason}", key.collection, key.id)]
    InvalidChange {
        /// The entity the change is for.
        key: EntityKey,
        /// What is wrong with it.
        reason: String,
    },
    /// A mutation could not be encoded as JSON for storage.
    #[error("cannot encode mutation {id:?}: {source}")]
    Encode {
        /// The mutation's id.
        id: String,
        /// The encoder's error.
        source: serde_json::Error,
    },
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                Error::Corrupt(format!("not a SQLite database ({err})"))
            }
            Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt(err.to_string()),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked,
            _ => Error::Sqlite(err),
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
