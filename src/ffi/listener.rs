//! The traits the host app implements: listeners (`…Listener`, one `on_…` method each) and the
//! functions the library runs for it (`…Fn`, `TokenProvider`).
//!
//! Every method returns a `Result`: an exception raised in host code arrives as an error (a
//! [`MizuError`] raised on purpose keeps its variant; any other exception becomes
//! [`MizuError::Callback`]) and never unwinds through Rust or stops a library thread.
//!
//! # Threading
//!
//! Methods are called on the thread that made the change: a local write's listeners run on the
//! writing thread before the write returns; a server change's listeners, and every client event
//! (`SyncListener`, `ConnectivityListener`, `ErrorListener`, `RejectionListener`), run on the
//! client's engine thread. No library lock is held during the call, so a listener may call back
//! into the library (except `flush` / `sync` from the engine thread, which return an error
//! instead of waiting on themselves).

use std::fmt::Debug;

use crate::ffi::error::MizuError;
use crate::ffi::query::QueryDiffOp;
use crate::ffi::record::{CollectionChange, EntityRecord, RejectedMutation, SyncStatus};

/// Receives the value of a signal or computed: the current one at once, then each new one.
#[uniffi::export(foreign)]
pub trait SignalListener: Send + Sync + Debug {
    /// Called with the value as JSON text.
    fn on_change(&self, value_json: String) -> Result<(), MizuError>;
}

/// Receives the value of an entity: the current one at once, then each new one.
#[uniffi::export(foreign)]
pub trait EntityListener: Send + Sync + Debug {
    /// Called with the value as JSON text, or `None` when the entity does not exist.
    fn on_change(&self, value_json: Option<String>) -> Result<(), MizuError>;
}

/// Receives the changes of a collection: every entity at once (as changed), then after each
/// change exactly what changed.
#[uniffi::export(foreign)]
pub trait CollectionListener: Send + Sync + Debug {
    /// Called with what changed since the previous call (everything on the first call).
    fn on_change(&self, change: CollectionChange) -> Result<(), MizuError>;
}

/// Receives a live query's result: the whole result at once, then a keyed diff after each
/// change.
#[uniffi::export(foreign)]
pub trait QueryListener: Send + Sync + Debug {
    /// Called once, first, with the whole result in order.
    fn on_result(&self, rows: Vec<EntityRecord>) -> Result<(), MizuError>;
    /// Called after each transaction that changed the result, with the steps (applied in
    /// order) that turn the previous result into the new one.
    fn on_diff(&self, diff: Vec<QueryDiffOp>) -> Result<(), MizuError>;
}

/// Receives the client's sync status: the current one at once, then each new one.
#[uniffi::export(foreign)]
pub trait StatusListener: Send + Sync + Debug {
    /// Called with the status.
    fn on_status(&self, status: SyncStatus) -> Result<(), MizuError>;
}

/// Told after each completed pull or snapshot.
#[uniffi::export(foreign)]
pub trait SyncListener: Send + Sync + Debug {
    /// Called with the new pull cursor.
    fn on_sync(&self, cursor: u64) -> Result<(), MizuError>;
}

/// Told when the client goes online or offline.
#[uniffi::export(foreign)]
pub trait ConnectivityListener: Send + Sync + Debug {
    /// Called with `true` on an offline → online transition, `false` on the reverse.
    fn on_connectivity(&self, online: bool) -> Result<(), MizuError>;
}

/// Receives errors: the client's (network trouble, rejected mutations, storage failures) and
/// failures of the app's own listeners.
#[uniffi::export(foreign)]
pub trait ErrorListener: Send + Sync + Debug {
    /// Called with the error. An error returned from here is dropped (reporting it would loop).
    fn on_error(&self, error: MizuError) -> Result<(), MizuError>;
}

/// Told when the server rejects a mutation (its optimistic effect is already rolled back).
#[uniffi::export(foreign)]
pub trait RejectionListener: Send + Sync + Debug {
    /// Called with the rejected mutation.
    fn on_rejected(&self, mutation: RejectedMutation) -> Result<(), MizuError>;
}

/// The function of a host-language computed: returns the value as JSON text. Every signal,
/// computed, collection or entity it reads through the library becomes a dependency.
#[uniffi::export(foreign)]
pub trait ComputedFn: Send + Sync + Debug {
    /// Computes the value.
    fn compute(&self) -> Result<String, MizuError>;
}

/// The function of a host-language effect: runs now and again after each change of what it
/// read through the library.
#[uniffi::export(foreign)]
pub trait EffectFn: Send + Sync + Debug {
    /// Runs the side effect.
    fn run(&self) -> Result<(), MizuError>;
}

/// A block of writes run by [`crate::ffi::batch`].
#[uniffi::export(foreign)]
pub trait BatchFn: Send + Sync + Debug {
    /// Runs the writes.
    fn run(&self) -> Result<(), MizuError>;
}

/// Maps a signal's value to its next one ([`crate::ffi::Signal::update`]).
#[uniffi::export(foreign)]
pub trait SignalUpdateFn: Send + Sync + Debug {
    /// Returns the next value (JSON text) for the current one.
    fn update(&self, value_json: String) -> Result<String, MizuError>;
}

/// Told that a client's deliveries wait for [`crate::ffi::Client::dispatch_pending`]: giving one
/// to the client's constructor gives it a delivery queue (see [`crate::Options::delivery_queue`]).
///
/// # Threading
/// Called on a library thread, never under a library lock, once each time deliveries start
/// waiting. Do not dispatch from inside the call: hand `dispatch_pending` to the thread where
/// listeners should run (the UI thread, an executor, an event loop).
#[uniffi::export(foreign)]
pub trait PendingListener: Send + Sync + Debug {
    /// Called when deliveries start waiting.
    fn on_pending(&self) -> Result<(), MizuError>;
}

/// Supplies the bearer token sent with every sync request and live handshake.
///
/// # Threading
/// Called on the client's background threads, never under a library lock.
#[uniffi::export(foreign)]
pub trait TokenProvider: Send + Sync + Debug {
    /// The token to send, or `None` for none. `refresh` is true after the server refused the
    /// previous token: obtain a new one. An error fails the request as unauthorized.
    fn token(&self, refresh: bool) -> Result<Option<String>, MizuError>;
}
