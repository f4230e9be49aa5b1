//! The current observer of each thread: who is reading, so reads become edges.
//!
//! Tracking is per thread and never global: a computed running on one thread does not capture
//! the reads another thread makes at the same moment.

use std::cell::{Cell, RefCell};

use super::graph::{self, NodeId};

/// A function registered with [`on_cleanup`].
pub(crate) type Cleanup = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The computed or effect whose function runs on this thread, if any.
    static OBSERVER: Cell<Option<NodeId>> = const { Cell::new(None) };
    /// False inside [`untrack`]: reads are not recorded.
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    /// Cleanups registered by the current run.
    static CLEANUPS: RefCell<Vec<Cleanup>> = const { RefCell::new(Vec::new()) };
}

/// The observer reads should be recorded for, if any.
pub(crate) fn tracked() -> Option<NodeId> {
    if TRACKING.with(Cell::get) {
        OBSERVER.with(Cell::get)
    } else {
        None
    }
}

/// Restores the previous observer when a run ends, even by a panic.
struct Restore {
    observer: Option<NodeId>,
    tracking: bool,
    cleanups: Option<Vec<Cleanup>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        OBSERVER.with(|o| o.set(self.observer));
        TRACKING.with(|t| t.set(self.tracking));
        if let Some(outer) = self.cleanups.take() {
            // Only reached on unwind: the cleanups of the failed run are dropped, not run.
            drop(CLEANUPS.with(|c| c.replace(outer)));
        }
    }
}

/// Runs `f` with `id` as this thread's observer. Returns its result and the cleanups it
/// registered.
pub(crate) fn observe<R>(id: NodeId, f: impl FnOnce() -> R) -> (R, Vec<Cleanup>) {
    let mut restore = Restore {
        observer: OBSERVER.with(|o| o.replace(Some(id))),
        tracking: TRACKING.with(|t| t.replace(true)),
        cleanups: Some(CLEANUPS.with(|c| c.take())),
    };
    let result = f();
    let outer = restore.cleanups.take().unwrap_or_default();
    let cleanups = CLEANUPS.with(|c| c.replace(outer));
    (result, cleanups)
}

/// Runs cleanups in the order they were registered.
pub(crate) fn run_cleanups(cleanups: Vec<Cleanup>) {
    for cleanup in cleanups {
        cleanup();
    }
}

/// Records that the current observer (if any) read the signal `source`. (Signals need not be
/// kept alive by their readers: once dropped, nobody can change them.)
pub(crate) fn track(source: NodeId) {
    if let Some(observer) = tracked() {
        graph::lock().link(source.index, observer.index, || None);
    }
}

/// Runs `f` without recording what it reads: the current computed or effect does not come to
/// depend on it.
///
/// ```
/// use mizu_sync::reactive::{untrack, Effect, Signal};
/// use std::sync::{Arc, Mutex};
///
/// let (a, b) = (Signal::new(1), Signal::new(10));
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let (a2, b2, seen2) = (a.clone(), b.clone(), seen.clone());
/// let _effect = Effect::new(move || {
///     let sum = a2.get() + untrack(|| b2.get());
///     seen2.lock().unwrap().push(sum);
/// });
/// b.set(20); // not tracked: the effect does not run
/// a.set(2);
/// assert_eq!(*seen.lock().unwrap(), vec![11, 22]);
/// ```
pub fn untrack<R>(f: impl FnOnce() -> R) -> R {
    struct Resume(bool);
    impl Drop for Resume {
        fn drop(&mut self) {
            TRACKING.with(|t| t.set(self.0));
        }
    }
    let _resume = Resume(TRACKING.with(|t| t.replace(false)));
    f()
}

/// Registers `f` to run before the next run of the current effect or computed, and when it
/// stops (an effect) or is dropped (a computed).
///
/// Called outside any run, `f` is dropped without being called.
pub fn on_cleanup(f: impl FnOnce() + Send + 'static) {
    if OBSERVER.with(Cell::get).is_some() {
        CLEANUPS.with(|c| c.borrow_mut().push(Box::new(f)));
    }
}
