//! [`Closable`]: the closable slot every exported object keeps its core value in, with the
//! subscriptions made through it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use crate::ffi::error::MizuError;
use crate::ffi::subscription::Subscription;

/// A core value that [`close`](Self::close) releases; later uses fail with
/// [`MizuError::Closed`]. Closing also cancels the subscriptions made through the handle.
pub(crate) struct Closable<T> {
    /// Names the handle in [`MizuError::Closed`] (`signal`, `entity`, ...).
    what: &'static str,
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    subscriptions: Vec<Weak<Subscription>>,
}

impl<T: Clone> Closable<T> {
    pub(crate) fn new(what: &'static str, value: T) -> Self {
        Closable {
            what,
            state: Mutex::new(State {
                value: Some(value),
                subscriptions: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A clone of the value (a cheap handle), for use without the lock.
    ///
    /// # Errors
    /// [`MizuError::Closed`] after [`close`](Self::close).
    pub(crate) fn get(&self) -> Result<T, MizuError> {
        self.lock()
            .value
            .clone()
            .ok_or_else(|| MizuError::closed(self.what))
    }

    /// Remembers `subscription` so that [`close`](Self::close) cancels it; returns it.
    pub(crate) fn keep(&self, subscription: Arc<Subscription>) -> Arc<Subscription> {
        let mut state = self.lock();
        state.subscriptions.retain(|s| s.strong_count() > 0);
        state.subscriptions.push(Arc::downgrade(&subscription));
        subscription
    }

    /// Releases the value and cancels the subscriptions (outside the lock). Returns the value
    /// when this call closed the handle.
    pub(crate) fn close(&self) -> Option<T> {
        let (value, subscriptions) = {
            let mut state = self.lock();
            (state.value.take(), std::mem::take(&mut state.subscriptions))
        };
        for subscription in subscriptions.iter().filter_map(Weak::upgrade) {
            subscription.cancel();
        }
        value
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().value.is_none()
    }
}
