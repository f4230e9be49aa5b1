//! The current observer of each thread: who is reading, so reads become edges.
//!
//! Tracking is per thread and never global: a computed running on one thread does not capture
//! the reads another thread makes at the same moment.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::graph::{self, NodeId};

/// A function registered with [`on_cleanup`].
pub(crate) type Cleanup = Box<dyn FnOnce() + Send>;

/// This thread's reactive context. Only `Copy` cells, so access is a plain TLS read.
struct Context {
    /// The computed or effect whose function runs on this thread, if any.
    observer: Cell<Option<NodeId>>,
    /// The observer reads are recorded for: `observer`, or `None` inside [`untrack`].
    tracked: Cell<Option<NodeId>>,
    /// How many cleanups [`CLEANUPS`] holds.
    pending: Cell<usize>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            observer: Cell::new(None),
            tracked: Cell::new(None),
            pending: Cell::new(0),
        }
    };
    /// Cleanups registered by the runs under way on this thread, innermost last.
    static CLEANUPS: RefCell<Vec<Cleanup>> = const { RefCell::new(Vec::new()) };
}

/// The observer reads should be recorded for, if any.
pub(crate) fn tracked() -> Option<NodeId> {
    CONTEXT.with(|c| c.tracked.get())
}

/// Whether a read on this thread now would be recorded (a computed or effect is running and
/// no [`untrack`] is in force). Readers use it to skip bookkeeping nobody will see.
pub(crate) fn is_tracking() -> bool {
    tracked().is_some()
}

/// Restores the previous observer when a run ends, even by a panic.
struct Restore {
    observer: Option<NodeId>,
    tracked: Option<NodeId>,
    /// How many cleanups belonged to the outer runs.
    base: usize,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let pending = CONTEXT.with(|c| {
            c.observer.set(self.observer);
            c.tracked.set(self.tracked);
            c.pending.replace(self.base)
        });
        if pending > self.base {
            // Only reached on unwind: the cleanups of the failed run are dropped, not run.
            let failed = CLEANUPS.with(|c| c.borrow_mut().split_off(self.base));
            drop(failed);
        }
    }
}

/// Runs `f` with `id` as this thread's observer. Returns its result; the cleanups it
/// registered go to `slot`.
pub(crate) fn observe<R>(id: NodeId, slot: &CleanupSlot, f: impl FnOnce() -> R) -> R {
    let restore = CONTEXT.with(|c| Restore {
        observer: c.observer.replace(Some(id)),
        tracked: c.tracked.replace(Some(id)),
        base: c.pending.get(),
    });
    let result = f();
    let base = restore.base;
    let pending = CONTEXT.with(|c| c.pending.replace(base));
    if pending > base {
        slot.store(CLEANUPS.with(|c| c.borrow_mut().split_off(base)));
    }
    drop(restore);
    result
}

/// The cleanups a node's last run registered, cheap to skip when there are none.
#[derive(Default)]
pub(crate) struct CleanupSlot {
    any: AtomicBool,
    list: Mutex<Vec<Cleanup>>,
}

impl CleanupSlot {
    /// Adds the cleanups of a run.
    fn store(&self, cleanups: Vec<Cleanup>) {
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        list.extend(cleanups);
        // SeqCst pairs with the stop flag of effects: a stop either sees these or is seen.
        self.any.store(true, Ordering::SeqCst);
    }

    /// Runs and forgets the stored cleanups, if any (a load when there are none).
    #[inline]
    pub(crate) fn run(&self) {
        if self.any.load(Ordering::SeqCst) {
            run_cleanups(self.take());
        }
    }

    /// Takes all stored cleanups.
    pub(crate) fn take(&self) -> Vec<Cleanup> {
        if !self.any.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        self.any.store(false, Ordering::SeqCst);
        std::mem::take(&mut *list)
    }
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
    struct Resume(Option<NodeId>);
    impl Drop for Resume {
        fn drop(&mut self) {
            CONTEXT.with(|c| c.tracked.set(self.0));
        }
    }
    let _resume = Resume(CONTEXT.with(|c| c.tracked.replace(None)));
    f()
}

/// Registers `f` to run before the next run of the current effect or computed, and when it
/// stops (an effect) or is dropped (a computed).
///
/// Called outside any run, `f` is dropped without being called.
pub fn on_cleanup(f: impl FnOnce() + Send + 'static) {
    if CONTEXT.with(|c| c.observer.get()).is_some() {
        CLEANUPS.with(|c| c.borrow_mut().push(Box::new(f)));
        CONTEXT.with(|c| c.pending.set(c.pending.get() + 1));
    }
}
