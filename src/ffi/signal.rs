//! [`Signal`]: a reactive value held as JSON text, readable and writable from the host.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::ffi::closable::Closable;
use crate::ffi::error::MizuError;
use crate::ffi::listener::{SignalListener, SignalUpdateFn};
use crate::ffi::listener_list::report_unhandled;
use crate::ffi::subscription::{watch, Subscription};
use crate::reactive;

/// Parses `text` and prints it back canonically (object keys sorted, no spaces), so that equal
/// values compare equal as text.
///
/// # Errors
/// [`MizuError::InvalidJson`] when `text` is not JSON.
pub(crate) fn canonical(text: &str) -> Result<Arc<str>, MizuError> {
    let value: Value = serde_json::from_str(text)?;
    Ok(value.to_string().into())
}

/// A signal's JSON text and the version it was stored under. Versions come from one
/// process-wide counter, so a version names one stored value for the life of the process: a
/// host that cached the value it read or wrote at version `v` may reuse it while the signal
/// still reports `v` (`src/ffi/hot`). Equality ignores the version, so writing equal
/// text notifies nobody and keeps the version.
#[derive(Clone, Debug)]
pub(crate) struct Versioned {
    pub(crate) text: Arc<str>,
    pub(crate) version: u64,
}

static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

impl Versioned {
    /// `text` under a new version.
    pub(crate) fn new(text: Arc<str>) -> Self {
        Versioned {
            text,
            version: NEXT_VERSION.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl PartialEq for Versioned {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A writable reactive value (JSON), shared with the Rust graph: computeds and effects on
/// either side that read it re-run when it changes.
///
/// Writing a value equal to the current one (as JSON, ignoring key order and spacing)
/// notifies nobody.
#[derive(uniffi::Object)]
pub struct Signal {
    inner: Closable<reactive::Signal<Versioned>>,
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl Signal {
    /// The core signal, for the bindings' direct calls (`src/ffi/hot`).
    pub(crate) fn core(&self) -> Result<reactive::Signal<Versioned>, MizuError> {
        self.inner.get()
    }

    /// Remembers `subscription` so that [`close`](Self::close) cancels it; returns it.
    pub(crate) fn keep(&self, subscription: Arc<Subscription>) -> Arc<Subscription> {
        self.inner.keep(subscription)
    }
}

#[uniffi::export]
impl Signal {
    /// A signal holding `value_json`.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`] when `value_json` is not JSON.
    #[uniffi::constructor]
    pub fn new(value_json: String) -> Result<Arc<Self>, MizuError> {
        Ok(Arc::new(Signal {
            inner: Closable::new(
                "signal",
                reactive::Signal::new(Versioned::new(canonical(&value_json)?)),
            ),
        }))
    }

    /// The value as JSON text. Inside a computed or effect function, the read is tracked.
    ///
    /// # Errors
    /// [`MizuError::Closed`] after [`close`](Self::close).
    pub fn get(&self) -> Result<String, MizuError> {
        Ok(self.inner.get()?.get().text.to_string())
    }

    /// The value as JSON text, without becoming a dependency of the running computed or effect.
    ///
    /// # Errors
    /// [`MizuError::Closed`] after [`close`](Self::close).
    pub fn peek(&self) -> Result<String, MizuError> {
        Ok(self.inner.get()?.peek().text.to_string())
    }

    /// Replaces the value; dependents re-run on this thread before this returns.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`]; [`MizuError::Closed`].
    pub fn set(&self, value_json: String) -> Result<(), MizuError> {
        let signal = self.inner.get()?;
        signal.set(Versioned::new(canonical(&value_json)?));
        Ok(())
    }

    /// Replaces the value with `f(current)`, atomically: when another thread wrote the signal
    /// while `f` ran, `f` runs again on the newer value, so concurrent updates never lose one
    /// another (`f` may run more than once; no lock is held while it runs). The read of the
    /// current value is not tracked.
    ///
    /// # Errors
    /// The error `f` returns (the value is then unchanged); [`MizuError::InvalidJson`] when
    /// `f` returns something that is not JSON; [`MizuError::Closed`].
    pub fn update(&self, f: Arc<dyn SignalUpdateFn>) -> Result<(), MizuError> {
        let signal = self.inner.get()?;
        signal.try_update(|current| {
            Ok(Versioned::new(canonical(
                &f.update(current.text.to_string())?,
            )?))
        })
    }

    /// Calls `listener` with the value now, then after each change, until the subscription is
    /// cancelled. A listener's error goes to [`crate::ffi::on_unhandled_error`].
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe(
        &self,
        listener: Arc<dyn SignalListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let signal = self.inner.get()?;
        Ok(self.inner.keep(watch(
            move || Ok(signal.get().text.to_string()),
            move |value| listener.on_change(value),
            report_unhandled,
        )))
    }

    /// Releases the value and cancels the subscriptions made through this handle; every later
    /// call fails with [`MizuError::Closed`]. Idempotent.
    pub fn close(&self) {
        drop(self.inner.close());
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}
