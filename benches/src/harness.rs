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
pub fn check_eq<T: PartialEq + fmt::Debug>(what: &str, actual: T, expected: T) -> Result<(), Mismatch> {
    check(actual == expected, || format!("{what}: got {actual:?}, expected {expected:?}"))
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
    /// Builds, warms up and checks the case on `F`.
    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch>;
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
pub fn prepare<F: Framework, S: Shape>(shape: &S) -> Result<Box<dyn Runner>, Mismatch> {
    let inner = F::enter(|| shape.prepare::<F>())?;
    Ok(Box::new(Entered::<F> { inner: Some(inner), _framework: PhantomData }))
}

/// The reported figure of one framework on one case.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The aggregated time.
    Time(Duration),
    /// A check failed; the message says which.
    Failed(String),
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

/// Samples every runner in turn, `rounds` times, and aggregates each framework's samples.
pub fn interleave(
    runners: Vec<Result<Box<dyn Runner>, Mismatch>>,
    rounds: usize,
    aggregate: Aggregate,
) -> Vec<Outcome> {
    let mut states: Vec<(Option<Box<dyn Runner>>, Outcome)> = runners
        .into_iter()
        .map(|r| match r {
            Ok(runner) => (Some(runner), Outcome::Skipped),
            Err(m) => (None, Outcome::Failed(m.0)),
        })
        .collect();
    for _ in 0..rounds {
        for (runner, outcome) in &mut states {
            let Some(r) = runner else { continue };
            match r.sample() {
                Ok(d) => {
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
