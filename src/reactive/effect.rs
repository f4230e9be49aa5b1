//! Effects: functions re-run after every change of what they read.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::batch::{self, run_effect};
use super::disposal::dispose;
use super::graph::{self, Kind, NodeId, Run, State};
use super::observer::{observe, run_cleanups, CleanupSlot};

/// A side effect that runs once at once, then again after every change of the signals and
/// computeds it read in its last run.
///
/// # Threading
///
/// An effect re-runs synchronously, on the thread whose write triggered it, before that write
/// (or the outermost [`batch`](super::batch) around it) returns. It never runs concurrently
/// with itself: if it is triggered while running on another thread, that thread runs it again
/// right after, so the last run always sees the last values.
///
/// # Dropping
///
/// Dropping the handle stops the effect (RAII), like [`Effect::stop`]. To keep an effect for the
/// life of the process without holding its handle, call [`Effect::detach`].
///
/// ```
/// use mizu_sync::reactive::{Effect, Signal};
/// use std::sync::{Arc, Mutex};
///
/// let count = Signal::new(0);
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let (c, s) = (count.clone(), seen.clone());
/// let effect = Effect::new(move || s.lock().unwrap().push(c.get()));
/// count.set(1);
/// effect.stop();
/// count.set(2);
/// assert_eq!(*seen.lock().unwrap(), [0, 1]);
/// ```
#[must_use = "dropping an Effect stops it; call .detach() to keep it running"]
pub struct Effect {
    inner: Option<Arc<EffectInner>>,
}

/// The shared part of an effect.
struct EffectInner {
    id: NodeId,
    /// Locked only by the one thread running the effect (runs are exclusive), never contended.
    f: Mutex<Option<Box<dyn FnMut() + Send>>>,
    cleanups: CleanupSlot,
    stopped: AtomicBool,
}

impl Run for EffectInner {
    fn run(&self, id: NodeId) -> bool {
        self.cleanups.run();
        if self.stopped.load(Ordering::SeqCst) {
            return false;
        }
        let mut f = lock(&self.f);
        let Some(func) = f.as_mut() else {
            return false;
        };
        observe(id, &self.cleanups, func);
        drop(f);
        if self.stopped.load(Ordering::SeqCst) {
            // Stopped during this run: its cleanups run now, not never.
            self.cleanups.run();
        }
        false
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Effect {
    /// Creates an effect and runs `f` once, now, on this thread; `f` runs again after every
    /// change of what it read.
    pub fn new(f: impl FnMut() + Send + 'static) -> Effect {
        let inner = {
            let mut g = graph::lock();
            let id = g.add(Kind::Effect);
            let inner = Arc::new(EffectInner {
                id,
                f: Mutex::new(Some(Box::new(f))),
                cleanups: CleanupSlot::default(),
                stopped: AtomicBool::new(false),
            });
            let weak: Weak<dyn Run> = Arc::downgrade(&inner) as Weak<dyn Run>;
            g.nodes[id.index as usize].runner = Some(weak);
            inner
        };
        run_effect(inner.id);
        // Effects woken by writes inside computeds this run pulled.
        batch::flush();
        Effect { inner: Some(inner) }
    }

    /// Stops the effect: it never runs again, and its cleanups run now (after its current run,
    /// if it is running on another thread). Idempotent.
    pub fn stop(&self) {
        if let Some(inner) = &self.inner {
            stop(inner);
        }
    }

    /// Whether the effect is stopped.
    pub fn is_stopped(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.stopped.load(Ordering::Acquire))
    }

    /// Gives up the handle without stopping the effect: it then lives as long as the process.
    pub fn detach(mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let id = inner.id;
        let mut g = graph::lock();
        let left = match g.get_mut(id) {
            Some(node) if !node.stopped => {
                node.keep = Some(inner as Arc<dyn Run>);
                None
            }
            _ => Some(inner),
        };
        drop(g);
        drop(left);
    }
}

fn stop(inner: &EffectInner) {
    if inner.stopped.swap(true, Ordering::SeqCst) {
        return;
    }
    let keep = {
        let mut g = graph::lock();
        match g.get_mut(inner.id) {
            Some(node) => {
                node.stopped = true;
                node.state = State::Clean;
                let running = node.running != 0;
                let keep = node.keep.take();
                if !running {
                    g.clear_deps(inner.id.index);
                }
                keep
            }
            None => None,
        }
    };
    drop(keep);
    run_cleanups(inner.cleanups.take());
}

impl Drop for Effect {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            stop(&inner);
        }
    }
}

impl Drop for EffectInner {
    fn drop(&mut self) {
        graph::lock().remove(self.id);
        let f = self
            .f
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(f) = f {
            dispose(f);
        }
    }
}

impl fmt::Debug for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Effect")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}
