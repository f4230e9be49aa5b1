//! The S.js benchmark (`sBench.ts`): creating signals and computations, and updating signals.
//!
//! Each sub-case creates `scount` signals (not timed), then times building its effects, running
//! the update inside one batch, and disposing everything. Three warm-ups at n/100 come first.
//! The reported rows are `createSignals`, and the sums of the fastest sample of every
//! `create…` and every `update…` sub-case.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::framework::Framework;
use crate::shape::{check_eq, Mismatch, Runner, Shape};
use crate::util::Counter;

/// The JS benchmark's COUNT.
pub const COUNT: usize = 100_000;

/// One sub-case of `sBench.ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SCase {
    /// `createSignals`: n signals.
    CreateSignals,
    /// `create0to1`: n effects reading nothing.
    Create0To1,
    /// `create1to1`: n effects, one per signal.
    Create1To1,
    /// `create2to1`: n effects, each reading 2 signals.
    Create2To1,
    /// `create4to1`: n effects, each reading 4 signals.
    Create4To1,
    /// `create1000to1`: n effects, each reading 1000 signals.
    Create1000To1,
    /// `create1to2`: n effects over n/2 signals.
    Create1To2,
    /// `create1to4`: n effects over n/4 signals.
    Create1To4,
    /// `create1to8`: n effects over n/8 signals.
    Create1To8,
    /// `create1to1000`: n effects over n/1000 signals.
    Create1To1000,
    /// `update1to1`: n writes to 1 signal read by 1 effect.
    Update1To1,
    /// `update2to1`: n writes, 1 effect reading 2 signals.
    Update2To1,
    /// `update4to1`: n writes, 1 effect reading 4 signals.
    Update4To1,
    /// `update1000to1`: n writes, 1 effect reading 1000 signals.
    Update1000To1,
    /// `update1to2`: n writes, 2 effects.
    Update1To2,
    /// `update1to4`: n writes, 4 effects.
    Update1To4,
    /// `update1to1000`: n/10 writes, 1000 effects.
    Update1To1000,
}

/// The three reported groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SGroup {
    /// `createSignals`.
    CreateSignals,
    /// `createComputations`.
    CreateComputations,
    /// `updateSignals`.
    UpdateSignals,
}

impl SCase {
    /// Every sub-case, in the JS order.
    pub const ALL: [Self; 17] = [
        Self::CreateSignals,
        Self::Create0To1,
        Self::Create1To1,
        Self::Create2To1,
        Self::Create4To1,
        Self::Create1000To1,
        Self::Create1To2,
        Self::Create1To4,
        Self::Create1To8,
        Self::Create1To1000,
        Self::Update1To1,
        Self::Update2To1,
        Self::Update4To1,
        Self::Update1000To1,
        Self::Update1To2,
        Self::Update1To4,
        Self::Update1To1000,
    ];

    /// The group this sub-case is added into.
    pub fn group(self) -> SGroup {
        match self {
            Self::CreateSignals => SGroup::CreateSignals,
            Self::Create0To1
            | Self::Create1To1
            | Self::Create2To1
            | Self::Create4To1
            | Self::Create1000To1
            | Self::Create1To2
            | Self::Create1To4
            | Self::Create1To8
            | Self::Create1To1000 => SGroup::CreateComputations,
            _ => SGroup::UpdateSignals,
        }
    }

    /// `(n, scount)` as `sBench.ts` passes them to `run`.
    fn sizes(self, count: usize) -> (usize, usize) {
        match self {
            Self::CreateSignals => (count, count),
            Self::Create0To1 => (count, 0),
            Self::Create1To1 => (count, count),
            Self::Create2To1 => (count / 2, count),
            Self::Create4To1 => (count / 4, count),
            Self::Create1000To1 => (count / 1000, count),
            Self::Create1To2 => (count, count / 2),
            Self::Create1To4 => (count, count / 4),
            Self::Create1To8 => (count, count / 8),
            Self::Create1To1000 => (count, count / 1000),
            Self::Update1To1 => (count * 4, 1),
            Self::Update2To1 => (count * 2, 2),
            Self::Update4To1 => (count, 4),
            Self::Update1000To1 => (count / 250, 1000),
            Self::Update1To2 | Self::Update1To4 | Self::Update1To1000 => (count, 1),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::CreateSignals => "createSignals",
            Self::Create0To1 => "create0to1",
            Self::Create1To1 => "create1to1",
            Self::Create2To1 => "create2to1",
            Self::Create4To1 => "create4to1",
            Self::Create1000To1 => "create1000to1",
            Self::Create1To2 => "create1to2",
            Self::Create1To4 => "create1to4",
            Self::Create1To8 => "create1to8",
            Self::Create1To1000 => "create1to1000",
            Self::Update1To1 => "update1to1",
            Self::Update2To1 => "update2to1",
            Self::Update4To1 => "update4to1",
            Self::Update1000To1 => "update1000to1",
            Self::Update1To2 => "update1to2",
            Self::Update1To4 => "update1to4",
            Self::Update1To1000 => "update1to1000",
        }
    }
}

/// One S.js sub-case at a given COUNT.
#[derive(Debug, Clone, Copy)]
pub struct SBench {
    /// Which sub-case.
    pub case: SCase,
    /// COUNT (1e5 in the JS benchmark).
    pub count: usize,
}

/// What a sub-case built: the effects, the update to run in a batch, and how many effect runs
/// the whole sample must end with.
struct Built<F: Framework> {
    effects: Vec<F::Effect>,
    update: Box<dyn FnOnce()>,
    expected_runs: i64,
}

/// An effect reading `reads` (summed, like the JS `() => s1() + s2()`).
fn effect_over<F: Framework>(reads: Vec<F::Signal<i64>>, runs: &Arc<Counter>) -> F::Effect {
    let runs = runs.clone();
    F::effect(move || {
        let mut sum = 0i64;
        for s in &reads {
            sum += F::get(s);
        }
        black_box(sum);
        runs.bump();
    })
}

/// The timed part of `fn(n, sources)`: builds the sub-case's effects and its update.
fn build<F: Framework>(
    case: SCase,
    n: usize,
    sources: &[F::Signal<i64>],
    runs: &Arc<Counter>,
) -> Built<F> {
    let mut effects = Vec::new();
    let mut writes = 0usize;
    let fan = |effects: &mut Vec<F::Effect>, signals: usize, per_signal: usize| {
        for s in &sources[..signals] {
            for _ in 0..per_signal {
                effects.push(effect_over::<F>(vec![s.clone()], runs));
            }
        }
    };
    match case {
        SCase::CreateSignals => {
            let made: Vec<F::Signal<i64>> = (0..n as i64).map(F::signal).collect();
            return Built {
                effects,
                update: Box::new(move || drop(made)),
                expected_runs: 0,
            };
        }
        SCase::Create0To1 => {
            for i in 0..n {
                let runs = runs.clone();
                effects.push(F::effect(move || {
                    black_box(i);
                    runs.bump();
                }));
            }
        }
        SCase::Create1To1 => fan(&mut effects, n, 1),
        SCase::Create1To2 => fan(&mut effects, n / 2, 2),
        SCase::Create1To4 => fan(&mut effects, n / 4, 4),
        SCase::Create1To8 => fan(&mut effects, n / 8, 8),
        SCase::Create1To1000 => fan(&mut effects, n / 1000, 1000),
        SCase::Create2To1 | SCase::Create4To1 | SCase::Create1000To1 => {
            let arity = match case {
                SCase::Create2To1 => 2,
                SCase::Create4To1 => 4,
                _ => 1000,
            };
            for chunk in sources.chunks(arity).take(n) {
                effects.push(effect_over::<F>(chunk.to_vec(), runs));
            }
        }
        SCase::Update1To1 | SCase::Update2To1 | SCase::Update4To1 | SCase::Update1000To1 => {
            effects.push(effect_over::<F>(sources.to_vec(), runs));
            writes = n;
        }
        SCase::Update1To2 => fan(&mut effects, 1, 2),
        SCase::Update1To4 => fan(&mut effects, 1, 4),
        SCase::Update1To1000 => fan(&mut effects, 1, 1000),
    }
    if case == SCase::Update1To2 || case == SCase::Update1To4 {
        writes = n;
    }
    if case == SCase::Update1To1000 {
        writes = n / 10;
    }
    let count = effects.len() as i64;
    // Every effect ran once when created; an update that changes the value runs each once more.
    let expected_runs = if writes > 1 { 2 * count } else { count };
    let first = sources.first().cloned();
    let update: Box<dyn FnOnce()> = Box::new(move || {
        if let Some(s) = first {
            for i in 0..writes {
                F::set(&s, i as i64);
            }
        }
    });
    Built {
        effects,
        update,
        expected_runs,
    }
}

/// One sample of `run(fn, n, scount)`: the returned duration covers building, the batched
/// update, and the disposal, as in the JS benchmark.
fn run_once<F: Framework>(case: SCase, n: usize, scount: usize) -> Result<Duration, Mismatch> {
    let runs = Counter::shared();
    let ((start, sources, built), scope) = F::scope(|| {
        let sources: Vec<F::Signal<i64>> = (0..scount as i64).map(F::signal).collect();
        for s in &sources {
            black_box((F::get(s), F::get(s), F::get(s)));
        }
        let start = Instant::now();
        let built = build::<F>(case, n, &sources, &runs);
        (start, sources, built)
    });
    let Built {
        effects,
        update,
        expected_runs,
    } = built;
    F::batch(update);
    let total_runs = runs.get();
    drop(effects);
    drop(sources);
    drop(scope);
    let elapsed = start.elapsed();
    check_eq("effect runs", total_runs, expected_runs)?;
    Ok(elapsed)
}

struct SRunner<F: Framework> {
    case: SCase,
    n: usize,
    scount: usize,
    _framework: std::marker::PhantomData<F>,
}

impl<F: Framework> Runner for SRunner<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        run_once::<F>(self.case, self.n, self.scount)
    }
}

impl Shape for SBench {
    fn name(&self) -> String {
        self.case.label().to_string()
    }

    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch> {
        let (n, scount) = self.case.sizes(self.count);
        for _ in 0..3 {
            run_once::<F>(self.case, n / 100, scount)?;
        }
        Ok(Box::new(SRunner::<F> {
            case: self.case,
            n,
            scount,
            _framework: std::marker::PhantomData,
        }))
    }
}
