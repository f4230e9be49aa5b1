//! Logging across the FFI: the host's [`LogListener`] receives the engine's decisions at or
//! above a [`LogLevel`] (see [`crate::Options::log_sink`]).

use std::fmt::Debug;
use std::sync::Arc;

use crate::ffi::error::MizuError;

/// How important a log record is, from the most to the least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed and the app may need to act (a store error).
    Error,
    /// Something failed and the engine copes (a rejection, going offline, a lost live
    /// connection).
    Warn,
    /// A milestone: a push's outcome, a snapshot, catching up, a backoff, an auth refresh, the
    /// live connection opening.
    Info,
    /// Per-request detail: each push, pull page, live notification and failed attempt.
    Debug,
    /// The finest detail: each HTTP exchange's status, size and time.
    Trace,
}

impl From<LogLevel> for crate::LogLevel {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => crate::LogLevel::Error,
            LogLevel::Warn => crate::LogLevel::Warn,
            LogLevel::Info => crate::LogLevel::Info,
            LogLevel::Debug => crate::LogLevel::Debug,
            LogLevel::Trace => crate::LogLevel::Trace,
        }
    }
}

impl From<crate::LogLevel> for LogLevel {
    fn from(level: crate::LogLevel) -> Self {
        match level {
            crate::LogLevel::Error => LogLevel::Error,
            crate::LogLevel::Warn => LogLevel::Warn,
            crate::LogLevel::Info => LogLevel::Info,
            crate::LogLevel::Debug => LogLevel::Debug,
            crate::LogLevel::Trace => LogLevel::Trace,
        }
    }
}

/// Receives the client's log records: the engine's decisions (push, pull, snapshot, backoff,
/// rejection, auth refresh, live connection, store errors). Records never hold a bearer
/// token, a header value or a key.
///
/// # Threading
/// Called on the library's threads (engine, I/O, live), at once (never through the delivery
/// queue), with no library lock held. An error returned from here is dropped.
#[uniffi::export(foreign)]
pub trait LogListener: Send + Sync + Debug {
    /// Called with one record: its level, its target (the kind of decision, e.g.
    /// `mizu_sync::push`) and its message.
    fn on_log(&self, level: LogLevel, target: String, message: String) -> Result<(), MizuError>;
}

/// `options` with `listener` installed as the log sink at `min_level`.
pub(crate) fn install(
    options: crate::Options,
    listener: Arc<dyn LogListener>,
    min_level: LogLevel,
) -> crate::Options {
    options.log_sink(min_level.into(), move |record| {
        let _ = listener.on_log(
            record.level.into(),
            record.target.to_string(),
            record.message.clone(),
        );
    })
}
