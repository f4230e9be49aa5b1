//! What a benchmark shape is: a case written once for every [`Framework`], prepared (built,
//! warmed up and checked) into a [`Runner`] that yields timed samples, and the checks that stop
//! a framework whose values or run counts are wrong.

use std::fmt;
use std::time::{Duration, Instant};

use crate::framework::Framework;
use crate::util::Iter;

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

/// Prepares a case whose sample is `calls` calls of one checked step (a kairo `iter()`, a
/// propagation write): builds the step in a scope of `F`, calls it three times to warm up, and
/// returns the runner timing `calls` calls a sample.
pub(crate) fn repeated<F: Framework>(
    build: impl FnOnce() -> Iter,
    calls: usize,
) -> Result<Box<dyn Runner>, Mismatch> {
    let (mut step, scope) = F::scope(build);
    for _ in 0..3 {
        step()?;
    }
    Ok(Box::new(Repeated::<F> {
        step,
        calls,
        _scope: scope,
    }))
}

struct Repeated<F: Framework> {
    step: Iter,
    calls: usize,
    _scope: F::Scope,
}

impl<F: Framework> Runner for Repeated<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        let step = &mut self.step;
        timed(|| (0..self.calls).try_for_each(|_| step()))
    }
}
