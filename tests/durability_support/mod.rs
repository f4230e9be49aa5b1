//! Support for the SIGKILL durability test (tests/durability_kill.rs): the test binary runs
//! itself again as a child process that writes through a `Client` with a SQLite store, and the
//! parent kills it at random moments and checks what survived.
//!
//! - [`child`]: the child's side (writes, restore checks, the final report), speaking a line
//!   protocol on stdout ([`Line`]).
//! - [`cycle`]: the parent's side of one run of the child: spawn, read lines, kill, reap.
//! - [`ledger`]: the server's apply function, recording every application per write marker.
//! - [`phase_proxy`]: a TCP proxy between child and server that knows which request is in
//!   flight, so each kill can be attributed to a push, a pull or a snapshot.

#![allow(dead_code)]

pub mod book;
pub mod child;
pub mod cycle;
pub mod ledger;
pub mod phase_proxy;

/// Set (to `1`) in the child's environment: run the child's side.
pub const CHILD_ENV: &str = "MIZU_DURABILITY_CHILD";
/// Number of kill cycles (default [`DEFAULT_CYCLES`]).
pub const CYCLES_ENV: &str = "MIZU_DURABILITY_CYCLES";
/// Seed of the kill schedule and of the children's write patterns (default: from the clock).
pub const SEED_ENV: &str = "MIZU_DURABILITY_SEED";
/// Cycles of the default run.
pub const DEFAULT_CYCLES: u64 = 200;

/// The collection of entity writes (creates and updates through `Collection`).
pub const TODOS: &str = "todo";
/// The collection the server's apply function keeps for app-defined `mark.add` mutations.
pub const MARKS: &str = "mark";
/// The collection another writer (the parent, over raw HTTP) creates entries in.
pub const NOTES: &str = "note";
/// The app-defined mutation the child queues with `Client::mutate`.
pub const MARK_ADD: &str = "mark.add";

/// A todo, as the child writes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    pub title: String,
    pub completed: bool,
}

/// The marker of the update of todo `id` (each todo is updated at most once).
pub fn update_marker(id: &str) -> String {
    format!("{id}#u")
}

/// One line of the child's stdout protocol. Lines the parent does not understand (the test
/// harness's own output) are ignored, and so is a last line the kill cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The store reopened: its cursor (0 when never synced), how many todos are visible, and
    /// how many acknowledged writes it misses (each also reported by a `Missing` line before).
    Restored {
        cursor: u64,
        visible: usize,
        missing: usize,
    },
    /// An acknowledged write the reopened store does not show.
    Missing(String),
    /// The engine started; writes follow.
    Started,
    /// A write call is about to be made.
    Begin(String),
    /// The write call returned `Ok`: the write is acknowledged by the API.
    Ok(String),
    /// Something failed in the child.
    Error(String),
    /// Final run: the child's cursor and pending count after flushing.
    Final { cursor: u64, pending: usize },
    /// Final run: one visible entity (`collection`, `id`, compact JSON value).
    Entity {
        collection: String,
        id: String,
        value: String,
    },
    /// Final run: the report is complete.
    Done,
}

impl Line {
    /// The line as printed (without the newline).
    pub fn render(&self) -> String {
        match self {
            Line::Restored {
                cursor,
                visible,
                missing,
            } => format!("dur restored {cursor} {visible} {missing}"),
            Line::Missing(m) => format!("dur missing {m}"),
            Line::Started => "dur started".to_owned(),
            Line::Begin(m) => format!("dur begin {m}"),
            Line::Ok(m) => format!("dur ok {m}"),
            Line::Error(e) => format!("dur error {}", e.replace('\n', " ")),
            Line::Final { cursor, pending } => format!("dur final {cursor} {pending}"),
            Line::Entity {
                collection,
                id,
                value,
            } => format!("dur entity {collection} {id} {value}"),
            Line::Done => "dur done".to_owned(),
        }
    }

    /// Parses a complete line; `None` for anything else.
    pub fn parse(line: &str) -> Option<Line> {
        let rest = line.strip_prefix("dur ")?;
        let (word, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let mut fields = rest.splitn(3, ' ');
        let mut next = || fields.next().map(str::to_owned);
        Some(match word {
            "restored" => Line::Restored {
                cursor: next()?.parse().ok()?,
                visible: next()?.parse().ok()?,
                missing: next()?.parse().ok()?,
            },
            "missing" => Line::Missing(rest.to_owned()),
            "started" => Line::Started,
            "begin" => Line::Begin(rest.to_owned()),
            "ok" => Line::Ok(rest.to_owned()),
            "error" => Line::Error(rest.to_owned()),
            "final" => Line::Final {
                cursor: next()?.parse().ok()?,
                pending: next()?.parse().ok()?,
            },
            "entity" => Line::Entity {
                collection: next()?,
                id: next()?,
                value: next()?,
            },
            "done" => Line::Done,
            _ => return None,
        })
    }
}

pub use mizu_test_support::Rng;

/// Kill schedules that once failed, with the number of cycles that shows the failure.
///
/// - 1795567897400763510: a client that had bootstrapped from an empty scope (cursor 0) pulled
///   from 0 after the log was trimmed, got a gap no 410 announced, and settled acknowledged
///   creates the base did not hold (they were gone after the next restart, cycle 3).
///
/// The seed was found with the suite's earlier SplitMix64 generator; since the tests share
/// fastrand's generator it draws another schedule, so it now runs as one more fixed seed.
pub const REGRESSIONS: [(u64, u64); 1] = [(1_795_567_897_400_763_510, 12)];

/// The seed: `MIZU_DURABILITY_SEED` (a number, or `random`), else one from the clock.
pub fn seed() -> u64 {
    mizu_test_support::rng::seed("durability", SEED_ENV)
}

/// The number of cycles: `MIZU_DURABILITY_CYCLES`, or [`DEFAULT_CYCLES`].
pub fn cycles() -> u64 {
    match std::env::var(CYCLES_ENV) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{CYCLES_ENV} must be a number, not {text:?}")),
        Err(_) => DEFAULT_CYCLES,
    }
}
