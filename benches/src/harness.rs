//! Interleaved timing of one case on every framework, with the JS benchmark's reporting rules.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::framework::Framework;

/// A correctness check that failed: the framework is not timed on this case.
#[derive(Debug, Clone)]
pub struct Mismatch(pub String);

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Fails with `message` unless `ok`.
#[inline]
pub fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), Mismatch> {
    if ok {
        Ok(())
    } else {
        Err(Mismatch(message()))
    }
}

/// Fails unless `actual == expected`, naming `what`.
#[inline]
pub fn check_eq<T: PartialEq + fmt::Debug>(
    what: &str,
    actual: T,
    expected: T,
) -> Result<(), Mismatch> {
    check(actual == expected, || {
        format!("{what}: got {actual:?}, expected {expected:?}")
    })
}

/// Times `f`.
#[inline]
pub fn timed(f: impl FnOnce() -> Result<(), Mismatch>) -> Result<Duration, Mismatch> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// One framework's prepared case: a built (and already checked) graph that yields samples.
pub trait Runner {
    /// Runs the timed part once and returns its duration; fails if a check inside fails.
    fn sample(&mut self) -> Result<Duration, Mismatch>;
}

/// How samples combine into the reported figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The fastest sample (kairo, reactively, S.js, chain, fan-out).
    Fastest,
    /// The sum of all samples (cellx: the total of 10 fresh graphs).
    Total,
}

/// A benchmark shape, written once for every framework.
pub trait Shape {
    /// The row label.
    fn name(&self) -> String;
    /// How samples combine.
    fn aggregate(&self) -> Aggregate {
        Aggregate::Fastest
    }
    /// Why the case cannot finish on `F` in reasonable time, when that is known before running
    /// it (a write whose marking walks more than [`PATH_BUDGET`] paths).
    fn infeasible<F: Framework>(&self) -> Option<String> {
        None
    }
    /// Builds, warms up and checks the case on `F`.
    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch>;
}

/// Paths a per-path-marking framework may walk in one sample before a case is declared
/// infeasible for it (about ten seconds of marking at ~100 ns a step).
pub const PATH_BUDGET: f64 = 1e8;

/// The refusal of a case whose writes walk `paths` paths per sample on a per-path-marking
/// framework, or `None` when `F` marks per node or the walk fits the budget.
pub fn path_budget<F: Framework>(paths: f64) -> Option<String> {
    (F::MARKS_EVERY_PATH && paths > PATH_BUDGET).then(|| {
        format!("not run: one sample marks along ~{paths:.1e} paths (budget {PATH_BUDGET:.0e})")
    })
}

/// A runner whose every sample, and whose disposal, runs inside its framework's runtime.
struct Entered<F: Framework> {
    inner: Option<Box<dyn Runner>>,
    _framework: PhantomData<F>,
}

impl<F: Framework> Runner for Entered<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        match &mut self.inner {
            Some(inner) => F::enter(|| inner.sample()),
            None => Err(Mismatch("the runner was already disposed".into())),
        }
    }
}

impl<F: Framework> Drop for Entered<F> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            F::enter(|| drop(inner));
        }
    }
}

/// Prepares `shape` on `F` inside `F`'s runtime.
pub fn prepare<F: Framework, S: Shape>(shape: &S) -> Result<Box<dyn Runner>, NotRun> {
    if let Some(reason) = shape.infeasible::<F>() {
        return Err(NotRun::Infeasible(reason));
    }
    let inner = F::enter(|| shape.prepare::<F>())?;
    Ok(Box::new(Entered::<F> {
        inner: Some(inner),
        _framework: PhantomData,
    }))
}

/// Why a framework has no runner for a case.
#[derive(Debug, Clone)]
pub enum NotRun {
    /// A check failed while preparing.
    Failed(Mismatch),
    /// The case cannot finish on this framework (see [`Shape::infeasible`]).
    Infeasible(String),
}

impl From<Mismatch> for NotRun {
    fn from(m: Mismatch) -> Self {
        Self::Failed(m)
    }
}

/// The reported figure of one framework on one case.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The aggregated time.
    Time(Duration),
    /// A check failed; the message says which.
    Failed(String),
    /// Not run: the case could not finish on this framework; the message says why.
    Infeasible(String),
    /// The framework was not run on this case.
    Skipped,
}

impl Outcome {
    /// The time, when there is one.
    pub fn time(&self) -> Option<Duration> {
        match self {
            Self::Time(d) => Some(*d),
            _ => None,
        }
    }
}

/// Samples a framework always gets on a case reported as the fastest sample.
pub const MIN_SAMPLES: usize = 3;

/// Time after which a framework takes no more samples of a case, once it has [`MIN_SAMPLES`]
/// (this only shortens the slowest peer's runs; a total needs every sample and ignores it).
pub const SAMPLING_BUDGET: Duration = Duration::from_secs(10);

/// Samples every runner in turn, `rounds` times, and aggregates each framework's samples (a
/// framework past [`SAMPLING_BUDGET`] with [`MIN_SAMPLES`] samples is not sampled again).
pub fn interleave(
    runners: Vec<Result<Box<dyn Runner>, NotRun>>,
    rounds: usize,
    aggregate: Aggregate,
) -> Vec<Outcome> {
    let mut states: Vec<(Option<Box<dyn Runner>>, Outcome)> = runners
        .into_iter()
        .map(|r| match r {
            Ok(runner) => (Some(runner), Outcome::Skipped),
            Err(NotRun::Failed(m)) => (None, Outcome::Failed(m.0)),
            Err(NotRun::Infeasible(reason)) => (None, Outcome::Infeasible(reason)),
        })
        .collect();
    let mut spent = vec![(0usize, Duration::ZERO); states.len()];
    for _ in 0..rounds {
        for ((runner, outcome), (samples, time)) in states.iter_mut().zip(&mut spent) {
            let Some(r) = runner else { continue };
            if aggregate == Aggregate::Fastest && *samples >= MIN_SAMPLES && *time > SAMPLING_BUDGET
            {
                continue;
            }
            match r.sample() {
                Ok(d) => {
                    *samples += 1;
                    *time += d;
                    *outcome = Outcome::Time(match (&*outcome, aggregate) {
                        (Outcome::Time(prev), Aggregate::Fastest) => (*prev).min(d),
                        (Outcome::Time(prev), Aggregate::Total) => *prev + d,
                        _ => d,
                    })
                }
                Err(m) => {
                    *outcome = Outcome::Failed(m.0);
                    *runner = None;
                }
            }
        }
    }
    states.into_iter().map(|(_, outcome)| outcome).collect()
}
