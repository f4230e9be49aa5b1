//! mizu-sync's own reactive graph (thread-safe).

use mizu_sync::reactive::{batch, untrack, Computed, Effect, Signal};

use crate::framework::{Framework, Value};

/// The mizu-sync adapter.
pub struct Ours;

impl Framework for Ours {
    const NAME: &'static str = "mizu-sync";
    const LAZY: bool = true;

    type Signal<T: Value> = Signal<T>;
    type Computed<T: Value> = Computed<T>;
    type Effect = Effect;
    type Scope = ();

    fn signal<T: Value>(value: T) -> Self::Signal<T> {
        Signal::new(value)
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
        Computed::new(f)
    }

    #[inline]
    fn read<T: Value>(computed: &Self::Computed<T>) -> T {
        computed.get()
    }

    fn effect(f: impl Fn() + Send + Sync + 'static) -> Self::Effect {
        Effect::new(f)
    }

    #[inline]
    fn batch(f: impl FnOnce()) {
        batch(f);
    }

    #[inline]
    fn untrack<R>(f: impl FnOnce() -> R) -> R {
        untrack(f)
    }

    fn scope<R>(f: impl FnOnce() -> R) -> (R, Self::Scope) {
        (f(), ())
    }
}
