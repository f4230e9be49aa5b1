//! [`Signal`]: a reactive value held as JSON text, readable and writable from the host.

use std::sync::Arc;

use serde_json::Value;

use crate::ffi::error::MizuError;
use crate::ffi::handle::Handle;
use crate::ffi::listener::{SignalListener, SignalUpdateFn};
use crate::ffi::registry::report_unhandled;
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

/// A writable reactive value (JSON), shared with the Rust graph: computeds and effects on
/// either side that read it re-run when it changes.
///
/// Writing a value equal to the current one (as JSON, ignoring key order and spacing)
/// notifies nobody.
#[derive(uniffi::Object)]
pub struct Signal {
    inner: Handle<reactive::Signal<Arc<str>>>,
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("closed", &self.inner.is_closed())
            .finish()
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
            inner: Handle::new("signal", reactive::Signal::new(canonical(&value_json)?)),
        }))
    }

    /// The value as JSON text. Inside a computed or effect function, the read is tracked.
    ///
    /// # Errors
    /// [`MizuError::Closed`] after [`close`](Self::close).
    pub fn get(&self) -> Result<String, MizuError> {
        Ok(self.inner.get()?.get().to_string())
    }

    /// The value as JSON text, without becoming a dependency of the running computed or effect.
    ///
    /// # Errors
    /// [`MizuError::Closed`] after [`close`](Self::close).
    pub fn get_untracked(&self) -> Result<String, MizuError> {
        Ok(self.inner.get()?.get_untracked().to_string())
    }

    /// Replaces the value; dependents re-run on this thread before this returns.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`]; [`MizuError::Closed`].
    pub fn set(&self, value_json: String) -> Result<(), MizuError> {
        let signal = self.inner.get()?;
        signal.set(canonical(&value_json)?);
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
        signal.try_update(|current| canonical(&f.update(current.to_string())?))
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
            move || Ok(signal.get().to_string()),
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
