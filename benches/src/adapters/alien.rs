//! alien-signals (the Rust port), the fastest single-threaded peer.
//!
//! Its nodes live in a process-global arena that is never freed, so memory grows with every
//! graph built (notably in the S.js creation cases); the arena also makes it single-threaded.

use alien_signals::{end_batch, set_active_sub, start_batch, Computed, Effect, Signal};

use crate::local::Local;
use mizu_reactivity_shapes::{Framework, Value};

/// The alien-signals adapter.
pub struct Alien;

/// An alien-signals effect; dropping it disposes the effect, like the other libraries' handles.
pub struct AlienEffect(Option<Effect>);

impl Drop for AlienEffect {
    fn drop(&mut self) {
        if let Some(effect) = self.0.take() {
            effect.dispose();
        }
    }
}

impl Framework for Alien {
    const NAME: &'static str = "alien-signals";
    const LAZY: bool = true;

    type Signal<T: Value> = Local<Signal<T>>;
    type Computed<T: Value> = Local<Computed<T>>;
    type Effect = AlienEffect;
    type Scope = ();

    fn signal<T: Value>(value: T) -> Self::Signal<T> {
        Local(Signal::new(value))
    }

    #[inline]
    fn get<T: Value>(signal: &Self::Signal<T>) -> T {
        signal.0.get()
    }

    #[inline]
    fn set<T: Value>(signal: &Self::Signal<T>, value: T) {
        signal.0.set(value);
    }

    fn computed<T: Value>(f: impl Fn() -> T + Send + Sync + 'static) -> Self::Computed<T> {
        Local(Computed::new(move |_| f()))
    }

    #[inline]
    fn read<T: Value>(computed: &Self::Computed<T>) -> T {
        computed.0.get()
    }

    fn effect(f: impl Fn() + Send + Sync + 'static) -> Self::Effect {
        AlienEffect(Some(Effect::new(f)))
    }

    #[inline]
    fn batch(f: impl FnOnce()) {
        start_batch();
        f();
        end_batch();
    }

    #[inline]
    fn untrack<R>(f: impl FnOnce() -> R) -> R {
        let previous = set_active_sub(None);
        let result = f();
        set_active_sub(previous);
        result
    }

    fn scope<R>(f: impl FnOnce() -> R) -> (R, Self::Scope) {
        (f(), ())
    }
}
