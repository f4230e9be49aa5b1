//! The queue of effects waiting to run on this thread and the depth of its batches.
//!
//! The bottom layer of effect scheduling: it knows node ids only. [`batch`](super::batch)
//! drains it with `run_effect`, so that this module, validation and the effects never
//! import each other in a circle.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

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
        enter();
        Hold(())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        leave();
    }
}

/// Opens one more level of batching on this thread.
pub(crate) fn enter() {
    DEPTH.with(|d| d.set(d.get() + 1));
}

/// Closes one level of batching on this thread; returns the depth left.
pub(crate) fn leave() -> u32 {
    DEPTH.with(|d| {
        let depth = d.get().saturating_sub(1);
        d.set(depth);
        depth
    })
}

/// Runs `run` on each queued effect in order, unless a batch or a drain is already under way
/// on this thread (effects queued meanwhile are drained by this same loop).
pub(crate) fn drain(mut run: impl FnMut(NodeId)) {
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
        run(id);
    }
}
