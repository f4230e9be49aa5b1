//! The reactive graph: [`Signal`], [`Computed`], [`Effect`], [`batch`], [`untrack`],
//! [`on_cleanup`].
//!
//! A [`Signal`] holds a value. A [`Computed`] derives a value from signals and other computeds,
//! lazily and cached. An [`Effect`] runs a side effect now and again after every change of what
//! it read. Reads inside a computed or an effect are tracked: the graph learns its edges by
//! watching what each function reads, anew on every run.
//!
//! ```
//! use mizu_sync::reactive::{batch, Computed, Effect, Signal};
//! use std::sync::{Arc, Mutex};
//!
//! let count = Signal::new(5);
//! let price = Signal::new(10.0);
//! let (c, p) = (count.clone(), price.clone());
//! let total = Computed::new(move || f64::from(c.get()) * p.get());
//!
//! let printed = Arc::new(Mutex::new(Vec::new()));
//! let (t, out) = (total.clone(), printed.clone());
//! let effect = Effect::new(move || out.lock().unwrap().push(format!("total = {}", t.get())));
//!
//! count.set(10); // the effect runs before `set` returns
//! batch(|| {
//!     count.set(1);
//!     price.set(2.5);
//! }); // one run, after the batch
//! count.set(1); // equal value: nobody is notified
//! drop(effect); // dropping the handle stops the effect
//! count.set(7);
//!
//! assert_eq!(*printed.lock().unwrap(), ["total = 50", "total = 100", "total = 2.5"]);
//! assert_eq!(total.get(), 17.5);
//! ```
//!
//! # Guarantees
//!
//! - **Glitch-free.** After a write, each computed and effect downstream runs at most once, in
//!   dependency order, and only ever sees a fully updated graph (no half-applied diamonds).
//!   Writes racing on other threads are not isolated from a run under way (there are no
//!   snapshots): a run may see one such write in one source and not yet in another, but it has
//!   then been marked by that write and runs again, so its last run sees the settled graph.
//! - **Equality cut-off.** Writing an equal value notifies nobody; a computed whose new result
//!   equals its old one wakes nothing downstream.
//! - **Dynamic dependencies.** A source that a function no longer reads no longer wakes it.
//! - **No deep recursion.** Propagation and validation walk the graph with explicit stacks, so
//!   chains of any depth work on small stacks. (A first read of a long chain of never-read
//!   computeds nests their functions; those runs continue on fresh stack segments.)
//! - **Memory.** Nodes are freed when their last handle is dropped; the graph holds no strong
//!   reference to a computed or an effect (except a detached effect, until it is stopped).
//!
//! # Threading model
//!
//! There is one graph per process, and every handle is `Send + Sync`: any thread may read,
//! write, create and drop nodes. The observer whose reads are being recorded is tracked per
//! thread, so threads never capture each other's reads.
//!
//! - **Where effects run.** Synchronously, on the thread whose write triggered them, before the
//!   write (or the outermost [`batch`] on that thread) returns. An effect never runs
//!   concurrently with itself: when it is triggered while running on another thread, that thread
//!   runs it again right after, so no wake-up is lost and its last run sees the last values.
//!   Likewise, an effect already waiting to run on another thread (say, inside that thread's
//!   batch) runs there, once, seeing both writes. Effects woken by a write made inside a
//!   computed's function run once that function has returned.
//! - **Where computeds run.** On the thread that reads them, at most one run at a time; another
//!   thread that needs the same value meanwhile waits for that run and then uses its result.
//! - **Locks.** The graph's bookkeeping (states, edges, versions) sits behind one mutex, held
//!   only for bookkeeping and never while user code runs: functions of computeds and effects
//!   may read and write signals, create and stop effects and computeds, and call back into the
//!   library freely. Each value has its own small lock, under which only `T`'s `Clone` and
//!   `PartialEq` run, plus the closure of [`Signal::modify`], which gets the value in place.
//! - **Batches** are per thread: [`batch`] defers the effects of this thread's writes only.
//! - **Cycles** (a computed that reads itself, directly or not, while computing, even through
//!   computeds other threads are running) panic with a clear message rather than deadlock.
//! - **Panics** in a function propagate to the caller that ran it (the reader of a computed, the
//!   writer that triggered an effect). The graph stays usable: a computed whose function panicked
//!   runs again at its next read; an effect stays subscribed to what it read before panicking.
//!
//! # Vocabulary
//!
//! A *source* is read, a *subscriber* reads, the *observer* is the subscriber whose function is
//! running on this thread. A subscriber is *Clean* (up to date), *Check* (some source further up
//! changed: check the direct sources first) or *Dirty* (a direct source changed: run again).

// Layers, each using only those above it: graph, edges, observer, disposal; queue (the
// effect queue and batch depth); validation (bringing nodes up to date); batch (draining the
// queue: runs effects); signal, computed, effect (the handles).
mod batch;
mod computed;
mod disposal;
mod edges;
mod effect;
mod graph;
mod observer;
mod queue;
mod signal;
mod validation;

pub use batch::{batch, batch_scope, BatchScope};
pub(crate) use batch::{enter as enter_batch, exit as exit_batch};
pub use computed::Computed;
pub use effect::Effect;
pub(crate) use observer::is_tracking;
pub use observer::{on_cleanup, untrack};
pub use signal::Signal;
