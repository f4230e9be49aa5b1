//! leptos' `reactive_graph` 0.2, the thread-safe peer.
//!
//! Signals are `ArcRwSignal`, computeds `ArcMemo` (lazy, with an equality cut-off); Arc handles
//! rather than the arena `RwSignal`/`Memo`, which wrap the same types behind an arena lookup.
//!
//! Effects are `RenderEffect`: the first run is synchronous, later runs are tasks on the
//! `any_spawner` executor, here `Executor::init_futures_executor` (its thread-local `LocalPool`
//! serves `spawn_local`). A batch is the writes followed by `Executor::poll_local()`, which runs
//! every effect woken by them until the pool stalls: the documented way to drive leptos effects
//! outside a browser, and the same "writes, then each stale effect once" as the other
//! libraries' batches. The timings therefore include the executor's task polling, which is how
//! leptos runs every effect.
//!
//! `ImmediateEffect` (synchronous, with its own `batch`) was tried first and rejected: inside
//! `batch` it evaluates its memo sources when marked, then finds them clean at the end of the
//! batch and does not run (broadPropagation and deepPropagation saw 0 of 2500 and 50 runs), and
//! outside a batch it re-checks the whole chain on every mark (a 1000-deep chain took 228 ms
//! per write).

use std::sync::Once;

use any_spawner::Executor;
use reactive_graph::computed::ArcMemo;
use reactive_graph::effect::RenderEffect;
use reactive_graph::graph::untrack;
use reactive_graph::signal::ArcRwSignal;
use reactive_graph::traits::{Get, Set};

use mizu_reactivity_shapes::{Framework, Value};

/// The reactive_graph adapter.
pub struct Leptos;

static EXECUTOR: Once = Once::new();

impl Framework for Leptos {
    const NAME: &'static str = "reactive_graph";
    const LAZY: bool = true;
    /// `mark_check` (computed/inner.rs and graph/subscriber.rs in 0.2.16) re-marks and recurses
    /// into every subscriber even when it is already marked.
    const MARKS_EVERY_PATH: bool = true;

    type Signal<T: Value> = ArcRwSignal<T>;
    type Computed<T: Value> = ArcMemo<T>;
    type Effect = RenderEffect<()>;
    type Scope = ();

    fn signal<T: Value>(value: T) -> Self::Signal<T> {
        ArcRwSignal::new(value)
    }

    #[inline]
    fn get<T: Value>(signal: &Self::Signal<T>) -> T {
        signal.get()
    }

    #[inline]
    fn set<T: Value>(signal: &Self::Signal<T>, value: T) {
        signal.set(value);
    }

    fn computed<T: Value>(f: impl Fn() -> T + Send + Sync + 'static) -> Self::Computed<T> {
        ArcMemo::new(move |_| f())
    }

    #[inline]
    fn read<T: Value>(computed: &Self::Computed<T>) -> T {
        computed.get()
    }

    fn effect(f: impl Fn() + Send + Sync + 'static) -> Self::Effect {
        RenderEffect::new(move |_| f())
    }

    #[inline]
    fn batch(f: impl FnOnce()) {
        f();
        Executor::poll_local();
    }

    #[inline]
    fn untrack<R>(f: impl FnOnce() -> R) -> R {
        untrack(f)
    }

    fn scope<R>(f: impl FnOnce() -> R) -> (R, Self::Scope) {
        (f(), ())
    }

    fn enter<R>(f: impl FnOnce() -> R) -> R {
        EXECUTOR.call_once(|| {
            // Another executor can only have been set by this same call: nothing else in the
            // benchmark sets one, so an error here is impossible and harmless.
            let _ = Executor::init_futures_executor();
        });
        f()
    }
}
