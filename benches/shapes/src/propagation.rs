//! Two plain propagation shapes: a 1000-deep chain and a 1000-wide fan-out of effects.

use std::hint::black_box;
use std::sync::Arc;

use crate::framework::{Framework, Node};
use crate::shape::{check_eq, repeated, Mismatch, Runner, Shape};
use crate::util::{Counter, Iter};

/// The graph of a propagation case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// 1 signal → `size` chained computeds → 1 effect; each write runs the effect once.
    Chain,
    /// 1 signal → `size` effects; each write runs every effect once.
    FanOut,
}

/// A propagation case: each sample times `writes` writes of the signal (each in its own batch,
/// so effects run after each), checking the effect runs and the value they saw.
#[derive(Debug, Clone, Copy)]
pub struct Propagation {
    /// Chain or fan-out.
    pub topology: Topology,
    /// Depth of the chain or width of the fan-out.
    pub size: usize,
    /// Writes per sample.
    pub writes: usize,
}

/// Builds the graph; the step writes the next value and checks the effects saw it.
fn build<F: Framework>(topology: Topology, size: usize) -> Iter {
    let head = F::signal(0i64);
    let runs = Counter::shared();
    let seen = Counter::shared();
    let observe = {
        let (runs, seen) = (runs.clone(), seen.clone());
        Arc::new(move |value: i64| {
            runs.bump();
            seen.add(value);
        })
    };
    let (effects, offset): (Vec<F::Effect>, i64) = match topology {
        Topology::Chain => {
            let mut tail = Node::<F, i64>::Signal(head.clone());
            for _ in 0..size {
                let previous = tail;
                tail = Node::Computed(F::computed(move || previous.read() + 1));
            }
            let effect = F::effect(move || observe(black_box(tail.read())));
            (vec![effect], size as i64)
        }
        Topology::FanOut => {
            let effects = (0..size)
                .map(|_| {
                    let (head, observe) = (head.clone(), observe.clone());
                    F::effect(move || observe(black_box(F::get(&head))))
                })
                .collect();
            (effects, 0)
        }
    };
    let width = effects.len() as i64;
    let mut value = 0i64;
    Box::new(move || {
        let _effects = &effects;
        value += 1;
        runs.reset();
        seen.reset();
        F::batch(|| F::set(&head, value));
        check_eq("effect runs per write", runs.get(), width)?;
        check_eq(
            "values seen by the effects",
            seen.get(),
            width * (value + offset),
        )
    })
}

impl Shape for Propagation {
    fn name(&self) -> String {
        match self.topology {
            Topology::Chain => format!("chain {} deep", self.size),
            Topology::FanOut => format!("fan-out 1→{} effects", self.size),
        }
    }

    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch> {
        repeated::<F>(|| build::<F>(self.topology, self.size), self.writes)
    }
}
