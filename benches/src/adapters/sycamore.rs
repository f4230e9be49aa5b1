//! sycamore-reactive 0.9: single-threaded, with eager (pushed) memos.
//!
//! Computeds are `create_selector` (a memo that cuts off when its value is unchanged, the JS
//! benchmark's computed semantics); effects are `create_effect`. An app has one root: the
//! adapter keeps one per thread, enters it around every build and sample, and gives each graph
//! a child scope that is disposed with the graph.

use std::cell::Cell;

use sycamore_reactive::{
    batch, create_child_scope, create_effect, create_root, create_selector, create_signal, untrack,
    NodeHandle, ReadSignal, RootHandle, Signal,
};

use crate::local::Local;
use mizu_reactivity_shapes::{Framework, Value};

/// The sycamore-reactive adapter.
pub struct Sycamore;

/// A child scope of the root; dropping it disposes every node created in it.
pub struct SycamoreScope(NodeHandle);

impl Drop for SycamoreScope {
    fn drop(&mut self) {
        self.0.dispose();
    }
}

thread_local! {
    static ROOT: Cell<Option<RootHandle>> = const { Cell::new(None) };
}

fn root() -> RootHandle {
    ROOT.with(|cell| match cell.get() {
        Some(root) => root,
        None => {
            let root = create_root(|| {});
            cell.set(Some(root));
            root
        }
    })
}

impl Framework for Sycamore {
    const NAME: &'static str = "sycamore";
    const LAZY: bool = false;

    type Signal<T: Value> = Local<Signal<T>>;
    type Computed<T: Value> = Local<ReadSignal<T>>;
    type Effect = ();
    type Scope = SycamoreScope;

    fn signal<T: Value>(value: T) -> Self::Signal<T> {
        Local(create_signal(value))
    }

    #[inline]
    fn get<T: Value>(signal: &Self::Signal<T>) -> T {
        signal.0.get_clone()
    }

    #[inline]
    fn set<T: Value>(signal: &Self::Signal<T>, value: T) {
        signal.0.set(value);
    }

    fn computed<T: Value>(f: impl Fn() -> T + Send + Sync + 'static) -> Self::Computed<T> {
        Local(create_selector(f))
    }

    #[inline]
    fn read<T: Value>(computed: &Self::Computed<T>) -> T {
        computed.0.get_clone()
    }

    fn effect(f: impl Fn() + Send + Sync + 'static) -> Self::Effect {
        create_effect(f);
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
        let mut result = None;
        let handle = create_child_scope(|| result = Some(f()));
        match result {
            Some(result) => (result, SycamoreScope(handle)),
            None => unreachable!("create_child_scope runs its closure before returning"),
        }
    }

    fn enter<R>(f: impl FnOnce() -> R) -> R {
        root().run_in(f)
    }
}
