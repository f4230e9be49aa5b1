//! Logging: the engine's decisions (push, pull, snapshot, backoff, rejection, auth refresh, live
//! connection, store errors) as records for the [`log`] facade and for a sink the host installs
//! with [`Options::log_sink`](crate::Options::log_sink).
//!
//! Every record has a target under `mizu_sync::` naming the kind of decision (see
//! [`targets`]); the message never holds a bearer token, a header value, or an encryption key.
//! A record is formatted only when the sink or the `log` logger wants its level: with nobody
//! listening, a log site costs two comparisons.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// How important a [`LogRecord`] is, from the most to the least severe (`Error < Trace`, as
/// `log::Level` orders them: a minimum level of `Info` lets `Error`, `Warn` and `Info` through).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed and the app may need to act: a store error.
    Error = 1,
    /// Something failed and the engine copes: a rejected mutation, going offline, a lost
    /// live connection.
    Warn,
    /// A milestone: a push's outcome, a snapshot, reaching the head, going on- or offline, a
    /// backoff, an auth refresh, a live connection opened.
    Info,
    /// Per-request detail: each push, pull page, live notification and failed attempt.
    Debug,
    /// The finest detail (each HTTP exchange's status, size and time).
    Trace,
}

impl LogLevel {
    /// The `log` crate's level of the same name.
    pub fn to_log(self) -> log::Level {
        match self {
            LogLevel::Error => log::Level::Error,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Info => log::Level::Info,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Trace => log::Level::Trace,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_log(), f)
    }
}

/// One log record handed to the sink of [`Options::log_sink`](crate::Options::log_sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// How important it is.
    pub level: LogLevel,
    /// The kind of decision, one of [`targets`] (e.g. `mizu_sync::push`).
    pub target: &'static str,
    /// What happened, in one line of English. Never holds a token, a header value or a key.
    pub message: String,
}

/// Receives the records at or above the sink's minimum level.
///
/// # Threading
/// Called on the library's threads (the engine, I/O and live threads), with no lock of the
/// library held: it may call back into the client. A panic in it is caught and the record
/// dropped.
pub type LogSink = Arc<dyn Fn(&LogRecord) + Send + Sync>;

/// The targets of the records, one per kind of decision.
pub mod targets {
    /// Starting and stopping the engine; going online or offline; errors reported to `on_error`.
    pub const ENGINE: &str = "mizu_sync::engine";
    /// What is pushed and what the server answered.
    pub const PUSH: &str = "mizu_sync::push";
    /// Each pull page (from which cursor, how many changes, whether more follow), reaching the
    /// head.
    pub const PULL: &str = "mizu_sync::pull";
    /// Snapshots (bootstrap, recovery after a 410): how many entities, at which cursor.
    pub const SNAPSHOT: &str = "mizu_sync::snapshot";
    /// Retry delays after a failure, and why.
    pub const BACKOFF: &str = "mizu_sync::backoff";
    /// Mutations the server refused: id, name and reason.
    pub const REJECTION: &str = "mizu_sync::rejection";
    /// Refused credentials and their refresh (never the token).
    pub const AUTH: &str = "mizu_sync::auth";
    /// The live connection: connected, disconnected, notifications.
    pub const LIVE: &str = "mizu_sync::live";
    /// Errors of the local store.
    pub const STORE: &str = "mizu_sync::store";
    /// Each HTTP exchange: endpoint, status, size, time (never a header).
    pub const HTTP: &str = "mizu_sync::http";
}

/// Where one client's records go: its own sink (when the host installed one) and the `log`
/// facade. Cheap to clone; shared by the engine, transport and live threads.
#[derive(Clone, Default)]
pub(crate) struct Logger {
    sink: Option<(LogLevel, LogSink)>,
}

impl Logger {
    pub(crate) fn new(sink: Option<(LogLevel, LogSink)>) -> Self {
        Logger { sink }
    }

    fn sink_wants(&self, level: LogLevel) -> bool {
        self.sink.as_ref().is_some_and(|(min, _)| level <= *min)
    }

    /// Whether a record at `level` for `target` would go anywhere (check before formatting).
    #[inline]
    pub(crate) fn enabled(&self, level: LogLevel, target: &str) -> bool {
        self.sink_wants(level) || log::log_enabled!(target: target, level.to_log())
    }

    /// Sends one record to the `log` facade and to the sink, as each wants it.
    pub(crate) fn emit(&self, level: LogLevel, target: &'static str, args: fmt::Arguments<'_>) {
        if log::log_enabled!(target: target, level.to_log()) {
            log::logger().log(
                &log::Record::builder()
                    .args(args)
                    .level(level.to_log())
                    .target(target)
                    .module_path_static(Some(module_path!()))
                    .build(),
            );
        }
        if let Some((min, sink)) = &self.sink {
            if level <= *min {
                let record = LogRecord {
                    level,
                    target,
                    message: args.to_string(),
                };
                // The sink is host code: a panic in it must not unwind into the engine.
                let _ = catch_unwind(AssertUnwindSafe(|| sink(&record)));
            }
        }
    }
}

/// Logs through a [`Logger`], formatting only when someone listens at that level:
/// `log_to!(logger, Info, targets::PUSH, "pushed {n}")`.
macro_rules! log_to {
    ($logger:expr, $level:ident, $target:expr, $($arg:tt)+) => {{
        let logger: &$crate::client::logging::Logger = &$logger;
        let level = $crate::client::logging::LogLevel::$level;
        if logger.enabled(level, $target) {
            logger.emit(level, $target, format_args!($($arg)+));
        }
    }};
}
pub(crate) use log_to;

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn passes_records_at_or_above_the_minimum_level_only() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let sink: LogSink = Arc::new(move |r: &LogRecord| into.lock().unwrap().push(r.clone()));
        let logger = Logger::new(Some((LogLevel::Info, sink)));
        log_to!(logger, Warn, targets::PUSH, "warned {}", 1);
        log_to!(logger, Info, targets::PULL, "told {}", 2);
        log_to!(logger, Debug, targets::HTTP, "detail {}", 3);
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                LogRecord {
                    level: LogLevel::Warn,
                    target: targets::PUSH,
                    message: "warned 1".into()
                },
                LogRecord {
                    level: LogLevel::Info,
                    target: targets::PULL,
                    message: "told 2".into()
                },
            ]
        );
    }

    #[test]
    fn survives_a_panicking_sink() {
        let sink: LogSink = Arc::new(|_: &LogRecord| panic!("sink failed"));
        let logger = Logger::new(Some((LogLevel::Trace, sink)));
        log_to!(logger, Error, targets::STORE, "still running");
    }

    #[test]
    fn does_not_format_without_a_listener() {
        struct Counting<'a>(&'a Mutex<u32>);
        impl fmt::Display for Counting<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                *self.0.lock().unwrap() += 1;
                f.write_str("x")
            }
        }
        let formatted = Mutex::new(0);
        let logger = Logger::default();
        log_to!(logger, Error, targets::ENGINE, "{}", Counting(&formatted));
        assert_eq!(*formatted.lock().unwrap(), 0);
    }
}
