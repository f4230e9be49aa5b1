//! The exactly-once audit: every queued write applied once, or rejected and reported, never
//! both, never twice, never lost. Two views, each on its own:
//!
//! - from outside (any server, mizu included): the change log pulled from cursor 0. Each
//!   create or update carries a unique marker in its value, so it is counted per write; deletes
//!   and rejections are counted per collection and operation.
//! - from inside (reference server only): each run of the apply function with its mutation id
//!   and outcome, matched per write (marker), per entity (deletes) and per mutation id.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::backend::{Attempt, COUNTER_ADD, TALLY_CREATE};
use super::ledger::{Queued, Rejection};

/// The collection the writers create, update and delete in.
pub const ITEMS: &str = "item";

/// The reasons the server's app logic gives; any other rejection is a client bug.
const LEGIT_REASONS: [&str; 2] = ["sync: conflict", "sync: not found"];

/// What the writers queued, across all clients.
pub struct Audit<'a> {
    pub queued: &'a [Queued],
    pub rejections: &'a [Rejection],
}

impl Audit<'_> {
    /// Problems found in the change log (empty when all is well).
    pub fn check_log(&self, log: &[Value]) -> Vec<String> {
        let mut problems = Vec::new();
        for r in self.rejections {
            if !LEGIT_REASONS.contains(&r.reason.as_str()) {
                problems.push(format!(
                    "{} ({}) rejected for {:?}",
                    r.mutation_id, r.name, r.reason
                ));
            }
        }
        let queued_markers: BTreeSet<String> = self
            .writes(&["create", "update"])
            .filter_map(|q| marker(&q.args))
            .collect();
        let mut logged: BTreeMap<String, usize> = BTreeMap::new();
        let mut logged_deletes = 0usize;
        for data in log.iter().filter(|d| d["entity"] == ITEMS) {
            match data["op"].as_str() {
                Some("delete") => logged_deletes += 1,
                _ => {
                    *logged
                        .entry(data["data"]["marker"].as_str().unwrap_or("").to_owned())
                        .or_default() += 1
                }
            }
        }
        for (m, n) in &logged {
            if *n > 1 {
                problems.push(format!("write {m} was applied {n} times"));
            }
            if !queued_markers.contains(m) {
                problems.push(format!("the log holds a write no client queued: {m:?}"));
            }
        }
        let rejected = |ops: &[&str]| {
            self.rejections
                .iter()
                .filter(|r| ops.iter().any(|op| r.name == format!("{ITEMS}.{op}")))
                .count()
        };
        let expect_writes =
            queued_markers.len() - rejected(&["create", "update"]).min(queued_markers.len());
        if logged.len() != expect_writes {
            problems.push(format!(
                "{} creates/updates queued, {} reported rejected, but {} applied",
                queued_markers.len(),
                rejected(&["create", "update"]),
                logged.len()
            ));
        }
        let deletes = self.writes(&["delete"]).count();
        if logged_deletes + rejected(&["delete"]) != deletes {
            problems.push(format!(
                "{deletes} deletes queued, {} reported rejected, but {logged_deletes} applied",
                rejected(&["delete"])
            ));
        }
        let tallies: Vec<&str> = self
            .app(TALLY_CREATE)
            .filter_map(|q| q.args.as_ref()?["id"].as_str())
            .collect();
        for t in tallies {
            let n = log
                .iter()
                .filter(|d| d["entity"] == "tally" && d["id"] == t)
                .count();
            if n != 1 {
                problems.push(format!(
                    "app mutation tally {t} appears {n} times in the log"
                ));
            }
        }
        problems
    }

    /// Problems found in the reference server's apply runs and final counters.
    pub fn check_attempts(&self, attempts: &[Attempt], snapshot: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let mut by_id: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut ids_of_marker: HashMap<String, BTreeSet<&str>> = HashMap::new();
        for a in attempts {
            let e = by_id.entry(a.mutation.id.as_str()).or_default();
            if a.ok {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
            if let Some(m) = marker(&a.mutation.args) {
                ids_of_marker.entry(m).or_default().insert(&a.mutation.id);
            }
        }
        for (id, (ok, _)) in &by_id {
            if *ok > 1 {
                problems.push(format!("mutation {id} was applied {ok} times"));
            }
        }
        let rejected: BTreeSet<&str> = self
            .rejections
            .iter()
            .map(|r| r.mutation_id.as_str())
            .collect();
        for id in &rejected {
            match by_id.get(id) {
                None => problems.push(format!(
                    "{id} reported rejected, but the server never ran it"
                )),
                Some((ok, _)) if *ok > 0 => problems.push(format!(
                    "{id} reported rejected, but the server applied it; its runs: {}",
                    runs_of(attempts, id)
                )),
                Some(_) => {}
            }
        }
        for q in self.writes(&["create", "update"]) {
            let Some(m) = marker(&q.args) else { continue };
            let ids = ids_of_marker.get(&m).cloned().unwrap_or_default();
            if ids.len() > 1 {
                problems.push(format!(
                    "write {m} reached the server under {} ids",
                    ids.len()
                ));
            }
            let applied: usize = ids.iter().map(|id| by_id[id].0).sum();
            let was_rejected = ids.iter().any(|id| rejected.contains(id));
            if applied + usize::from(was_rejected) != 1 {
                problems.push(format!(
                    "write {m}: applied {applied} times, rejected: {was_rejected}"
                ));
            }
        }
        // Deletes carry no marker: balance them per entity.
        let mut balance: BTreeMap<String, i64> = BTreeMap::new();
        for q in self.writes(&["delete"]) {
            *balance.entry(entity_id(&q.args)).or_default() += 1;
        }
        for a in attempts
            .iter()
            .filter(|a| a.mutation.name == format!("{ITEMS}.delete"))
        {
            let settled = a.ok
                || (rejected.contains(a.mutation.id.as_str())
                    && last_attempt(attempts, &a.mutation.id).is_some_and(|l| std::ptr::eq(l, a)));
            if settled {
                *balance.entry(entity_id(&a.mutation.args)).or_default() -= 1;
            }
        }
        for (id, off) in balance.iter().filter(|(_, off)| **off != 0) {
            problems.push(format!(
                "deletes of {id}: {off} queued but neither applied nor rejected (negative: extra)"
            ));
        }
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for q in self.app(COUNTER_ADD) {
            let args = q.args.clone().unwrap_or_default();
            let id = args["id"].as_str().unwrap_or("").to_owned();
            if q.id.as_deref().is_some_and(|id| rejected.contains(id)) {
                problems.push(format!("{COUNTER_ADD} {:?} was rejected", q.id));
                continue;
            }
            *totals.entry(id).or_default() += args["by"].as_i64().unwrap_or(0);
        }
        for (id, total) in totals {
            let got = snapshot["counter"][&id]["total"].as_i64();
            if got != Some(total) {
                problems.push(format!(
                    "counter {id}: expected total {total}, server has {got:?}"
                ));
            }
        }
        problems
    }

    /// Collection writes of `ITEMS` with one of `ops`.
    fn writes<'s>(&'s self, ops: &'s [&str]) -> impl Iterator<Item = &'s Queued> + 's {
        self.queued.iter().filter(move |q| {
            q.id.is_none() && ops.iter().any(|op| q.name == format!("{ITEMS}.{op}"))
        })
    }

    fn app<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Queued> + 's {
        self.queued
            .iter()
            .filter(move |q| q.id.is_some() && q.name == name)
    }
}

/// The runs of one mutation id, as `ok`/`rejected` with their time after the first run.
fn runs_of(attempts: &[Attempt], id: &str) -> String {
    let mut runs = attempts.iter().filter(|a| a.mutation.id == id);
    let Some(first) = runs.next() else {
        return "none".into();
    };
    std::iter::once(first)
        .chain(runs)
        .map(|a| {
            let outcome = if a.ok { "ok" } else { "rejected" };
            format!("{outcome} at +{:?}", a.at - first.at)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn last_attempt<'a>(attempts: &'a [Attempt], id: &str) -> Option<&'a Attempt> {
    attempts.iter().rev().find(|a| a.mutation.id == id)
}

/// The marker of a create or update (`args.data.marker`).
fn marker(args: &Option<Value>) -> Option<String> {
    args.as_ref()?["data"]["marker"].as_str().map(str::to_owned)
}

fn entity_id(args: &Option<Value>) -> String {
    args.as_ref()
        .and_then(|a| a["id"].as_str())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(name: &str, args: Value) -> Queued {
        Queued {
            id: None,
            name: name.into(),
            args: Some(args),
        }
    }

    fn set(marker: &str) -> Value {
        json!({"entity": ITEMS, "id": "item-0", "op": "update", "data": {"marker": marker}})
    }

    #[test]
    fn audit_passes_a_clean_log_and_flags_a_lost_a_doubled_and_a_phantom_write() {
        let queued = vec![
            write(
                "item.create",
                json!({"id": "item-0", "data": {"marker": "c0-1"}}),
            ),
            write(
                "item.update",
                json!({"id": "item-0", "data": {"marker": "c0-2"}}),
            ),
            write("item.delete", json!({"id": "item-0"})),
        ];
        let audit = Audit {
            queued: &queued,
            rejections: &[],
        };
        let delete = json!({"entity": ITEMS, "id": "item-0", "op": "delete"});
        let clean = [set("c0-1"), set("c0-2"), delete.clone()];
        assert_eq!(audit.check_log(&clean), Vec::<String>::new());

        let broken = [set("c0-1"), set("c0-1"), set("c9-9")];
        let problems = audit.check_log(&broken).join("\n");
        assert!(problems.contains("c0-1 was applied 2 times"), "{problems}");
        assert!(
            problems.contains("no client queued: \"c9-9\""),
            "{problems}"
        );
        assert!(problems.contains("1 deletes queued"), "{problems}");

        let lost = [set("c0-1"), delete];
        let problems = audit.check_log(&lost).join("\n");
        assert!(problems.contains("2 creates/updates queued"), "{problems}");
    }
}
