//! Shared builders of the standard reactivity benchmark shapes (js-reactivity-benchmark), used by
//! the correctness tests here and reusable by the benchmarks.

#![allow(dead_code)]

pub mod dynamic;
pub mod kairo;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mizu_sync::reactive::{Computed, Signal};

/// A shared run counter.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Either a signal or a computed: a readable node of a shape.
#[derive(Clone)]
pub enum Node<T: 'static> {
    Signal(Signal<T>),
    Computed(Computed<T>),
}

impl<T: Clone + PartialEq + Send + Sync + 'static> Node<T> {
    pub fn read(&self) -> T {
        match self {
            Node::Signal(s) => s.get(),
            Node::Computed(c) => c.get(),
        }
    }
}

/// The CellX shape: four signals, then `layers` layers of four computeds, each with an effect.
/// Returns the end values before and after writing 4, 3, 2, 1 in one batch.
pub fn cellx(layers: usize) -> ([i64; 4], [i64; 4]) {
    use mizu_sync::reactive::{batch, Effect};
    let start: [Signal<i64>; 4] = [
        Signal::new(1),
        Signal::new(2),
        Signal::new(3),
        Signal::new(4),
    ];
    let mut layer: [Node<i64>; 4] = start.clone().map(Node::Signal);
    let mut effects = Vec::with_capacity(layers * 4);
    for _ in 0..layers {
        let m = layer.clone();
        let (a, b, c, d) = (m.clone(), m.clone(), m.clone(), m);
        let next = [
            Computed::new(move || a[1].read()),
            Computed::new(move || b[0].read() - b[2].read()),
            Computed::new(move || c[1].read() + c[3].read()),
            Computed::new(move || d[2].read()),
        ];
        for node in &next {
            let node = node.clone();
            effects.push(Effect::new(move || {
                node.get();
            }));
        }
        layer = next.map(Node::Computed);
    }
    let read = |l: &[Node<i64>; 4]| [l[0].read(), l[1].read(), l[2].read(), l[3].read()];
    let before = read(&layer);
    batch(|| {
        start[0].set(4);
        start[1].set(3);
        start[2].set(2);
        start[3].set(1);
    });
    let after = read(&layer);
    drop(effects);
    (before, after)
}
