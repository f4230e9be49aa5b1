//! Batches and the queue of effects waiting to run on this thread.
//!
//! A write marks the graph and queues the effects it reached on the writing thread; they run on
//! that thread when the write returns, or when the outermost [`batch`] ends.

use super::graph::{self, NodeId, State};
use super::queue;
use super::validation::{recompute, validate};

/// Runs the queued effects, unless a batch or a flush is already under way on this thread.
pub(crate) fn flush() {
    queue::drain(run_effect);
}

/// Brings the effect `id` up to date: runs it if what it read changed, again and again while
/// it is marked during its own run. Returns at once if it is running on another thread (which
/// then re-runs it).
pub(crate) fn run_effect(id: NodeId) {
    let mut g = graph::lock();
    loop {
        match g.get(id) {
            Some(node) if !node.stopped && node.running == 0 && node.state != State::Clean => {}
            _ => return,
        }
        let (g2, must_run) = validate(g, id);
        g = g2;
        match g.get(id) {
            Some(node) if must_run && !node.stopped && node.running == 0 => {}
            _ => return,
        }
        g = recompute(g, id);
    }
}

/// Opens a batch on this thread (see [`batch_scope`]).
pub(crate) fn enter() {
    queue::enter();
}

/// Closes a batch opened by [`enter`] on this thread; the outermost one runs the queued effects.
pub(crate) fn exit() {
    let depth = queue::leave();
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
