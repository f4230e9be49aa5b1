//! [`MizuStatus`], the one mapping from [`crate::Error`] to it, and the thread-local last-error
//! message behind [`mizu_last_error_message`].

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

use crate::Error;

/// The result of every fallible call of the C API. `MIZU_OK` is 0; any other value is an error
/// whose text [`mizu_last_error_message`] returns on the same thread.
///
/// New codes are only ever appended; existing values never change.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "C names them MIZU_*")]
pub enum MizuStatus {
    /// Success.
    MizuOk = 0,
    /// An argument is unusable: a NULL pointer, text that is not UTF-8, an empty id, an option
    /// out of range, an entity that already exists, a handle of the wrong kind or one that was
    /// never issued.
    MizuErrInvalidArgument = 1,
    /// Text that should be JSON is not, or a value does not encode or decode as JSON.
    MizuErrInvalidJson = 2,
    /// The entity does not exist.
    MizuErrNotFound = 3,
    /// The client was closed, or the handle was already freed.
    MizuErrClosed = 4,
    /// The server could not be reached, or the connection broke.
    MizuErrNetwork = 5,
    /// The server did not answer in time, or a wait (`mizu_client_flush`) ran out of time.
    MizuErrTimeout = 6,
    /// The server answered with an error, or with data this client cannot read.
    MizuErrServer = 7,
    /// The server rejected a mutation; its optimistic effect has been rolled back.
    MizuErrRejected = 8,
    /// The local store could not read or write.
    MizuErrStorage = 9,
    /// The operation needs a started client (`mizu_client_start`).
    MizuErrNotStarted = 10,
    /// A bug or an environment failure (for example a thread that could not start).
    MizuErrInternal = 11,
    /// A panic inside the library was caught at the boundary; the library may be in an
    /// unexpected state.
    MizuErrPanic = 12,
    /// The server refused the credentials (HTTP 401 / 403).
    MizuErrUnauthorized = 13,
    /// Syncing is paused (`mizu_client_pause`).
    MizuErrPaused = 14,
    /// A query is malformed: an empty or malformed field path, an unknown operator or key, an
    /// operand of the wrong kind, a negative limit.
    MizuErrInvalidQuery = 15,
    /// `mizu_client_clear` refused: local writes have not reached the server, and discarding
    /// them was not asked for. Nothing was deleted.
    MizuErrPendingWrites = 16,
    /// The store file is encrypted and the `encryption_key` is wrong or missing, or a key was
    /// given for a plain store file.
    MizuErrWrongKey = 17,
    /// The server's snapshot is larger than the configured `max_snapshot_bytes`; the local
    /// state was kept. Asked for again at the next pull interval, live notice or sync.
    MizuErrSnapshotTooLarge = 18,
}

/// An error on its way out of the C API: a status and its message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CError {
    pub(crate) status: MizuStatus,
    pub(crate) message: String,
}

impl CError {
    pub(crate) fn new(status: MizuStatus, message: impl Into<String>) -> Self {
        CError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        CError::new(MizuStatus::MizuErrInvalidArgument, message)
    }

    /// A JSON parse failure: malformed text is `MIZU_ERR_INVALID_JSON`; well-formed JSON of the
    /// wrong shape (an unknown key, a wrong type) is `MIZU_ERR_INVALID_ARGUMENT`.
    pub(crate) fn json(what: &str, e: &serde_json::Error) -> Self {
        let status = match e.classify() {
            serde_json::error::Category::Data => MizuStatus::MizuErrInvalidArgument,
            _ => MizuStatus::MizuErrInvalidJson,
        };
        CError::new(status, format!("{what}: {e}"))
    }
}

impl From<Error> for CError {
    fn from(e: Error) -> Self {
        CError::new(status_of(&e), e.to_string())
    }
}

/// The one mapping from the core's error to a status code.
pub(crate) fn status_of(e: &Error) -> MizuStatus {
    match e {
        Error::InvalidArgument(_) => MizuStatus::MizuErrInvalidArgument,
        Error::InvalidQuery(_) => MizuStatus::MizuErrInvalidQuery,
        Error::Serialization(_) => MizuStatus::MizuErrInvalidJson,
        Error::Storage(_) => MizuStatus::MizuErrStorage,
        Error::WrongKey(_) => MizuStatus::MizuErrWrongKey,
        Error::Network(_) => MizuStatus::MizuErrNetwork,
        Error::Timeout | Error::WaitTimedOut(_) => MizuStatus::MizuErrTimeout,
        Error::Server { .. } | Error::MalformedResponse(_) | Error::Codec(_) => {
            MizuStatus::MizuErrServer
        }
        Error::Rejected { .. } => MizuStatus::MizuErrRejected,
        Error::Closed => MizuStatus::MizuErrClosed,
        Error::Unauthorized { .. } => MizuStatus::MizuErrUnauthorized,
        Error::NotStarted => MizuStatus::MizuErrNotStarted,
        Error::Paused => MizuStatus::MizuErrPaused,
        Error::Internal(_) => MizuStatus::MizuErrInternal,
        Error::PendingWrites { .. } => MizuStatus::MizuErrPendingWrites,
        Error::SnapshotTooLarge { .. } => MizuStatus::MizuErrSnapshotTooLarge,
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the message of this thread's last call: empty after a success.
pub(crate) fn set_last_error(message: &str) {
    let text = c_text(message);
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// `text` as a C string, with any NUL byte (which C cannot carry) replaced by U+FFFD.
pub(crate) fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// The message of the last call made on this thread: why it failed, or an empty string after a
/// success. Never NULL.
///
/// # Ownership
/// The library owns the string; it stays valid until the next call into the library on this
/// thread. Copy it to keep it. Do not free it.
///
/// # Threading
/// Thread-local: each thread sees the message of its own last call.
#[no_mangle]
pub extern "C" fn mizu_last_error_message() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// Every status with its name, in code order.
const NAMES: [(MizuStatus, &CStr); 19] = [
    (MizuStatus::MizuOk, c"MIZU_OK"),
    (
        MizuStatus::MizuErrInvalidArgument,
        c"MIZU_ERR_INVALID_ARGUMENT",
    ),
    (MizuStatus::MizuErrInvalidJson, c"MIZU_ERR_INVALID_JSON"),
    (MizuStatus::MizuErrNotFound, c"MIZU_ERR_NOT_FOUND"),
    (MizuStatus::MizuErrClosed, c"MIZU_ERR_CLOSED"),
    (MizuStatus::MizuErrNetwork, c"MIZU_ERR_NETWORK"),
    (MizuStatus::MizuErrTimeout, c"MIZU_ERR_TIMEOUT"),
    (MizuStatus::MizuErrServer, c"MIZU_ERR_SERVER"),
    (MizuStatus::MizuErrRejected, c"MIZU_ERR_REJECTED"),
    (MizuStatus::MizuErrStorage, c"MIZU_ERR_STORAGE"),
    (MizuStatus::MizuErrNotStarted, c"MIZU_ERR_NOT_STARTED"),
    (MizuStatus::MizuErrInternal, c"MIZU_ERR_INTERNAL"),
    (MizuStatus::MizuErrPanic, c"MIZU_ERR_PANIC"),
    (MizuStatus::MizuErrUnauthorized, c"MIZU_ERR_UNAUTHORIZED"),
    (MizuStatus::MizuErrPaused, c"MIZU_ERR_PAUSED"),
    (MizuStatus::MizuErrInvalidQuery, c"MIZU_ERR_INVALID_QUERY"),
    (MizuStatus::MizuErrPendingWrites, c"MIZU_ERR_PENDING_WRITES"),
    (MizuStatus::MizuErrWrongKey, c"MIZU_ERR_WRONG_KEY"),
    (
        MizuStatus::MizuErrSnapshotTooLarge,
        c"MIZU_ERR_SNAPSHOT_TOO_LARGE",
    ),
];

/// A static name for the status code `status`, such as `"MIZU_ERR_NOT_FOUND"`, or
/// `"MIZU_ERR_UNKNOWN"` for a number that is no status. Never NULL.
///
/// Takes an `int` rather than a `MizuStatus` so that any number is safe to pass.
///
/// # Ownership
/// Static storage: never free it.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_status_name(status: c_int) -> *const c_char {
    NAMES
        .iter()
        .find(|(s, _)| *s as c_int == status)
        .map_or(c"MIZU_ERR_UNKNOWN", |(_, name)| name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_each_core_error_to_the_status_an_app_acts_on() {
        assert_eq!(status_of(&Error::Closed), MizuStatus::MizuErrClosed);
        assert_eq!(status_of(&Error::Timeout), MizuStatus::MizuErrTimeout);
        assert_eq!(
            status_of(&Error::WaitTimedOut(std::time::Duration::from_secs(1))),
            MizuStatus::MizuErrTimeout
        );
        let rejected = Error::Rejected {
            mutation_id: "m".into(),
            name: "todo.create".into(),
            reason: "no".into(),
        };
        assert_eq!(status_of(&rejected), MizuStatus::MizuErrRejected);
        assert_eq!(
            status_of(&Error::Serialization("x".into())),
            MizuStatus::MizuErrInvalidJson
        );
        assert_eq!(
            status_of(&Error::WrongKey("x".into())),
            MizuStatus::MizuErrWrongKey
        );
    }

    #[test]
    fn names_every_status_and_survives_numbers_that_are_none() {
        for (i, (status, _)) in NAMES.iter().enumerate() {
            assert_eq!(*status as usize, i, "codes are dense and in order");
        }
        // SAFETY: the returned pointers are static NUL-terminated strings.
        let name = |n| {
            unsafe { CStr::from_ptr(mizu_status_name(n)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(name(3), "MIZU_ERR_NOT_FOUND");
        assert_eq!(name(99), "MIZU_ERR_UNKNOWN");
        assert_eq!(name(-1), "MIZU_ERR_UNKNOWN");
    }

    #[test]
    fn tells_malformed_json_from_json_of_the_wrong_shape() {
        let syntax = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(
            CError::json("v", &syntax).status,
            MizuStatus::MizuErrInvalidJson
        );
        let shape = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        assert_eq!(
            CError::json("v", &shape).status,
            MizuStatus::MizuErrInvalidArgument
        );
    }
}
