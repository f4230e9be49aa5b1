//! Flat dropping of node functions.
//!
//! A computed's function often owns the handle of the computed before it (a chain): dropping
//! the last handle would recurse once per link and overflow the stack on long chains. Functions
//! dropped while another one is being dropped on the same thread are queued and dropped one
//! after the other instead.

use std::cell::{Cell, RefCell};

/// Anything that can be dropped later.
trait Disposable: Send {}
impl<T: Send> Disposable for T {}

thread_local! {
    static DROPPING: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Vec<Box<dyn Disposable>>> = const { RefCell::new(Vec::new()) };
}

/// Drops `value` now, or after the drop under way on this thread, never recursively.
pub(crate) fn dispose<T: Send + 'static>(value: T) {
    // While this thread's locals are being torn down, drop in place.
    let Ok(dropping) = DROPPING.try_with(Cell::get) else {
        drop(value);
        return;
    };
    if dropping {
        let boxed: Box<dyn Disposable> = Box::new(value);
        // If the queue is already gone, the closure (and the value in it) is dropped in place.
        let _ = PENDING.try_with(move |p| p.borrow_mut().push(boxed));
        return;
    }
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DROPPING.with(|d| d.set(false));
        }
    }
    DROPPING.with(|d| d.set(true));
    let _reset = Reset;
    drop(value);
    while let Some(next) = PENDING.with(|p| p.borrow_mut().pop()) {
        drop(next);
    }
}
