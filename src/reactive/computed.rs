//! Computeds: cached values derived from signals and other computeds.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::batch;
use super::disposal::dispose;
use super::graph::{self, Keep, Kind, NodeId, Run};
use super::graph::{thread_id, State};
use super::observer::{observe, run_cleanups, tracked, CleanupSlot};
use super::queue;
use super::validation::{cycle, recompute, validate};

/// A value derived from other signals and computeds by a function.
///
/// Lazy: the function first runs when the value is first read. Cached: it runs again only
/// after something it read in its last run changed, and only when read. Its dependencies are
/// tracked anew on every run, so a source it no longer reads no longer invalidates it. When a
/// new result equals the previous one, nothing downstream is woken (equality cut-off).
///
/// `Computed` is a cheap `Send + Sync` handle usable from any thread; the function runs on the
/// thread that reads the value, never on two threads at once.
///
/// ```
/// use mizu_sync::reactive::{Computed, Signal};
///
/// let count = Signal::new(5);
/// let price = Signal::new(10.0);
/// let (c, p) = (count.clone(), price.clone());
/// let total = Computed::new(move || f64::from(c.get()) * p.get());
/// assert_eq!(total.get(), 50.0);
/// count.set(10);
/// assert_eq!(total.get(), 100.0);
/// ```
pub struct Computed<T: 'static> {
    inner: Arc<ComputedInner<T>>,
}

/// The function of a computed.
type Function<T> = Box<dyn Fn() -> T + Send + Sync>;

struct ComputedInner<T: 'static> {
    id: NodeId,
    f: Option<Function<T>>,
    /// `None` until the first run. Shared so that [`Computed::with`] lends it unlocked.
    value: Mutex<Option<Arc<T>>>,
    cleanups: CleanupSlot,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: PartialEq + Send + Sync + 'static> Run for ComputedInner<T> {
    fn run(&self, id: NodeId) -> bool {
        self.cleanups.run();
        let Some(f) = &self.f else {
            return false;
        };
        let next = observe(id, &self.cleanups, f);
        let mut slot = lock(&self.value);
        match &mut *slot {
            Some(current) if **current == next => false,
            Some(current) => {
                match Arc::get_mut(current) {
                    Some(value) => *value = next,
                    None => *current = Arc::new(next),
                }
                true
            }
            None => {
                *slot = Some(Arc::new(next));
                true
            }
        }
    }
}

impl<T: 'static> Drop for ComputedInner<T> {
    fn drop(&mut self) {
        graph::lock().remove(self.id);
        run_cleanups(self.cleanups.take());
        if let Some(f) = self.f.take() {
            dispose(f);
        }
    }
}

impl<T: 'static> Clone for Computed<T> {
    fn clone(&self) -> Self {
        Computed {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: PartialEq + Send + Sync + 'static> Computed<T> {
    /// Creates a computed from `f`, which runs at the first read, not now.
    pub fn new(f: impl Fn() -> T + Send + Sync + 'static) -> Self {
        let mut g = graph::lock();
        let id = g.add(Kind::Computed);
        let inner = Arc::new(ComputedInner {
            id,
            f: Some(Box::new(f)),
            value: Mutex::new(None),
            cleanups: CleanupSlot::default(),
        });
        let weak: Weak<dyn Run> = Arc::downgrade(&inner) as Weak<dyn Run>;
        g.nodes[id.index as usize].runner = Some(weak);
        drop(g);
        Computed { inner }
    }

    /// Brings the value up to date, then gives it to `f` under the value lock (only `T`'s own
    /// `Clone` runs there).
    fn read<R>(&self, observer: Option<NodeId>, f: impl Fn(&Arc<T>) -> R) -> R {
        loop {
            read_computed(self.inner.id, observer, || Arc::clone(&self.inner) as Keep);
            if let Some(value) = &*lock(&self.inner.value) {
                return f(value);
            }
            // Only reachable if the first run panicked on another thread: run it here.
        }
    }

    /// Returns a clone of the value, computing it if needed; the current computed or effect
    /// comes to depend on it.
    ///
    /// # Panics
    ///
    /// If the computed reads itself while computing (a cycle).
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.read(tracked(), |v| T::clone(v))
    }

    /// Returns a clone of the value without creating a dependency.
    ///
    /// # Panics
    ///
    /// If the computed reads itself while computing (a cycle).
    pub fn peek(&self) -> T
    where
        T: Clone,
    {
        self.read(None, |v| T::clone(v))
    }

    /// Lends the value to `f` (no clone, no lock held); the current computed or effect comes to
    /// depend on it.
    ///
    /// # Panics
    ///
    /// If the computed reads itself while computing (a cycle).
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let value = self.read(tracked(), Arc::clone);
        f(&value)
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Computed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = lock(&self.inner.value).clone();
        f.debug_tuple("Computed").field(&value).finish()
    }
}

/// Brings the computed `id` up to date, then records the read for the current observer, which
/// then keeps the computed alive (`keep`). Returns with the lock released.
pub(crate) fn read_computed(id: NodeId, observer: Option<NodeId>, keep: impl FnOnce() -> Keep) {
    let mut g = graph::lock();
    // Whether functions ran here, whose writes may have queued effects.
    let mut ran = false;
    loop {
        let Some(node) = g.get(id) else {
            return;
        };
        if node.running != 0 {
            if g.would_deadlock(id.index, thread_id()) {
                cycle();
            }
            g = graph::wait_for(g, id.index);
            continue;
        }
        if node.state == State::Clean {
            break;
        }
        ran = true;
        let (g2, must_run) = validate(g, id);
        g = g2;
        if must_run && g.get(id).is_some_and(|n| n.running == 0) {
            g = recompute(g, id);
            break;
        }
    }
    if let Some(observer) = observer {
        g.link(id.index, observer.index, || Some(keep()));
        if g.get(id).is_some_and(|n| n.state != State::Clean) {
            // A write marked the computed during the run just done here, before the observer
            // was linked to it: pass that mark on, or the observer would keep a stale value.
            g.mark_raced(observer.index, &mut queue::enqueue);
            ran = true;
        }
    }
    drop(g);
    if ran {
        batch::flush();
    }
}
