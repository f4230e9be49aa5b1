//! Interleaved timing of one case on every framework, with the JS benchmark's reporting rules.
//!
//! The shapes, their checks and the [`Shape`] / [`Runner`] traits live in
//! `mizu-reactivity-shapes`; this is what only the benchmark needs.

use std::marker::PhantomData;
use std::time::Duration;

use mizu_reactivity_shapes::{Aggregate, Framework, Mismatch, Runner, Shape};

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
