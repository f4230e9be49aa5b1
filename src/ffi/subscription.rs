//! [`Subscription`]: the handle of every listener, effect-backed or event-backed.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ffi::error::MizuError;
use crate::reactive;

/// A registered listener. [`cancel`](Self::cancel) (or dropping the handle, e.g. by the host's
/// garbage collector) stops it; the subscription holds the only strong reference to the
/// listener, so cancelling also releases the listener object.
#[derive(uniffi::Object)]
pub struct Subscription {
    /// Whatever keeps the listener registered; dropping it unregisters.
    inner: Mutex<Option<Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Subscription {
    /// A subscription that unregisters its listener when `guard` is dropped.
    pub(crate) fn new(guard: impl Any + Send) -> Arc<Self> {
        Arc::new(Subscription {
            inner: Mutex::new(Some(Box::new(guard))),
        })
    }

    fn take(&self) -> Option<Box<dyn Any + Send>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

#[uniffi::export]
impl Subscription {
    /// Stops the listener: it is not called again once this returns (except a call already
    /// running on another thread, which finishes). Idempotent.
    pub fn cancel(&self) {
        // Dropped outside the lock: dropping may release a host object.
        drop(self.take());
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Runs `read` in an effect and hands each result to `deliver`; the effect stops with the
/// returned subscription. A failed read or delivery goes to `report`.
pub(crate) fn watch<T: 'static>(
    mut read: impl FnMut() -> Result<T, MizuError> + Send + 'static,
    deliver: impl Fn(T) -> Result<(), MizuError> + Send + 'static,
    report: impl Fn(MizuError) + Send + 'static,
) -> Arc<Subscription> {
    Subscription::new(reactive::Effect::new(move || {
        if let Err(e) = read().and_then(&deliver) {
            report(e);
        }
    }))
}
