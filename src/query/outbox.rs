//! [`Outbox`]: delivers a live query's (or a collection feed's) events to its listeners in the
//! order they were made, outside every lock, whichever thread made them.
//!
//! Events are queued under the store's lock in commit order. Delivery takes them one at a
//! time: the thread that finds nobody delivering becomes the deliverer and drains the queue,
//! calling each listener with no lock held; a thread that finds a delivery under way leaves its
//! events to it. A listener sees a first event made for it alone (the current result), then
//! only the events queued after it.
//!
//! # Bounded
//!
//! A slow listener holds up delivery while writers go on queueing. At most [`EVENT_BUFFER`]
//! events wait: one more collapses the waiting ones and the new one into a single event that
//! stands for all of them (a live query's current result; a collection's merged changes), so
//! memory stays bounded and a listener that applies events in order still ends up right.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How many events may wait for delivery before they are collapsed into one.
pub(crate) const EVENT_BUFFER: usize = 64;

/// A registered listener.
pub(crate) type Listener<E> = Arc<dyn Fn(&E) + Send + Sync>;

struct Entry<E> {
    id: u64,
    /// The seq of its first event: earlier ones were already in what that event showed.
    from: u64,
    listener: Listener<E>,
}

enum Target {
    All,
    One(u64),
}

struct State<E> {
    next_seq: u64,
    next_listener: u64,
    queue: VecDeque<(u64, Target, Arc<E>)>,
    delivering: bool,
    listeners: Vec<Entry<E>>,
}

/// See the [module docs](self).
pub(crate) struct Outbox<E> {
    state: Mutex<State<E>>,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Outbox {
            state: Mutex::new(State {
                next_seq: 0,
                next_listener: 0,
                queue: VecDeque::new(),
                delivering: false,
                listeners: Vec::new(),
            }),
        }
    }
}

impl<E> Outbox<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether anyone listens (events made for nobody need not be made).
    pub(crate) fn has_listeners(&self) -> bool {
        !self.lock().listeners.is_empty()
    }

    /// Registers `listener` with `first` as its first event; returns its id. Call under the
    /// lock that orders events (the store's), so `first` and later events do not interleave.
    pub(crate) fn add(&self, first: E, listener: Listener<E>) -> u64 {
        let mut state = self.lock();
        let id = state.next_listener;
        state.next_listener += 1;
        let seq = state.next_seq;
        state.next_seq += 1;
        state.listeners.push(Entry {
            id,
            from: seq,
            listener,
        });
        state
            .queue
            .push_back((seq, Target::One(id), Arc::new(first)));
        id
    }

    /// Unregisters the listener `id`: it is not called again once this returns, except by a
    /// delivery already under way on another thread.
    pub(crate) fn remove(&self, id: u64) -> Option<Listener<E>> {
        let mut state = self.lock();
        let at = state.listeners.iter().position(|e| e.id == id)?;
        Some(state.listeners.remove(at).listener)
    }

    /// Queues `event` for every listener registered now. When [`EVENT_BUFFER`] events already
    /// wait, `collapse` turns them (oldest first) and `event` into the one event queued instead.
    pub(crate) fn push(&self, event: E, collapse: impl FnOnce(Vec<Arc<E>>, E) -> E) {
        let mut state = self.lock();
        if state.listeners.is_empty() {
            return;
        }
        let waiting = state
            .queue
            .iter()
            .filter(|(_, target, _)| matches!(target, Target::All))
            .count();
        let event = if waiting >= EVENT_BUFFER {
            let mut kept = VecDeque::with_capacity(state.queue.len() - waiting);
            let mut dropped = Vec::with_capacity(waiting);
            for item in state.queue.drain(..) {
                match item {
                    (_, Target::All, event) => dropped.push(event),
                    one => kept.push_back(one),
                }
            }
            state.queue = kept;
            collapse(dropped, event)
        } else {
            event
        };
        let seq = state.next_seq;
        state.next_seq += 1;
        state.queue.push_back((seq, Target::All, Arc::new(event)));
    }

    /// How many events wait for delivery.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.lock().queue.len()
    }

    /// Delivers queued events unless another thread already is; returns how many listener
    /// calls panicked (the panic is caught; delivery goes on).
    pub(crate) fn deliver(&self) -> usize {
        let mut panics = 0;
        let mut state = self.lock();
        if state.delivering {
            return 0;
        }
        state.delivering = true;
        loop {
            let Some((seq, target, event)) = state.queue.pop_front() else {
                state.delivering = false;
                return panics;
            };
            let listeners: Vec<Listener<E>> = state
                .listeners
                .iter()
                .filter(|e| match target {
                    Target::All => e.from < seq,
                    Target::One(id) => e.id == id,
                })
                .map(|e| e.listener.clone())
                .collect();
            drop(state);
            for listener in listeners {
                if catch_unwind(AssertUnwindSafe(|| listener(&event))).is_err() {
                    panics += 1;
                }
            }
            state = self.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn keep_last(_: Vec<Arc<u32>>, event: u32) -> u32 {
        event
    }

    #[test]
    fn a_listener_gets_its_first_event_then_only_later_ones_in_order() {
        let outbox: Outbox<u32> = Outbox::default();
        outbox.push(1, keep_last); // nobody listens: dropped
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let id = outbox.add(10, Arc::new(move |e| s.lock().unwrap().push(*e)));
        outbox.push(11, keep_last);
        let late = Arc::new(Mutex::new(Vec::new()));
        let l = late.clone();
        outbox.add(20, Arc::new(move |e| l.lock().unwrap().push(*e)));
        outbox.push(12, keep_last);
        assert_eq!(outbox.deliver(), 0);
        assert_eq!(*seen.lock().unwrap(), [10, 11, 12]);
        assert_eq!(*late.lock().unwrap(), [20, 12]);
        outbox.remove(id);
        outbox.push(13, keep_last);
        outbox.deliver();
        assert_eq!(*seen.lock().unwrap(), [10, 11, 12]);
    }

    #[test]
    fn a_panicking_listener_is_counted_and_delivery_goes_on() {
        let outbox: Outbox<u32> = Outbox::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        outbox.add(0, Arc::new(|_| panic!("listener bug")));
        outbox.add(
            0,
            Arc::new(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
            }),
        );
        outbox.push(1, keep_last);
        assert_eq!(outbox.deliver(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_slow_listener_leaves_at_most_the_bound_waiting_and_sees_the_collapse() {
        let outbox: Arc<Outbox<u32>> = Arc::new(Outbox::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = Mutex::new(gate_rx);
        let s = seen.clone();
        outbox.add(
            0,
            Arc::new(move |e: &u32| {
                if *e == 0 {
                    gate.lock().unwrap().recv().unwrap(); // held up on its first event
                }
                s.lock().unwrap().push(*e);
            }),
        );
        let deliverer = {
            let outbox = outbox.clone();
            std::thread::spawn(move || outbox.deliver())
        };
        // Wait until the deliverer took the first event and is blocked in the listener.
        while outbox.waiting() > 0 {
            std::thread::yield_now();
        }
        let sum =
            |dropped: Vec<Arc<u32>>, event: u32| dropped.iter().map(|e| **e).sum::<u32>() + event;
        for e in 1..=10_000 {
            outbox.push(e, sum);
            assert!(
                outbox.waiting() <= EVENT_BUFFER,
                "{} waiting",
                outbox.waiting()
            );
        }
        gate_tx.send(()).unwrap();
        deliverer.join().unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            seen.len() <= EVENT_BUFFER + 2,
            "{} events delivered",
            seen.len()
        );
        // Nothing was lost: the collapsed events carry the sum of what they stand for.
        assert_eq!(
            seen.iter().map(|e| u64::from(*e)).sum::<u64>(),
            (1..=10_000u64).sum::<u64>()
        );
    }
}
