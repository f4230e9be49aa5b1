//! Where the app hears about changes it did not make on its own thread: server changes, the
//! sync status, client events, and awaited writes.
//!
//! By default ([`Delivery::Inline`]) they run on the library thread that saw them (the engine
//! thread, or the thread that committed an awaited write). With a delivery queue they are queued
//! in order instead, the app is told once when the queue stops being empty (the *ready*
//! callback, on a library thread), and the app runs them on a thread of its choosing with
//! [`crate::Client::dispatch_pending`]: the UI thread, an executor, a coroutine dispatcher.
//! This is how every binding offers its delivery context, and what the C API exposes directly.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

/// Called (on a library thread, no lock held) when deliveries are waiting to be dispatched.
pub type ReadyCallback = Arc<dyn Fn() + Send + Sync>;

type Task = Box<dyn FnOnce() + Send>;

/// How deliveries reach the app.
#[derive(Clone, Default)]
pub(crate) enum Delivery {
    /// Run on the library thread that saw the change.
    #[default]
    Inline,
    /// Queued until the app dispatches them.
    Queue(Arc<DeliveryQueue>),
}

/// The queue of a client whose deliveries the app dispatches.
pub(crate) struct DeliveryQueue {
    state: Mutex<Queued>,
    /// Held by the thread dispatching, so two threads never run deliveries out of order.
    dispatching: Mutex<()>,
    ready: ReadyCallback,
}

#[derive(Default)]
struct Queued {
    tasks: VecDeque<Task>,
    /// Whether `ready` was called since the queue was last seen empty by a dispatch.
    signalled: bool,
    closed: bool,
}

impl Delivery {
    /// A queue that calls `ready` when it has deliveries.
    pub(crate) fn queue(ready: ReadyCallback) -> Delivery {
        Delivery::Queue(Arc::new(DeliveryQueue {
            state: Mutex::new(Queued::default()),
            dispatching: Mutex::new(()),
            ready,
        }))
    }

    /// Whether deliveries are queued for the app rather than run where they arise.
    pub(crate) fn is_queued(&self) -> bool {
        matches!(self, Delivery::Queue(_))
    }

    /// Runs `task` now, or queues it. Returns whether `task` panicked (when it ran now).
    pub(crate) fn deliver(&self, task: impl FnOnce() + Send + 'static) -> bool {
        match self {
            Delivery::Inline => catch_unwind(AssertUnwindSafe(task)).is_err(),
            Delivery::Queue(queue) => {
                queue.push(Box::new(task));
                false
            }
        }
    }

    /// Runs every queued delivery on the calling thread, in order, including those queued while
    /// it runs; returns how many ran and how many of them panicked. Returns `(0, 0)` when
    /// another thread is dispatching (it will run them), when called from inside a delivery,
    /// and without a queue.
    pub(crate) fn dispatch_pending(&self) -> (usize, usize) {
        match self {
            Delivery::Inline => (0, 0),
            Delivery::Queue(queue) => queue.dispatch(),
        }
    }

    /// Drops every queued delivery and refuses later ones (the client closed).
    pub(crate) fn close(&self) {
        if let Delivery::Queue(queue) = self {
            let dropped = {
                let mut state = lock(&queue.state);
                state.closed = true;
                std::mem::take(&mut state.tasks)
            };
            // Dropped outside the lock: a task's captures may run foreign destructors.
            drop(dropped);
        }
    }
}

impl DeliveryQueue {
    fn push(&self, task: Task) {
        let signal = {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.tasks.push_back(task);
            !std::mem::replace(&mut state.signalled, true)
        };
        if signal {
            // App code: a panic here must not take the engine thread with it.
            let _ = catch_unwind(AssertUnwindSafe(|| (self.ready)()));
        }
    }

    fn dispatch(&self) -> (usize, usize) {
        let (mut ran, mut panics) = (0, 0);
        loop {
            {
                let _dispatching = match self.dispatching.try_lock() {
                    Ok(guard) => guard,
                    Err(TryLockError::Poisoned(e)) => e.into_inner(),
                    // Another thread (or an outer call on this one) is dispatching: it runs them.
                    Err(TryLockError::WouldBlock) => return (ran, panics),
                };
                while let Some(task) = self.pop() {
                    ran += 1;
                    if catch_unwind(AssertUnwindSafe(task)).is_err() {
                        panics += 1;
                    }
                }
            }
            // Only once no thread dispatches may the next delivery call `ready` again; one that
            // arrived in between is run here.
            let mut state = lock(&self.state);
            if state.tasks.is_empty() {
                state.signalled = false;
                return (ran, panics);
            }
        }
    }

    fn pop(&self) -> Option<Task> {
        lock(&self.state).tasks.pop_front()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_queue() -> (Delivery, Arc<AtomicUsize>) {
        let readies = Arc::new(AtomicUsize::new(0));
        let r = readies.clone();
        let delivery = Delivery::queue(Arc::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        (delivery, readies)
    }

    #[test]
    fn inline_runs_at_once_and_reports_a_panic() {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        assert!(!Delivery::Inline.deliver(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(Delivery::Inline.deliver(|| panic!("boom")));
    }

    #[test]
    fn a_queue_signals_once_per_batch_and_runs_in_order_on_dispatch() {
        let (delivery, readies) = counting_queue();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..3 {
            let seen = seen.clone();
            delivery.deliver(move || seen.lock().unwrap().push(i));
        }
        assert_eq!(readies.load(Ordering::SeqCst), 1);
        assert!(seen.lock().unwrap().is_empty());
        assert_eq!(delivery.dispatch_pending(), (3, 0));
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
        // Empty again: the next delivery signals again.
        delivery.deliver(|| {});
        assert_eq!(readies.load(Ordering::SeqCst), 2);
        assert_eq!(delivery.dispatch_pending(), (1, 0));
        assert_eq!(delivery.dispatch_pending(), (0, 0));
    }

    #[test]
    fn deliveries_queued_while_dispatching_run_in_the_same_dispatch() {
        let (delivery, readies) = counting_queue();
        let inner = delivery.clone();
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        delivery.deliver(move || {
            let s = s.clone();
            inner.deliver(move || {
                s.fetch_add(1, Ordering::SeqCst);
            });
            // Re-entrant dispatch from inside a delivery runs nothing.
            assert_eq!(inner.dispatch_pending(), (0, 0));
        });
        assert_eq!(delivery.dispatch_pending(), (2, 0));
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        assert_eq!(readies.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_delivery_is_counted_and_the_rest_still_run() {
        let (delivery, _) = counting_queue();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        delivery.deliver(|| panic!("boom"));
        delivery.deliver(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(delivery.dispatch_pending(), (2, 1));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn closing_drops_queued_deliveries_and_refuses_new_ones() {
        let (delivery, readies) = counting_queue();
        delivery.deliver(|| unreachable!("dropped by close"));
        delivery.close();
        delivery.deliver(|| unreachable!("refused after close"));
        assert_eq!(delivery.dispatch_pending(), (0, 0));
        assert_eq!(readies.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn many_threads_delivering_while_one_dispatches_lose_nothing() {
        let (delivery, _) = counting_queue();
        let ran = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let delivery = delivery.clone();
                let ran = ran.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let ran = ran.clone();
                        delivery.deliver(move || {
                            ran.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        let mut total = 0;
        while producers.iter().any(|p| !p.is_finished()) {
            total += delivery.dispatch_pending().0;
        }
        for p in producers {
            p.join().unwrap();
        }
        total += delivery.dispatch_pending().0;
        assert_eq!(total, 4000);
        assert_eq!(ran.load(Ordering::SeqCst), 4000);
    }
}
