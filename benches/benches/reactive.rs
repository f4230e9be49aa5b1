//! `cargo bench -p mizu-sync-benches --bench reactive`: the reactive graph against its peers.
//!
//! Environment:
//! - `MIZU_BENCH_QUICK=1`: a fast smoke run (fewer rounds, smaller S.js and reactively runs;
//!   every correctness check still runs).
//! - `MIZU_BENCH_FILTER=text`: only the cases whose name contains `text`.
//! - `MIZU_BENCH_FRAMEWORKS=ours,alien-signals,...`: only these columns (for profiling).

use std::time::Duration;

use mizu_reactivity_shapes::{
    Cellx, Dynamic, Kairo, KairoCase, Propagation, SBench, SCase, SGroup, Shape, Topology, CONFIGS,
};
use mizu_sync_benches::adapters::{Alien, Leptos, Ours, Sycamore};
use mizu_sync_benches::harness::{interleave, prepare, Outcome};
use mizu_sync_benches::report::{format_duration, render, Row, FRAMEWORKS};

struct Options {
    quick: bool,
    filter: Option<String>,
    frameworks: Vec<String>,
}

impl Options {
    fn from_env() -> Self {
        let quick = std::env::var("MIZU_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let filter = std::env::var("MIZU_BENCH_FILTER")
            .ok()
            .filter(|f| !f.is_empty());
        let frameworks = match std::env::var("MIZU_BENCH_FRAMEWORKS") {
            Ok(list) if !list.is_empty() => list.split(',').map(|s| s.trim().to_string()).collect(),
            _ => FRAMEWORKS.iter().map(|s| s.to_string()).collect(),
        };
        Self {
            quick,
            filter,
            frameworks,
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| name.contains(f.as_str()))
    }

    /// Rounds of a case: `full` normally, fewer in a quick run.
    fn rounds(&self, full: usize) -> usize {
        if self.quick {
            full.min(2)
        } else {
            full
        }
    }
}

/// Prepares `shape` on every selected framework, then samples them interleaved.
fn run<S: Shape>(shape: &S, rounds: usize, options: &Options) -> [Outcome; 4] {
    let selected = |name: &str| options.frameworks.iter().any(|f| f == name);
    let mut runners = Vec::new();
    let mut columns = Vec::new();
    let preparers = [
        prepare::<Ours, S>,
        prepare::<Alien, S>,
        prepare::<Sycamore, S>,
        prepare::<Leptos, S>,
    ];
    for (index, (name, preparer)) in FRAMEWORKS.iter().zip(preparers).enumerate() {
        if selected(name) {
            runners.push(preparer(shape));
            columns.push(index);
        }
    }
    let mut outcomes = [
        Outcome::Skipped,
        Outcome::Skipped,
        Outcome::Skipped,
        Outcome::Skipped,
    ];
    for (index, outcome) in columns
        .into_iter()
        .zip(interleave(runners, rounds, shape.aggregate()))
    {
        outcomes[index] = outcome;
    }
    outcomes
}

fn progress(row: &Row) {
    let cells: Vec<String> = FRAMEWORKS
        .iter()
        .zip(&row.outcomes)
        .map(|(name, outcome)| match outcome {
            Outcome::Time(d) => format!("{name} {}", format_duration(*d)),
            Outcome::Failed(reason) => format!("{name} FAILED ({reason})"),
            Outcome::Infeasible(_) => format!("{name} DNF"),
            Outcome::Skipped => format!("{name} -"),
        })
        .collect();
    eprintln!("{:<32} {}", row.case, cells.join(" | "));
}

fn case<S: Shape>(rows: &mut Vec<Row>, shape: S, rounds: usize, options: &Options) {
    let name = shape.name();
    if !options.wants(&name) {
        return;
    }
    let row = Row {
        case: name,
        outcomes: run(&shape, rounds, options),
    };
    progress(&row);
    rows.push(row);
}

/// Adds `outcome` into a group total: a failure anywhere fails the group.
fn accumulate(total: &mut Outcome, outcome: Outcome) {
    *total = match (&*total, outcome) {
        (Outcome::Failed(r), _) => Outcome::Failed(r.clone()),
        (_, Outcome::Failed(r)) => Outcome::Failed(r),
        (Outcome::Infeasible(r), _) => Outcome::Infeasible(r.clone()),
        (_, Outcome::Infeasible(r)) => Outcome::Infeasible(r),
        (Outcome::Skipped, o) => o,
        (o, Outcome::Skipped) => o.clone(),
        (Outcome::Time(a), Outcome::Time(b)) => Outcome::Time(*a + b),
    };
}

fn sbench(rows: &mut Vec<Row>, options: &Options) {
    let count = if options.quick {
        10_000
    } else {
        sbench_count()
    };
    let groups = [
        (SGroup::CreateSignals, "createSignals"),
        (SGroup::CreateComputations, "createComputations"),
        (SGroup::UpdateSignals, "updateSignals"),
    ];
    for (group, label) in groups {
        if !options.wants(label) {
            continue;
        }
        let mut totals = [
            Outcome::Skipped,
            Outcome::Skipped,
            Outcome::Skipped,
            Outcome::Skipped,
        ];
        for sub in SCase::ALL.into_iter().filter(|c| c.group() == group) {
            let outcomes = run(&SBench { case: sub, count }, options.rounds(10), options);
            for (total, outcome) in totals.iter_mut().zip(outcomes) {
                accumulate(total, outcome);
            }
        }
        let row = Row {
            case: label.to_string(),
            outcomes: totals,
        };
        progress(&row);
        rows.push(row);
    }
}

fn sbench_count() -> usize {
    mizu_reactivity_shapes::sbench::COUNT
}

/// Stack of the benchmark thread: first reads of a 1000-deep chain (and of 2500 cellx layers)
/// recurse through every node in each library, deeper than the main thread's 8 MiB allow.
const STACK_BYTES: usize = 1 << 30;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and a full run takes many minutes, so a test run only says how to run it.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("skipped: run with `cargo bench -p mizu-sync-benches --bench reactive`");
        return;
    }
    // Everything runs on this one thread; no value of a single-threaded peer leaves it.
    let bench = std::thread::Builder::new()
        .name("bench".into())
        .stack_size(STACK_BYTES)
        .spawn(bench);
    match bench.map(|handle| handle.join()) {
        Ok(Ok(())) => {}
        Ok(Err(_)) => std::process::exit(101),
        Err(error) => {
            eprintln!("cannot start the benchmark thread: {error}");
            std::process::exit(1);
        }
    }
}

fn bench() {
    let options = Options::from_env();
    let started = std::time::Instant::now();
    let mut rows = Vec::new();

    for topology in [Topology::Chain, Topology::FanOut] {
        let shape = Propagation {
            topology,
            size: 1000,
            writes: 100,
        };
        case(&mut rows, shape, options.rounds(10), &options);
    }
    for layers in [1000, 2500] {
        case(&mut rows, Cellx { layers }, options.rounds(10), &options);
    }
    for kairo in KairoCase::ALL {
        case(
            &mut rows,
            Kairo {
                case: kairo,
                iterations: 500,
            },
            options.rounds(10),
            &options,
        );
    }
    for config in CONFIGS {
        let timed_iterations = if options.quick {
            config.iterations / 10
        } else {
            config.iterations
        };
        case(
            &mut rows,
            Dynamic {
                config,
                timed_iterations,
            },
            options.rounds(5),
            &options,
        );
    }
    sbench(&mut rows, &options);

    println!("{}", render(&rows));
    println!(
        "total wall time: {}",
        format_duration(Duration::from_secs_f64(started.elapsed().as_secs_f64()))
    );
}
