//! The sync engine: per-scope logs, state and dedupe, applying mutations one by one the way
//! mizu's `sync.Engine` does (dedupe check, apply, append, mark seen), plus the test-only
//! reject rules and trimming.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use super::apply::ApplyFn;
use super::error::Error;
use super::scope_log::{CursorTooOld, ScopeLog};
use super::scope_state::ScopeState;
use super::storage::{Commit, Db, Loaded};
use crate::protocol::wire::{Change, Mutation, MutationResult, DEFAULT_SCOPE};

/// A rule that makes matching mutations fail, to test how clients handle rejections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RejectRule {
    /// Only mutations with exactly this name match (any name when `None`).
    pub name: Option<String>,
    /// Only mutations whose args, serialized as compact JSON, contain this text match.
    pub arg_contains: Option<String>,
    /// The error text of the failed result.
    pub error: String,
}

impl RejectRule {
    fn matches(&self, m: &Mutation) -> bool {
        if self.name.as_ref().is_some_and(|name| *name != m.name) {
            return false;
        }
        match &self.arg_contains {
            None => true,
            Some(needle) => {
                let args = m.args.as_ref().map(Value::to_string).unwrap_or_default();
                args.contains(needle.as_str())
            }
        }
    }
}

/// One scope: its log and its state (`None` while an apply has it checked out).
#[derive(Debug)]
struct Slot {
    log: ScopeLog,
    state: Option<ScopeState>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            log: ScopeLog::default(),
            state: Some(ScopeState::default()),
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// Last assigned cursor, shared by all scopes.
    global: u64,
    scopes: HashMap<String, Slot>,
    rules: Vec<RejectRule>,
    db: Option<Db>,
}

/// The outcome of one push: per-mutation results and, per scope that got changes, its newest
/// cursor (what the live channel publishes).
pub(crate) struct PushOutcome {
    pub(crate) results: Vec<MutationResult>,
    pub(crate) published: Vec<(String, u64)>,
}

/// Shared engine state behind one lock. The apply function runs with no lock held: a mutation
/// checks its scope's state out of the slot, and others of that scope wait on `idle`.
pub(crate) struct Engine {
    inner: Mutex<Inner>,
    idle: Condvar,
    apply: ApplyFn,
}

fn failure(error: String) -> MutationResult {
    MutationResult {
        ok: false,
        cursor: None,
        error: Some(error),
        changes: None,
    }
}

fn success(cursor: u64, changes: Vec<Change>) -> MutationResult {
    // Go's `omitempty`: a zero cursor and an empty change list are left out.
    MutationResult {
        ok: true,
        cursor: (cursor > 0).then_some(cursor),
        error: None,
        changes: (!changes.is_empty()).then_some(changes),
    }
}

/// The scope a request names, `_default` when empty.
pub(crate) fn resolve_scope(scope: &str) -> &str {
    if scope.is_empty() {
        DEFAULT_SCOPE
    } else {
        scope
    }
}

impl Engine {
    /// An engine over what `db` holds (or over nothing, in memory).
    pub(crate) fn new(apply: ApplyFn, db: Option<(Db, Loaded)>) -> Engine {
        let (db, loaded) = match db {
            Some((db, loaded)) => (Some(db), loaded),
            None => (None, Loaded::default()),
        };
        let scopes = loaded
            .scopes
            .into_iter()
            .map(|(scope, (log, state))| {
                let slot = Slot {
                    log,
                    state: Some(state),
                };
                (scope, slot)
            })
            .collect();
        Engine {
            inner: Mutex::new(Inner {
                global: loaded.global,
                scopes,
                rules: Vec::new(),
                db,
            }),
            idle: Condvar::new(),
            apply,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `mutations` one by one; a failure does not stop the rest.
    pub(crate) fn push(&self, mutations: Vec<Mutation>) -> PushOutcome {
        let mut outcome = PushOutcome {
            results: Vec::with_capacity(mutations.len()),
            published: Vec::new(),
        };
        for mut m in mutations {
            m.scope = resolve_scope(&m.scope).to_owned();
            let (result, logged) = self.process(&m);
            outcome.results.push(result);
            if let Some(cursor) = logged {
                match outcome.published.iter_mut().find(|(s, _)| *s == m.scope) {
                    Some(entry) => entry.1 = cursor,
                    None => outcome.published.push((m.scope.clone(), cursor)),
                }
            }
        }
        outcome
    }

    /// Processes one mutation (scope resolved); returns its result and, when it logged
    /// changes, the scope's new head.
    fn process(&self, m: &Mutation) -> (MutationResult, Option<u64>) {
        let mut inner = self.lock();
        let mut state = loop {
            let rejection = inner
                .rules
                .iter()
                .find(|rule| rule.matches(m))
                .map(|rule| rule.error.clone());
            let slot = inner.scopes.entry(m.scope.clone()).or_default();
            if !m.id.is_empty() && slot.log.seen.contains(&m.id) {
                return (success(slot.log.head, Vec::new()), None);
            }
            if let Some(error) = rejection {
                return (failure(error), None);
            }
            if let Some(state) = slot.state.take() {
                break state;
            }
            inner = self
                .idle
                .wait(inner)
                .unwrap_or_else(PoisonError::into_inner);
        };
        drop(inner);
        let applied = catch_unwind(AssertUnwindSafe(|| (self.apply)(m, &mut state)))
            .unwrap_or_else(|_| Err("internal error: apply function panicked".to_owned()));
        let mut inner = self.lock();
        let outcome = match applied {
            Ok(datas) => Self::record(&mut inner, m, &mut state, datas),
            Err(error) => {
                state.rollback();
                (failure(error), None)
            }
        };
        if let Some(slot) = inner.scopes.get_mut(&m.scope) {
            slot.state = Some(state);
        }
        drop(inner);
        self.idle.notify_all();
        outcome
    }

    /// Appends the changes of a successful apply, persists them with the state and the seen
    /// id, and marks the id seen.
    fn record(
        inner: &mut Inner,
        m: &Mutation,
        state: &mut ScopeState,
        datas: Vec<Value>,
    ) -> (MutationResult, Option<u64>) {
        let Inner {
            global, scopes, db, ..
        } = inner;
        let Some(slot) = scopes.get_mut(&m.scope) else {
            state.rollback();
            return (failure("internal error: scope vanished".to_owned()), None);
        };
        let time = rfc3339_now();
        let mut next = *global;
        let changes: Vec<Change> = datas
            .into_iter()
            .map(|data| {
                next += 1;
                Change {
                    cursor: next,
                    scope: m.scope.clone(),
                    time: time.clone(),
                    data: Some(data),
                }
            })
            .collect();
        let head = if changes.is_empty() {
            slot.log.head
        } else {
            next
        };
        let seen_id = (!m.id.is_empty()).then_some(m.id.as_str());
        if let Some(db) = db {
            let touched = state.touched();
            let commit = Commit {
                scope: &m.scope,
                seen_id,
                changes: &changes,
                touched: &touched,
                head,
                global: next,
            };
            if let Err(e) = db.commit(&commit) {
                state.rollback();
                return (failure(format!("storage: {e}")), None);
            }
        }
        state.commit();
        *global = next;
        slot.log.head = head;
        slot.log
            .changes
            .extend(changes.iter().cloned().map(Arc::new));
        if let Some(id) = seen_id {
            slot.log.seen.insert(id.to_owned());
        }
        let logged = (!changes.is_empty()).then_some(head);
        (success(head, changes), logged)
    }

    /// Up to `limit` changes of `scope` after `cursor`, and whether more follow.
    pub(crate) fn pull(
        &self,
        scope: &str,
        cursor: u64,
        limit: usize,
    ) -> Result<(Vec<Arc<Change>>, bool), CursorTooOld> {
        let inner = self.lock();
        let Some(slot) = inner.scopes.get(resolve_scope(scope)) else {
            return Ok((Vec::new(), false));
        };
        let page = slot.log.since(cursor, limit.saturating_add(1))?;
        let has_more = page.len() > limit;
        let page = &page[..page.len().min(limit)];
        Ok((page.to_vec(), has_more))
    }

    /// The state of `scope` as snapshot data, with the scope's head.
    pub(crate) fn snapshot(&self, scope: &str) -> (Value, u64) {
        let scope = resolve_scope(scope);
        let mut inner = self.lock();
        loop {
            let Some(slot) = inner.scopes.get(scope) else {
                return (Value::Object(serde_json::Map::new()), 0);
            };
            if let Some(state) = &slot.state {
                return (state.to_json(), slot.log.head);
            }
            inner = self
                .idle
                .wait(inner)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Trims `scope`'s log up to its head (mizu's `Log.Trim(scope, head)`); returns the head.
    pub(crate) fn trim(&self, scope: &str) -> Result<u64, Error> {
        let scope = resolve_scope(scope);
        let mut inner = self.lock();
        let Inner { scopes, db, .. } = &mut *inner;
        let Some(slot) = scopes.get_mut(scope) else {
            return Ok(0);
        };
        let head = slot.log.head;
        let removes = slot.log.changes.first().is_some_and(|c| c.cursor < head);
        if removes {
            if let Some(db) = db {
                db.trim(scope, head, head)?;
            }
            slot.log.trim(head);
        }
        Ok(head)
    }

    /// Adds a reject rule.
    pub(crate) fn add_reject_rule(&self, rule: RejectRule) {
        self.lock().rules.push(rule);
    }

    /// Removes every reject rule.
    pub(crate) fn clear_reject_rules(&self) {
        self.lock().rules.clear();
    }
}

/// `time` as Go's `time.RFC3339Nano` marshals it in UTC: trailing zeros of the fraction
/// dropped, no fraction when it is zero (`2026-01-02T03:04:05.1234Z`).
fn rfc3339(time: time::OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn rfc3339_now() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use time::OffsetDateTime;

    #[test]
    fn formats_change_times_like_go_rfc3339_nano() {
        let at = |nanos: i128| OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("in range");
        assert_eq!(
            rfc3339(at(1_767_323_045_123_400_000)),
            "2026-01-02T03:04:05.1234Z"
        );
        assert_eq!(rfc3339(at(951_782_400_000_000_000)), "2000-02-29T00:00:00Z");
    }
}
