//! [`Computed`]: a derived value whose function the host supplies and Rust runs while tracking
//! what it reads, so one graph spans both sides.

use std::sync::Arc;

use crate::ffi::closable::Closable;
use crate::ffi::error::MizuError;
use crate::ffi::listener::{ComputedFn, SignalListener};
use crate::ffi::listener_list::report_unhandled;
use crate::ffi::signal::{canonical, Versioned};
use crate::ffi::subscription::{watch, Subscription};
use crate::reactive;

/// What a computed holds: the canonical JSON text, or the error its function returned.
type Outcome = Result<Versioned, MizuError>;

/// A value derived by a host function from signals, computeds, collections and entities.
///
/// The function runs lazily (at the first read, then at the next read after a dependency
/// changed), on the reading thread, and its result is cached. Reads made through the library
/// while it runs (`Signal.get`, `Computed.get`, `Collection.count`, `Entity.get`, ...) are its
/// dependencies. A result equal to the previous one wakes nobody downstream.
#[derive(uniffi::Object)]
pub struct Computed {
    inner: Closable<reactive::Computed<Outcome>>,
}

impl std::fmt::Debug for Computed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Computed")
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl Computed {
    /// The core computed, for the bindings' direct calls (`src/ffi/hot`).
    pub(crate) fn core(&self) -> Result<reactive::Computed<Outcome>, MizuError> {
        self.inner.get()
    }

    /// A computed of `compute`, whose value is canonical JSON text (for the direct calls).
    pub(crate) fn from_fn(
        compute: impl Fn() -> Result<Arc<str>, MizuError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        let computed = reactive::Computed::new(move || Ok(Versioned::new(compute()?)));
        Arc::new(Computed {
            inner: Closable::new("computed", computed),
        })
    }

    /// Remembers `subscription` so that [`close`](Self::close) cancels it; returns it.
    pub(crate) fn keep(&self, subscription: Arc<Subscription>) -> Arc<Subscription> {
        self.inner.keep(subscription)
    }
}

#[uniffi::export]
impl Computed {
    /// A computed whose value is what `f` returns (JSON text). `f` does not run yet.
    #[uniffi::constructor]
    pub fn new(f: Arc<dyn ComputedFn>) -> Arc<Self> {
        let computed =
            reactive::Computed::new(move || Ok(Versioned::new(canonical(&f.compute()?)?)));
        Arc::new(Computed {
            inner: Closable::new("computed", computed),
        })
    }

    /// The value as JSON text, computing it if needed. Inside a computed or effect function,
    /// the read is tracked.
    ///
    /// # Errors
    /// The error the function returned (kept until a dependency changes);
    /// [`MizuError::InvalidJson`] when it returned something that is not JSON;
    /// [`MizuError::Closed`].
    pub fn get(&self) -> Result<String, MizuError> {
        self.inner.get()?.get().map(|v| v.text.to_string())
    }

    /// The value, without becoming a dependency of the running computed or effect.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn peek(&self) -> Result<String, MizuError> {
        self.inner.get()?.peek().map(|v| v.text.to_string())
    }

    /// Calls `listener` with the value now, then after each change, until the subscription is
    /// cancelled. An error of the function or the listener goes to
    /// [`crate::ffi::on_unhandled_error`].
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe(
        &self,
        listener: Arc<dyn SignalListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let computed = self.inner.get()?;
        Ok(self.inner.keep(watch(
            move || computed.get().map(|v| v.text.to_string()),
            move |value| listener.on_change(value),
            report_unhandled,
        )))
    }

    /// Releases the computed (and the host function, once nothing else depends on it) and
    /// cancels the subscriptions made through this handle. Idempotent.
    pub fn close(&self) {
        drop(self.inner.close());
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}
