//! The server's apply function for the durability test, with a ledger of every application.
//!
//! Each write carries a marker unique to that write (a todo's id, `<id>#u` for its update, a
//! `mark.add`'s `marker` argument, a note's id). The ledger records, per marker, every mutation
//! id the server applied it under and how often that succeeded or failed. A write the client
//! queued twice (under two mutation ids) or the server applied twice shows up here even when the
//! convention would hide it (a second create fails with a conflict, a second update rewrites
//! the same value).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use mizu_sync::protocol::wire::Mutation;
use mizu_sync::server::{convention_apply, ApplyFn, ScopeState};
use serde_json::{json, Value};

use super::{update_marker, MARKS, MARK_ADD};

/// What the server did with one marker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applications {
    /// Every mutation id the marker arrived under (the server never calls the apply function
    /// for an id it has already applied).
    pub mutation_ids: BTreeSet<String>,
    /// Successful applications.
    pub successes: u32,
    /// Error texts of failed applications.
    pub failures: Vec<String>,
}

/// Every application the server made, by marker.
#[derive(Debug, Default)]
pub struct Ledger {
    by_marker: Mutex<BTreeMap<String, Applications>>,
    /// Mutations the ledger could not attribute to a marker.
    unattributed: Mutex<Vec<String>>,
}

impl Ledger {
    /// The apply function to install in `ServerOptions::apply`: `mark.add` increments a counter
    /// entity per marker; everything else follows the default convention.
    pub fn apply_fn(self: &Arc<Self>) -> ApplyFn {
        let ledger = Arc::clone(self);
        Arc::new(move |m: &Mutation, state: &mut ScopeState| {
            let result = if m.name == MARK_ADD {
                apply_mark(m, state)
            } else {
                convention_apply(m, state)
            };
            ledger.record(m, &result);
            result
        })
    }

    fn record(&self, m: &Mutation, result: &Result<Vec<Value>, String>) {
        let Some(marker) = marker_of(m) else {
            self.unattributed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(format!("{} {}", m.name, m.id));
            return;
        };
        let mut by_marker = self
            .by_marker
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = by_marker.entry(marker).or_default();
        entry.mutation_ids.insert(m.id.clone());
        match result {
            Ok(_) => entry.successes += 1,
            Err(e) => entry.failures.push(e.clone()),
        }
    }

    /// A copy of everything recorded.
    pub fn applications(&self) -> BTreeMap<String, Applications> {
        self.by_marker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Mutations that carried no marker.
    pub fn unattributed(&self) -> Vec<String> {
        self.unattributed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// `mark.add {"marker": M}`: `mark/M` becomes `{"n": previous + 1}`; logs one change.
fn apply_mark(m: &Mutation, state: &mut ScopeState) -> Result<Vec<Value>, String> {
    let marker = m
        .args
        .as_ref()
        .and_then(|a| a.get("marker"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| mizu_sync::server::ERR_INVALID_MUTATION.to_owned())?;
    let previous = state
        .get(MARKS, marker)
        .and_then(|v| v.get("n"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let value = json!({ "n": previous + 1 });
    state.insert(MARKS, marker, value.clone());
    let op = if previous == 0 { "create" } else { "update" };
    Ok(vec![
        json!({"entity": MARKS, "id": marker, "op": op, "data": value}),
    ])
}

/// The marker of a mutation: a mark's `marker`, an entity write's id (`<id>#u` for updates).
fn marker_of(m: &Mutation) -> Option<String> {
    let args = m.args.as_ref()?;
    if m.name == MARK_ADD {
        return args.get("marker")?.as_str().map(str::to_owned);
    }
    let id = args.get("id")?.as_str()?;
    match m.name.rsplit_once('.')?.1 {
        "update" => Some(update_marker(id)),
        _ => Some(id.to_owned()),
    }
}
