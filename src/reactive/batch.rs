//! Batches and the queue of effects waiting to run on this thread.
//!
//! A write marks the graph and queues the effects it reached on the writing thread; they run on
//! that thread when the write returns, or when the outermost [`batch`] ends.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use super::effect::run_effect;
use super::graph::NodeId;

thread_local! {
    /// Nesting depth of [`batch`] on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// True while this thread runs its queue (effects that write only queue more).
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    /// Effects marked by this thread's writes, in the order they were reached.
    static QUEUE: RefCell<VecDeque<NodeId>> = const { RefCell::new(VecDeque::new()) };
}

/// Adds an effect to this thread's queue.
pub(crate) fn enqueue(id: NodeId) {
    QUEUE.with(|q| q.borrow_mut().push_back(id));
}

/// Defers effects like a batch while it lives, but never flushes: the caller flushes later,
/// once it is safe to run them (a computed's run is over and the graph lock released).
pub(crate) struct Hold(());

impl Hold {
    pub(crate) fn new() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        Hold(())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// Runs the queued effects, unless a batch or a flush is already under way on this thread.
pub(crate) fn flush() {
    if DEPTH.with(Cell::get) > 0 || FLUSHING.with(Cell::get) {
        return;
    }
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            FLUSHING.with(|f| f.set(false));
        }
    }
    FLUSHING.with(|f| f.set(true));
    let _done = Done;
    while let Some(id) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        run_effect(id);
    }
}

/// Runs `f`, deferring the effects its writes trigger until the outermost batch ends; each
/// effect then runs once, seeing all the writes.
///
/// Batches nest. A batch is per thread: writes other threads make meanwhile run their effects
/// as usual.
///
/// ```
/// use mizu_sync::reactive::{batch, Effect, Signal};
/// use std::sync::{Arc, Mutex};
///
/// let (first, last) = (Signal::new("Ada".to_string()), Signal::new("Byron".to_string()));
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let (f, l, s) = (first.clone(), last.clone(), seen.clone());
/// let _effect = Effect::new(move || s.lock().unwrap().push(format!("{} {}", f.get(), l.get())));
/// batch(|| {
///     first.set("Grace".to_string());
///     last.set("Hopper".to_string());
/// });
/// assert_eq!(*seen.lock().unwrap(), ["Ada Byron", "Grace Hopper"]);
/// ```
pub fn batch<R>(f: impl FnOnce() -> R) -> R {
    struct End;
    impl Drop for End {
        fn drop(&mut self) {
            let depth = DEPTH.with(|d| {
                let depth = d.get() - 1;
                d.set(depth);
                depth
            });
            // After a panic the queue stays for this thread's next flush: running user code
            // while unwinding could abort the process.
            if depth == 0 && !std::thread::panicking() {
                flush();
            }
        }
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    let _end = End;
    f()
}
