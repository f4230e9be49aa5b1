//! Memory stays flat: creating and dropping a million signal + computed + effect trios frees
//! every node, edge and value (counted by a global allocator, alone in this test binary).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use mizu_sync::reactive::{Computed, Effect, Signal};

/// Counts the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged, only counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn trio(i: i64) {
    let signal = Signal::new(i);
    let s = signal.clone();
    let computed = Computed::new(move || s.get() * 2);
    let c = computed.clone();
    let effect = Effect::new(move || {
        c.get();
    });
    signal.set(i + 1);
    assert_eq!(computed.get(), (i + 1) * 2);
    drop(effect);
    drop(computed);
    drop(signal);
}

fn chain_with_effect(length: usize) {
    let head = Signal::new(0i64);
    let mut tail = {
        let h = head.clone();
        Computed::new(move || h.get() + 1)
    };
    for _ in 1..length {
        let prev = tail.clone();
        tail = Computed::new(move || prev.get() + 1);
    }
    let t = tail.clone();
    let effect = Effect::new(move || {
        t.get();
    });
    head.set(1);
    assert_eq!(tail.get(), length as i64 + 1);
    drop(tail);
    drop(head);
    drop(effect);
}

/// One test only: the counter is global to this binary, and tests run in parallel.
#[test]
fn creating_and_dropping_a_million_nodes_leaves_memory_flat() {
    // Warm up: the graph's arenas and this thread's scratch buffers reach their working size.
    for i in 0..1000 {
        trio(i);
    }
    chain_with_effect(100);
    let before = live();
    for i in 0..1_000_000 {
        trio(i);
    }
    let after_trios = live();
    for _ in 0..1000 {
        chain_with_effect(100);
    }
    let after_chains = live();
    assert!(
        after_trios - before < 4096,
        "memory grew by {} bytes over a million signal + computed + effect trios",
        after_trios - before
    );
    assert!(
        after_chains - after_trios < 4096,
        "memory grew by {} bytes over a thousand chains",
        after_chains - after_trios
    );
}
