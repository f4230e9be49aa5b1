//! Signals: the writable sources of the graph.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::batch;
use super::graph::{self, Kind, NodeId};
use super::observer::track;
use super::queue;

/// A value that computeds and effects can depend on; writing it re-runs them.
///
/// `Signal` is a cheap handle: clones share the same value. It is `Send + Sync` when `T` is,
/// and can be read and written from any thread. The value is freed when the last handle is
/// dropped.
///
/// Reads return clones of the value (or lend it to a closure, [`Signal::with`]); only `T`'s own
/// `Clone` and `PartialEq` run under the value's lock, never a closure.
///
/// ```
/// use mizu_sync::reactive::Signal;
///
/// let count = Signal::new(0);
/// count.set(5);
/// count.update(|n| n + 1);
/// assert_eq!(count.get(), 6);
/// ```
pub struct Signal<T> {
    inner: Arc<SignalInner<T>>,
}

struct SignalInner<T> {
    id: NodeId,
    /// Shared so that [`Signal::with`] can lend the value without holding the lock.
    value: Mutex<Arc<T>>,
}

impl<T> Drop for SignalInner<T> {
    fn drop(&mut self) {
        graph::lock().remove(self.id);
    }
}

impl<T> Signal<T> {
    /// Whether this handle is the only one and nothing depends on the signal: dropping it then
    /// frees a value nobody can read or be woken by. (No other handle exists, so none can be
    /// made meanwhile except from this one.)
    pub(crate) fn is_unshared_and_unobserved(&self) -> bool {
        Arc::strong_count(&self.inner) == 1
            && graph::lock()
                .get(self.inner.id)
                .is_none_or(|node| node.subs_head == graph::NIL)
    }
}

impl<T> Clone for Signal<T> {
    fn clone(&self) -> Self {
        Signal {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Send + Sync + 'static> Signal<T> {
    /// Creates a signal holding `value`.
    pub fn new(value: T) -> Self {
        let id = graph::lock().add(Kind::Signal);
        Signal {
            inner: Arc::new(SignalInner {
                id,
                value: Mutex::new(Arc::new(value)),
            }),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Arc<T>> {
        self.inner
            .value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns a clone of the value; the current computed or effect comes to depend on it.
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        track(self.inner.id);
        T::clone(&self.slot())
    }

    /// Returns a clone of the value without creating a dependency.
    pub fn peek(&self) -> T
    where
        T: Clone,
    {
        T::clone(&self.slot())
    }

    /// Lends the value to `f` (no clone); the current computed or effect comes to depend on it.
    /// `f` runs with no lock held and may use this signal too.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        track(self.inner.id);
        self.with_untracked(f)
    }

    /// Lends the value to `f` without creating a dependency.
    pub fn with_untracked<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let value = Arc::clone(&self.slot());
        f(&value)
    }

    /// Replaces the value. Writing a value equal to the current one notifies nobody.
    pub fn set(&self, value: T)
    where
        T: PartialEq,
    {
        {
            let mut slot = self.slot();
            if **slot == value {
                return;
            }
            match Arc::get_mut(&mut slot) {
                Some(current) => *current = value,
                None => *slot = Arc::new(value),
            }
        }
        self.notify();
    }

    /// Replaces the value with `f(&current)`, atomically: when another thread wrote the signal
    /// while `f` ran, `f` runs again on the newer value (a compare-and-set loop, as
    /// `AtomicReference::updateAndGet` and `MutableStateFlow.update` do), so concurrent updates
    /// never lose one another. `f` runs with no lock held, may run more than once, and may read
    /// this same signal. The read of the current value is not tracked.
    ///
    /// ```
    /// use mizu_sync::reactive::Signal;
    ///
    /// let hits = Signal::new(0);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| (0..500).for_each(|_| hits.update(|n| n + 1)));
    ///     }
    /// });
    /// assert_eq!(hits.get(), 2000);
    /// ```
    pub fn update(&self, mut f: impl FnMut(&T) -> T)
    where
        T: PartialEq,
    {
        let never: Result<(), std::convert::Infallible> = self.try_update(|v| Ok(f(v)));
        let Ok(()) = never;
    }

    /// Like [`update`](Self::update) with a fallible `f`: its first error is returned and the
    /// value is left as it was.
    ///
    /// # Errors
    /// The error `f` returns.
    pub fn try_update<E>(&self, mut f: impl FnMut(&T) -> Result<T, E>) -> Result<(), E>
    where
        T: PartialEq,
    {
        loop {
            // Holding `current` keeps writers from changing it in place, so an unchanged pointer
            // below means an unchanged value.
            let current = Arc::clone(&self.slot());
            let next = f(&current)?;
            {
                let mut slot = self.slot();
                if !Arc::ptr_eq(&slot, &current) {
                    continue;
                }
                if *current == next {
                    return Ok(());
                }
                *slot = Arc::new(next);
            }
            self.notify();
            return Ok(());
        }
    }

    /// Changes the value in place and always notifies (no equality check).
    ///
    /// `f` gets the value itself, not a copy, so it runs while this signal's value is locked: it
    /// must not use this same signal (other signals and the rest of the library are fine), and
    /// `modify` must not be called from inside [`Signal::with`] on this same signal, which would
    /// wait forever for the value it lends to be returned.
    pub fn modify(&self, f: impl FnOnce(&mut T)) {
        {
            let mut slot = self.slot();
            loop {
                if let Some(value) = Arc::get_mut(&mut slot) {
                    f(value);
                    break;
                }
                // A reader on another thread still holds the previous value (`with`).
                drop(slot);
                std::thread::yield_now();
                slot = self.slot();
            }
        }
        self.notify();
    }

    /// Marks everything downstream and runs the effects reached (unless batching).
    fn notify(&self) {
        let id = self.inner.id;
        {
            let mut g = graph::lock();
            g.propagate(id.index, &mut queue::enqueue);
        }
        batch::flush();
    }
}

impl<T: fmt::Debug> fmt::Debug for Signal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = Arc::clone(
            &self
                .inner
                .value
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        f.debug_tuple("Signal").field(&value).finish()
    }
}
