//! C callbacks: function pointers, their `void *user_data`, and the `release` function that
//! tells C when the library will never call them again.

use std::ffi::{c_char, c_void};

/// Called once with the `user_data` of a callback when the library will never call it again
/// (the handle was freed and any run in flight on another thread has finished). Free your
/// user data here.
pub type MizuReleaseFn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A callback without arguments: an effect's body, a batch, an untracked section, or the
/// notice that deliveries wait for `mizu_client_dispatch_pending`.
pub type MizuVoidFn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Receives a value as JSON text. The string is lent for the duration of the call only: copy it
/// to keep it; do not free it. For an entity, NULL means the entity does not exist.
pub type MizuValueFn = Option<unsafe extern "C" fn(user_data: *mut c_void, json: *const c_char)>;

/// Computes a computed's value: returns JSON text in memory from `malloc` (for example from
/// `strdup` or `asprintf`), which the library takes over and releases with `free`. Returning
/// NULL or text that is not JSON makes `mizu_computed_get` fail with
/// `MIZU_ERR_INVALID_ARGUMENT` or `MIZU_ERR_INVALID_JSON`.
pub type MizuComputeFn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> *mut c_char>;

/// Computes a signal's next value from its current one, for `mizu_signal_update`.
/// `current_json` is the current value as JSON text, lent for the call only: copy it to keep
/// it; do not free it. Returns the next value as JSON text in memory from `malloc` (for example
/// from `strdup` or `asprintf`), which the library takes over and releases with `free`, or NULL
/// to abandon the update. The function may run more than once per update (again on a newer
/// value when another thread wrote the signal meanwhile), so it should have no effects beyond
/// computing its result.
pub type MizuUpdateFn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, current_json: *const c_char) -> *mut c_char,
>;

/// Told of a connectivity transition: `online` is true when the client went online, false
/// when it went offline.
pub type MizuConnectivityFn = Option<unsafe extern "C" fn(user_data: *mut c_void, online: bool)>;

/// Receives the new pull cursor after each completed pull or snapshot.
pub type MizuSyncFn = Option<unsafe extern "C" fn(user_data: *mut c_void, cursor: u64)>;

/// Receives each error the sync engine surfaces: its status and message (lent for the call).
pub type MizuErrorFn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: super::status::MizuStatus,
        message: *const c_char,
    ),
>;

/// How important a log record is (see `MizuClientCallbacks::on_log`), from the most to the
/// least severe.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "C names them MIZU_LOG_*")]
pub enum MizuLogLevel {
    /// Something failed and the app may need to act (a store error).
    MizuLogError = 1,
    /// Something failed and the engine copes (a rejection, going offline, a lost live
    /// connection).
    MizuLogWarn = 2,
    /// A milestone: a push's outcome, a snapshot, catching up, a backoff, an auth refresh, the
    /// live connection opening.
    MizuLogInfo = 3,
    /// Per-request detail: each push, pull page, live notification and failed attempt.
    MizuLogDebug = 4,
    /// The finest detail: each HTTP exchange's status, size and time.
    MizuLogTrace = 5,
}

impl MizuLogLevel {
    pub(crate) fn of(level: crate::LogLevel) -> Self {
        match level {
            crate::LogLevel::Error => MizuLogLevel::MizuLogError,
            crate::LogLevel::Warn => MizuLogLevel::MizuLogWarn,
            crate::LogLevel::Info => MizuLogLevel::MizuLogInfo,
            crate::LogLevel::Debug => MizuLogLevel::MizuLogDebug,
            crate::LogLevel::Trace => MizuLogLevel::MizuLogTrace,
        }
    }

    /// The minimum level a C `min_log_level` field asks for: 0 means Info, above 5 Trace.
    pub(crate) fn minimum(raw: u32) -> crate::LogLevel {
        match raw {
            1 => crate::LogLevel::Error,
            2 => crate::LogLevel::Warn,
            0 | 3 => crate::LogLevel::Info,
            4 => crate::LogLevel::Debug,
            _ => crate::LogLevel::Trace,
        }
    }
}

/// Receives one log record: its level, its target (the kind of decision, e.g.
/// `"mizu_sync::push"`) and its message, both lent for the call only. Records never hold a
/// bearer token, a header value or a key.
pub type MizuLogFn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: MizuLogLevel,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// A `void *user_data` shared by the callbacks of one registration; calls `release` when the
/// last callback holding it is dropped.
pub(crate) struct UserData {
    ptr: *mut c_void,
    release: MizuReleaseFn,
}

// SAFETY: the C API documents that callbacks may run on any thread (the sync thread, or the
// thread that wrote a signal) and that user_data must be usable from there; the library itself
// never reads through the pointer, it only passes it back to the caller's functions.
unsafe impl Send for UserData {}
// SAFETY: as for Send: the pointer is only handed back to C, which documented thread-safety for it.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, release: MizuReleaseFn) -> Self {
        UserData { ptr, release }
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the caller registered `release` for exactly this user_data, to be called
            // once when the library drops it; this is that one drop.
            unsafe { release(self.ptr) };
        }
    }
}
