//! [`Effect`]: a host side effect that Rust re-runs after each change of what it read; and the
//! graph-wide helpers [`batch`] and [`untracked`].

use std::sync::Arc;

use crate::ffi::closable::Closable;
use crate::ffi::error::MizuError;
use crate::ffi::listener::{BatchFn, ComputedFn, EffectFn};
use crate::ffi::listener_list::report_unhandled;
use crate::reactive;

/// A side effect: the host function runs once now, then again after every change of the
/// signals, computeds, collections and entities it read through the library in its last run.
///
/// It re-runs on the thread whose write triggered it (the client's engine thread for server
/// changes), before that write returns. An error from the function goes to
/// [`crate::ffi::on_unhandled_error`]; the effect keeps running.
#[derive(uniffi::Object)]
pub struct Effect {
    inner: Closable<Arc<reactive::Effect>>,
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effect")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

#[uniffi::export]
impl Effect {
    /// Creates the effect and runs `f` once, on this thread, before returning.
    #[uniffi::constructor]
    pub fn new(f: Arc<dyn EffectFn>) -> Arc<Self> {
        let effect = reactive::Effect::new(move || {
            if let Err(e) = f.run() {
                report_unhandled(e);
            }
        });
        Arc::new(Effect {
            inner: Closable::new("effect", Arc::new(effect)),
        })
    }

    /// Stops the effect and releases its function: it never runs again once this returns
    /// (a run in progress on another thread finishes). Idempotent; dropping the handle does
    /// the same.
    pub fn stop(&self) {
        if let Some(effect) = self.inner.close() {
            effect.stop();
        }
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.is_closed()
    }
}

/// Runs `f`, deferring the effects its writes trigger on this thread until it returns; each
/// effect then runs once and sees all the writes.
///
/// # Errors
/// The error `f` returned (its writes stay, and their effects still run).
#[uniffi::export]
pub fn batch(f: Arc<dyn BatchFn>) -> Result<(), MizuError> {
    reactive::batch(|| f.run())
}

/// Runs `f` and returns its result without tracking its reads: inside a computed or effect
/// function, what `f` reads does not become a dependency.
///
/// # Errors
/// The error `f` returned.
#[uniffi::export]
pub fn untracked(f: Arc<dyn ComputedFn>) -> Result<String, MizuError> {
    reactive::untrack(|| f.compute())
}
