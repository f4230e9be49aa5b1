//! The parent's bookkeeping over all runs of the child: which writes were begun and
//! acknowledged, where each kill landed, and every problem found; and the final verdict that
//! holds the server's ledger and the final states against it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::ledger::Applications;
use super::phase_proxy::Op;
use super::{Line, MARKS, NOTES, TODOS};

/// How recent a response must be for a kill to count as [`Phase::AfterResponse`].
pub const RECENT_ANSWER: Duration = Duration::from_millis(5);

/// Entities by collection, then id.
pub type State = BTreeMap<String, BTreeMap<String, Value>>;

/// Where a kill landed. One kill can land in several phases (a write on the app's thread while
/// the engine pushes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Before the engine started: opening the store, restoring, checking.
    Open,
    /// Inside a write call.
    Write,
    /// A push request in flight.
    Push,
    /// A pull request in flight.
    Pull,
    /// A snapshot request in flight.
    Snapshot,
    /// No request in flight, and a response arrived within the last few milliseconds: the
    /// engine is likely applying it to the store.
    AfterResponse,
    /// None of the above (between requests: timers, idle).
    Between,
}

impl Phase {
    /// The phases of a kill, given the child's lines so far, the requests in flight and
    /// whether this child received a response within [`RECENT_ANSWER`].
    pub fn of_kill(lines: &[Line], in_flight: &[Op], answered_recently: bool) -> BTreeSet<Phase> {
        let mut phases = BTreeSet::new();
        if !lines.contains(&Line::Started) {
            phases.insert(Phase::Open);
        }
        let last_write = lines
            .iter()
            .rev()
            .find(|l| matches!(l, Line::Begin(_) | Line::Ok(_) | Line::Error(_)));
        if matches!(last_write, Some(Line::Begin(_))) {
            phases.insert(Phase::Write);
        }
        for op in in_flight {
            match op {
                Op::Push => phases.insert(Phase::Push),
                Op::Pull => phases.insert(Phase::Pull),
                Op::Snapshot => phases.insert(Phase::Snapshot),
                Op::Other => false,
            };
        }
        if in_flight.is_empty() && answered_recently {
            phases.insert(Phase::AfterResponse);
        }
        if phases.is_empty() {
            phases.insert(Phase::Between);
        }
        phases
    }
}

/// What kind of write a marker names (see the child's naming).
fn is_todo_create(marker: &str) -> bool {
    marker.starts_with('t') && !marker.ends_with("#u")
}

/// Everything the parent learned.
#[derive(Debug, Default)]
pub struct Book {
    /// Writes whose call began.
    pub begun: BTreeSet<String>,
    /// Writes whose call returned `Ok` (acknowledged by the API).
    pub acked: BTreeSet<String>,
    /// Notes another writer created on the server.
    pub notes: BTreeSet<String>,
    /// Kills per phase.
    pub kills: BTreeMap<Phase, u64>,
    /// Cycles in which the server log was trimmed (the next pull gets 410 and snapshots).
    pub trims: u64,
    /// Targeted kills whose request did not come in time (they killed anyway).
    pub targets_missed: u64,
    /// Cursor of the previous restore.
    last_restored_cursor: u64,
    /// Everything that went wrong, with its cycle.
    pub problems: Vec<String>,
}

impl Book {
    /// Takes in the lines of one run of the child.
    pub fn absorb(&mut self, cycle: u64, lines: &[Line]) {
        for line in lines {
            match line {
                Line::Begin(m) => {
                    self.begun.insert(m.clone());
                }
                Line::Ok(m) => {
                    self.acked.insert(m.clone());
                }
                Line::Missing(m) => self.problem(format!(
                    "cycle {cycle}: acknowledged write {m} is not visible after the restart"
                )),
                Line::Restored { cursor, .. } => {
                    if *cursor < self.last_restored_cursor {
                        self.problem(format!(
                            "cycle {cycle}: the cursor went back from {} to {cursor}",
                            self.last_restored_cursor
                        ));
                    }
                    self.last_restored_cursor = *cursor;
                }
                Line::Error(e) => self.problem(format!("cycle {cycle}: the child said: {e}")),
                _ => {}
            }
        }
    }

    /// Records where a kill landed.
    pub fn kill_landed(&mut self, phases: &BTreeSet<Phase>) {
        for phase in phases {
            *self.kills.entry(*phase).or_default() += 1;
        }
    }

    pub fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    /// Writes the expectations for the next child: each acknowledged todo create and update.
    pub fn write_expectations(&self, path: &Path) {
        let mut text = String::new();
        for m in &self.acked {
            if let Some(id) = m.strip_suffix("#u") {
                let _ = writeln!(text, "update {id}");
            } else if is_todo_create(m) {
                let _ = writeln!(text, "create {m}");
            }
        }
        std::fs::write(path, text).expect("the expectations file is writable");
    }

    /// Holds the server's ledger and the three final states (the restarted child's, a fresh
    /// client's and the server's own snapshot) against what the child acknowledged.
    pub fn verdict(
        &mut self,
        ledger: &BTreeMap<String, Applications>,
        unattributed: &[String],
        states: &[(&str, &State)],
    ) -> Verdict {
        let mut verdict = Verdict::default();
        for m in unattributed {
            self.problem(format!(
                "the server applied a mutation without a marker: {m}"
            ));
        }
        for (marker, apps) in ledger {
            let foreign = self.notes.contains(marker);
            if !foreign && !self.begun.contains(marker) {
                self.problem(format!(
                    "the server applied {marker}, which was never written"
                ));
            }
            if apps.successes > 1 || apps.mutation_ids.len() > 1 {
                verdict.duplicates += 1;
                self.problem(format!(
                    "{marker} was applied {} times under mutation ids {:?}",
                    apps.successes, apps.mutation_ids
                ));
            }
            if !apps.failures.is_empty() {
                self.problem(format!(
                    "{marker} failed on the server: {:?}",
                    apps.failures
                ));
            }
        }
        let lost: Vec<String> = self
            .acked
            .iter()
            .filter(|m| ledger.get(*m).is_none_or(|a| a.successes == 0))
            .map(|m| format!("acknowledged write {m} never reached the server"))
            .collect();
        verdict.losses = lost.len();
        self.problems.extend(lost);
        for marker in self.begun.difference(&self.acked) {
            match ledger.get(marker) {
                Some(a) if a.successes > 0 => verdict.in_doubt_applied += 1,
                _ => verdict.in_doubt_absent += 1,
            }
        }
        if let Some((reference_name, reference)) = states.first() {
            for (name, state) in &states[1..] {
                if state != reference {
                    let diff = difference(reference, state);
                    self.problem(format!("{name} differs from {reference_name}: {diff}"));
                }
            }
            self.check_final(reference_name, reference);
        }
        verdict.begun = self.begun.len();
        verdict.acked = self.acked.len();
        verdict.applied = ledger.values().filter(|a| a.successes > 0).count();
        verdict
    }

    /// Every acknowledged write shows in `state` exactly as written, once.
    fn check_final(&mut self, name: &str, state: &State) {
        let empty = BTreeMap::new();
        let of = |c: &str| state.get(c).unwrap_or(&empty);
        let (todos, marks, notes) = (of(TODOS), of(MARKS), of(NOTES));
        let mut problems = Vec::new();
        for m in &self.acked {
            if let Some(id) = m.strip_suffix("#u") {
                if todos.get(id).and_then(|t| t.get("completed")) != Some(&json!(true)) {
                    problems.push(format!("{name}: the acknowledged update {m} is not there"));
                }
            } else if is_todo_create(m) && !todos.contains_key(m) {
                problems.push(format!("{name}: the acknowledged todo {m} is not there"));
            }
        }
        for m in self.acked.iter().filter(|m| m.starts_with('m')) {
            if !marks.contains_key(m) {
                problems.push(format!("{name}: the acknowledged mark {m} is not there"));
            }
        }
        for (id, value) in marks {
            if *value != json!({"n": 1}) {
                problems.push(format!(
                    "{name}: mark {id} is {value} (applied more than once)"
                ));
            }
        }
        for note in &self.notes {
            if !notes.contains_key(note) {
                problems.push(format!(
                    "{name}: the other writer's note {note} is not there"
                ));
            }
        }
        self.problems.extend(problems);
    }
}

/// A short description of how `b` differs from `a`.
fn difference(a: &State, b: &State) -> String {
    let flat = |s: &State| -> BTreeMap<String, Value> {
        s.iter()
            .flat_map(|(c, ids)| {
                ids.iter()
                    .map(move |(id, v)| (format!("{c}/{id}"), v.clone()))
            })
            .collect()
    };
    let (a, b) = (flat(a), flat(b));
    let mut out = Vec::new();
    for (k, v) in &a {
        match b.get(k) {
            None => out.push(format!("lacks {k}")),
            Some(w) if w != v => out.push(format!("{k} is {w}, not {v}")),
            Some(_) => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(format!("has extra {k}"));
    }
    let shown = out.len().min(10);
    format!("{} ({} differences)", out[..shown].join("; "), out.len())
}

/// The figures of a run.
#[derive(Debug, Default)]
pub struct Verdict {
    pub begun: usize,
    pub acked: usize,
    /// Markers the server applied at least once.
    pub applied: usize,
    /// Begun, not acknowledged (killed inside the call), yet applied: exactly once.
    pub in_doubt_applied: usize,
    /// Begun, not acknowledged, and never applied.
    pub in_doubt_absent: usize,
    pub duplicates: usize,
    pub losses: usize,
    pub elapsed: Duration,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "writes begun {}, acknowledged {}, applied on the server {} \
             (in doubt: {} applied once, {} absent), duplicates {}, losses {}, {:.1} s",
            self.begun,
            self.acked,
            self.applied,
            self.in_doubt_applied,
            self.in_doubt_absent,
            self.duplicates,
            self.losses,
            self.elapsed.as_secs_f64()
        )
    }
}
