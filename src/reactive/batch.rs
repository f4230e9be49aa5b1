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

/// Opens a batch on this thread (see [`batch_scope`]).
pub(crate) fn enter() {
    DEPTH.with(|d| d.set(d.get() + 1));
}

/// Closes a batch opened by [`enter`] on this thread; the outermost one runs the queued effects.
pub(crate) fn exit() {
    let depth = DEPTH.with(|d| {
        let depth = d.get().saturating_sub(1);
        d.set(depth);
        depth
    });
    // After a panic the queue stays for this thread's next flush: running user code while
    // unwinding could abort the process.
    if depth == 0 && !std::thread::panicking() {
        flush();
    }
}

/// A batch that lasts as long as this guard: effects triggered by this thread's writes wait
/// until the outermost batch ends. Made by [`batch_scope`]; bound to its thread (not `Send`).
#[must_use = "the batch ends when the scope is dropped"]
pub struct BatchScope {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for BatchScope {
    fn drop(&mut self) {
        exit();
    }
}

impl std::fmt::Debug for BatchScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchScope")
    }
}

/// Opens a batch that ends when the returned guard is dropped: the guard form of [`batch`],
/// for code that cannot pass a closure (a host language's `with` block, say).
///
/// ```
/// use mizu_sync::reactive::{batch_scope, Effect, Signal};
/// use std::sync::{Arc, Mutex};
///
/// let (a, b) = (Signal::new(1), Signal::new(2));
/// let runs = Arc::new(Mutex::new(0));
/// let (x, y, r) = (a.clone(), b.clone(), runs.clone());
/// let _effect = Effect::new(move || {
///     let _ = x.get() + y.get();
///     *r.lock().unwrap() += 1;
/// });
/// {
///     let _batch = batch_scope();
///     a.set(10);
///     b.set(20);
/// } // the effect runs once, here
/// assert_eq!(*runs.lock().unwrap(), 2);
/// ```
pub fn batch_scope() -> BatchScope {
    enter();
    BatchScope {
        _not_send: std::marker::PhantomData,
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
    let _scope = batch_scope();
    f()
}
