//! The kairo cases of js-reactivity-benchmark (`kairoBench.ts` and `kairo/*.ts`), ported node for
//! node, with their assertions turned into checks that stop a framework that gets them wrong.

use std::hint::black_box;
use std::time::Duration;

use super::mol::mol;
use super::util::{busy, Counter, Fresh, Iter};
use crate::framework::{Framework, Node};
use crate::harness::{check, check_eq, timed, Mismatch, Runner, Shape};

/// One kairo case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KairoCase {
    /// head → c1 → c2 (constant) → c3 → c4 → c5 → effect; nothing past c2 may re-run.
    AvoidablePropagation,
    /// 1 head, 50 × (computed, computed, effect).
    BroadPropagation,
    /// A chain of 50 computeds and an effect.
    DeepPropagation,
    /// head → 5 computeds → sum → effect.
    Diamond,
    /// 100 signals → one object → 100 splits → 100 (+1) → 100 effects.
    Mux,
    /// One computed reading the head 30 times.
    RepeatedObservers,
    /// A chain of 10 and a sum over all of it.
    Triangle,
    /// A computed whose dependency set flips on every write.
    Unstable,
    /// The mol benchmark (kairo/molBench.ts).
    MolBench,
}

impl KairoCase {
    /// All nine, in the JS benchmark's order.
    pub const ALL: [Self; 9] = [
        Self::AvoidablePropagation,
        Self::BroadPropagation,
        Self::DeepPropagation,
        Self::Diamond,
        Self::Mux,
        Self::RepeatedObservers,
        Self::Triangle,
        Self::Unstable,
        Self::MolBench,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::AvoidablePropagation => "avoidablePropagation",
            Self::BroadPropagation => "broadPropagation",
            Self::DeepPropagation => "deepPropagation",
            Self::Diamond => "diamond",
            Self::Mux => "mux",
            Self::RepeatedObservers => "repeatedObservers",
            Self::Triangle => "triangle",
            Self::Unstable => "unstable",
            Self::MolBench => "molBench",
        }
    }

    fn build<F: Framework>(self) -> Iter {
        match self {
            Self::AvoidablePropagation => avoidable_propagation::<F>(),
            Self::BroadPropagation => broad_propagation::<F>(),
            Self::DeepPropagation => deep_propagation::<F>(),
            Self::Diamond => diamond::<F>(),
            Self::Mux => mux::<F>(),
            Self::RepeatedObservers => repeated_observers::<F>(),
            Self::Triangle => triangle::<F>(),
            Self::Unstable => unstable::<F>(),
            Self::MolBench => mol::<F>(),
        }
    }
}

/// A kairo case: built once, `iter()` warmed up three times, then each sample times
/// `iterations` calls of `iter()`.
#[derive(Debug, Clone, Copy)]
pub struct Kairo {
    /// Which case.
    pub case: KairoCase,
    /// Calls of `iter()` per sample (500 in the JS benchmark).
    pub iterations: usize,
}

struct KairoRunner<F: Framework> {
    iter: Iter,
    iterations: usize,
    _scope: F::Scope,
}

impl<F: Framework> Runner for KairoRunner<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        let iter = &mut self.iter;
        timed(|| (0..self.iterations).try_for_each(|_| iter()))
    }
}

impl Shape for Kairo {
    fn name(&self) -> String {
        self.case.label().to_string()
    }

    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch> {
        let (mut iter, scope) = F::scope(|| self.case.build::<F>());
        for _ in 0..3 {
            iter()?;
        }
        Ok(Box::new(KairoRunner::<F> {
            iter,
            iterations: self.iterations,
            _scope: scope,
        }))
    }
}

fn avoidable_propagation<F: Framework>() -> Iter {
    let head = F::signal(0i64);
    let c1 = F::computed({
        let head = head.clone();
        move || F::get(&head)
    });
    let c2 = F::computed({
        let c1 = c1.clone();
        move || {
            F::read(&c1);
            0i64
        }
    });
    let c3_runs = Counter::shared();
    let c3 = F::computed({
        let (c2, runs) = (c2.clone(), c3_runs.clone());
        move || {
            runs.bump();
            busy();
            F::read(&c2) + 1
        }
    });
    let c4 = F::computed(move || F::read(&c3) + 2);
    let c5 = F::computed(move || F::read(&c4) + 3);
    let effect_runs = Counter::shared();
    let effect = F::effect({
        let (c5, runs) = (c5.clone(), effect_runs.clone());
        move || {
            black_box(F::read(&c5));
            runs.bump();
            busy();
        }
    });
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        check_eq("c5", F::read(&c5), 6)?;
        for i in 0..1000 {
            F::batch(|| F::set(&head, i));
            check_eq("c5", F::read(&c5), 6)?;
        }
        check_eq("c3 runs (must not re-run)", c3_runs.get(), 1)?;
        check_eq("effect runs (must not re-run)", effect_runs.get(), 1)
    })
}

fn broad_propagation<F: Framework>() -> Iter {
    let head = F::signal(0i64);
    let runs = Counter::shared();
    let mut effects = Vec::with_capacity(50);
    let mut last = Node::<F, i64>::Signal(head.clone());
    for i in 0..50 {
        let current = F::computed({
            let head = head.clone();
            move || F::get(&head) + i
        });
        let current2 = F::computed(move || F::read(&current) + 1);
        effects.push(F::effect({
            let (current2, runs) = (current2.clone(), runs.clone());
            move || {
                black_box(F::read(&current2));
                runs.bump();
            }
        }));
        last = Node::Computed(current2);
    }
    Box::new(move || {
        let _effects = &effects;
        F::batch(|| F::set(&head, 1));
        runs.reset();
        for i in 0..50 {
            F::batch(|| F::set(&head, i));
            check_eq("last", last.read(), i + 50)?;
        }
        check_eq("effect runs", runs.get(), 50 * 50)
    })
}

fn deep_propagation<F: Framework>() -> Iter {
    const LEN: i64 = 50;
    let head = F::signal(0i64);
    let mut current = Node::<F, i64>::Signal(head.clone());
    for _ in 0..LEN {
        let c = current;
        current = Node::Computed(F::computed(move || c.read() + 1));
    }
    let runs = Counter::shared();
    let effect = F::effect({
        let (current, runs) = (current.clone(), runs.clone());
        move || {
            black_box(current.read());
            runs.bump();
        }
    });
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        runs.reset();
        for i in 0..50 {
            F::batch(|| F::set(&head, i));
            check_eq("tail", current.read(), LEN + i)?;
        }
        check_eq("effect runs", runs.get(), 50)
    })
}

fn diamond<F: Framework>() -> Iter {
    const WIDTH: i64 = 5;
    let head = F::signal(0i64);
    let current: Vec<F::Computed<i64>> = (0..WIDTH)
        .map(|_| {
            let head = head.clone();
            F::computed(move || F::get(&head) + 1)
        })
        .collect();
    let sum = F::computed(move || current.iter().map(F::read).sum::<i64>());
    let runs = Counter::shared();
    let effect = F::effect({
        let (sum, runs) = (sum.clone(), runs.clone());
        move || {
            black_box(F::read(&sum));
            runs.bump();
        }
    });
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        check_eq("sum", F::read(&sum), 2 * WIDTH)?;
        runs.reset();
        for i in 0..500 {
            F::batch(|| F::set(&head, i));
            check_eq("sum", F::read(&sum), (i + 1) * WIDTH)?;
        }
        check_eq("effect runs", runs.get(), 500)
    })
}

fn mux<F: Framework>() -> Iter {
    let heads: Vec<F::Signal<i64>> = (0..100).map(|_| F::signal(0i64)).collect();
    let mux = F::computed({
        let heads = heads.clone();
        move || Fresh::new(heads.iter().map(F::get).collect::<Vec<i64>>())
    });
    let splitted: Vec<F::Computed<i64>> = (0..heads.len())
        .map(|index| {
            let mux = mux.clone();
            F::computed(move || F::read(&mux).0[index])
        })
        .map(|x| F::computed(move || F::read(&x) + 1))
        .collect();
    let effects: Vec<F::Effect> = splitted
        .iter()
        .map(|x| {
            let x = x.clone();
            F::effect(move || {
                black_box(F::read(&x));
            })
        })
        .collect();
    Box::new(move || {
        let _effects = &effects;
        for i in 0..10 {
            F::batch(|| F::set(&heads[i], i as i64));
            check_eq("split", F::read(&splitted[i]), i as i64 + 1)?;
        }
        for i in 0..10 {
            F::batch(|| F::set(&heads[i], i as i64 * 2));
            check_eq("split", F::read(&splitted[i]), i as i64 * 2 + 1)?;
        }
        Ok(())
    })
}

fn repeated_observers<F: Framework>() -> Iter {
    const SIZE: i64 = 30;
    let head = F::signal(0i64);
    let current = F::computed({
        let head = head.clone();
        move || (0..SIZE).map(|_| F::get(&head)).sum::<i64>()
    });
    let runs = Counter::shared();
    let effect = F::effect({
        let (current, runs) = (current.clone(), runs.clone());
        move || {
            black_box(F::read(&current));
            runs.bump();
        }
    });
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        check_eq("current", F::read(&current), SIZE)?;
        runs.reset();
        for i in 0..100 {
            F::batch(|| F::set(&head, i));
            check_eq("current", F::read(&current), i * SIZE)?;
        }
        check_eq("effect runs", runs.get(), 100)
    })
}

fn triangle<F: Framework>() -> Iter {
    const WIDTH: i64 = 10;
    let head = F::signal(0i64);
    let mut current = Node::<F, i64>::Signal(head.clone());
    let mut list = Vec::with_capacity(WIDTH as usize);
    for _ in 0..WIDTH {
        let c = current.clone();
        list.push(current);
        current = Node::Computed(F::computed(move || c.read() + 1));
    }
    let sum = F::computed(move || list.iter().map(Node::read).sum::<i64>());
    let runs = Counter::shared();
    let effect = F::effect({
        let (sum, runs) = (sum.clone(), runs.clone());
        move || {
            black_box(F::read(&sum));
            runs.bump();
        }
    });
    let constant = (1..=WIDTH).sum::<i64>();
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        check_eq("sum", F::read(&sum), constant)?;
        runs.reset();
        for i in 0..100 {
            F::batch(|| F::set(&head, i));
            check_eq("sum", F::read(&sum), constant - WIDTH + i * WIDTH)?;
        }
        check_eq("effect runs", runs.get(), 100)
    })
}

fn unstable<F: Framework>() -> Iter {
    let head = F::signal(0i64);
    let double = F::computed({
        let head = head.clone();
        move || F::get(&head) * 2
    });
    let inverse = F::computed({
        let head = head.clone();
        move || -F::get(&head)
    });
    let current = F::computed({
        let head = head.clone();
        move || {
            let mut result = 0;
            for _ in 0..20 {
                result += if F::get(&head) % 2 != 0 {
                    F::read(&double)
                } else {
                    F::read(&inverse)
                };
            }
            result
        }
    });
    let runs = Counter::shared();
    let effect = F::effect({
        let (current, runs) = (current.clone(), runs.clone());
        move || {
            black_box(F::read(&current));
            runs.bump();
        }
    });
    Box::new(move || {
        let _effect = &effect;
        F::batch(|| F::set(&head, 1));
        check_eq("current", F::read(&current), 40)?;
        runs.reset();
        for i in 0..100 {
            F::batch(|| F::set(&head, i));
        }
        check(runs.get() == 100, || {
            format!("effect runs: got {}, expected 100", runs.get())
        })
    })
}
