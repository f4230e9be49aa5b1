//! [`ListenerList`]: a list of event listeners that is copied before it is called, and the
//! process-wide registry of unhandled errors.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use crate::ffi::error::MizuError;
use crate::ffi::listener::ErrorListener;
use crate::ffi::subscription::Subscription;

/// Listeners of one kind of event. The registry holds weak references; each listener's
/// [`Subscription`] holds the strong one, so cancelling or dropping it unregisters.
pub(crate) struct ListenerList<L: ?Sized> {
    entries: Mutex<Entries<L>>,
}

struct Entries<L: ?Sized> {
    next_id: u64,
    list: Vec<(u64, Weak<L>)>,
}

/// Keeps one listener registered while it lives.
struct Registration<L: ?Sized + Send + Sync + 'static> {
    registry: Arc<ListenerList<L>>,
    id: u64,
    _listener: Arc<L>,
}

impl<L: ?Sized + Send + Sync + 'static> Drop for Registration<L> {
    fn drop(&mut self) {
        self.registry.lock().list.retain(|(id, _)| *id != self.id);
        // `_listener` is dropped after this, outside the lock.
    }
}

impl<L: ?Sized + Send + Sync + 'static> ListenerList<L> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ListenerList {
            entries: Mutex::new(Entries {
                next_id: 0,
                list: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Entries<L>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `listener` until the returned subscription is cancelled or dropped.
    pub(crate) fn add(self: &Arc<Self>, listener: Arc<L>) -> Arc<Subscription> {
        let id = {
            let mut entries = self.lock();
            let id = entries.next_id;
            entries.next_id += 1;
            entries.list.push((id, Arc::downgrade(&listener)));
            id
        };
        Subscription::new(Registration {
            registry: Arc::clone(self),
            id,
            _listener: listener,
        })
    }

    /// The live listeners, copied so that they can be called without the lock.
    pub(crate) fn snapshot(&self) -> Vec<Arc<L>> {
        self.lock()
            .list
            .iter()
            .filter_map(|(_, weak)| weak.upgrade())
            .collect()
    }

    /// Unregisters every listener (their subscriptions become no-ops).
    pub(crate) fn clear(&self) {
        let list = std::mem::take(&mut self.lock().list);
        drop(list);
    }
}

static UNHANDLED: LazyLock<Arc<ListenerList<dyn ErrorListener>>> = LazyLock::new(ListenerList::new);

/// Registers a listener for errors no client listener can take: failures of signal listeners,
/// effects and computeds' subscribers, and of client listeners when the client has no error
/// listener. Without any, such errors are printed to standard error.
#[uniffi::export]
pub fn on_unhandled_error(listener: Arc<dyn ErrorListener>) -> Arc<Subscription> {
    UNHANDLED.add(listener)
}

/// Hands `error` to the unhandled-error listeners, or prints it to standard error when there
/// are none (an exception in a callback is never silently lost).
pub(crate) fn report_unhandled(error: MizuError) {
    let listeners = UNHANDLED.snapshot();
    if listeners.is_empty() {
        eprintln!("mizu-sync: unhandled error in a callback: {error}");
    }
    deliver(&listeners, &error);
}

/// Calls each error listener, without any lock held.
pub(crate) fn deliver(listeners: &[Arc<dyn ErrorListener>], error: &MizuError) {
    for listener in listeners {
        // An error listener's own failure is dropped: reporting it would loop.
        let _ = listener.on_error(error.clone());
    }
}
