//! Long chains work on small stacks: nothing in the graph recurses per node.

use std::sync::{Arc, Mutex};

use mizu_sync::reactive::{batch, Computed, Effect, Signal};

const DEPTH: usize = 10_000;
const SMALL_STACK: usize = 512 * 1024;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("the thread did not panic or overflow");
}

fn chain(head: &Signal<i64>) -> Vec<Computed<i64>> {
    let mut chain: Vec<Computed<i64>> = Vec::with_capacity(DEPTH);
    let h = head.clone();
    chain.push(Computed::new(move || h.get() + 1));
    for _ in 1..DEPTH {
        let prev = chain[chain.len() - 1].clone();
        chain.push(Computed::new(move || prev.get() + 1));
    }
    chain
}

#[test]
fn ten_thousand_deep_chain_with_a_tail_effect_runs_on_a_512_kib_stack() {
    on_small_stack(|| {
        let head = Signal::new(0i64);
        let chain = chain(&head);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tail, out) = (chain[DEPTH - 1].clone(), seen.clone());
        let effect = Effect::new(move || out.lock().unwrap().push(tail.get()));
        head.set(1);
        batch(|| head.set(5));
        assert_eq!(*seen.lock().unwrap(), [10_000, 10_001, 10_005]);
        assert_eq!(chain[DEPTH / 2].get(), 5 + DEPTH as i64 / 2 + 1);
        drop(effect);
        // Dropping the chain from its head end leaves the tail's closure owning all of it.
        drop(chain);
        head.set(6);
        assert_eq!(seen.lock().unwrap().len(), 3);
    });
}

#[test]
fn ten_thousand_deep_chain_read_without_an_effect_updates_on_a_512_kib_stack() {
    on_small_stack(|| {
        let head = Signal::new(0i64);
        let chain = chain(&head);
        let tail = chain[DEPTH - 1].clone();
        drop(chain);
        assert_eq!(tail.get(), DEPTH as i64);
        for i in 1..4 {
            head.set(i);
            assert_eq!(tail.get(), DEPTH as i64 + i);
        }
    });
}
