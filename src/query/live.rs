//! [`LiveQuery`]: one query's result kept up to date transaction by transaction.
//!
//! The query keeps every matching entity as a row (its sort keys and id) in a [`SortedList`].
//! A transaction hands it the entities that changed, each with its value before and after: a
//! row leaves at its old position and enters at its new one, O(log n) each, with no rescan and
//! no decode of any other value. A query without offset or limit turns each change straight
//! into diff steps; a windowed one compares its window before and after (O(window)).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use compact_str::CompactString;
use serde_json::Value;

use super::collate::SortKey;
use super::diff::{window_steps, DiffOp, Step};
use super::index::Index;
use super::outbox::{Listener, Outbox};
use super::projection::Projection;
use super::sorted::SortedList;
use super::spec::{Order, OrderKey, QuerySpec};
use crate::protocol::entity::JsonText;
use crate::store::View;

/// What a query subscription receives: first the whole result, then a diff after each
/// transaction that changed it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryEvent<V> {
    /// The whole result: (id, value) rows in query order.
    Result(Vec<(String, V)>),
    /// The steps that turn the previous result into the new one (see [`DiffOp`]).
    Diff(Vec<DiffOp<V>>),
}

/// One entity's change within a transaction, values parsed once for every query and index.
pub(crate) struct Change<'a> {
    pub(crate) id: &'a str,
    pub(crate) before: Option<Value>,
    pub(crate) after: Option<Value>,
    pub(crate) after_text: Option<&'a JsonText>,
}

/// The sort keys of one row.
#[derive(Debug, Clone)]
enum RowKeys {
    None,
    One(SortKey),
    Many(Box<[SortKey]>),
}

impl RowKeys {
    fn get(&self, i: usize) -> Option<&SortKey> {
        match self {
            RowKeys::None => None,
            RowKeys::One(key) => (i == 0).then_some(key),
            RowKeys::Many(keys) => keys.get(i),
        }
    }
}

/// A matching entity: its sort keys and its id.
#[derive(Debug, Clone)]
struct Row {
    keys: RowKeys,
    id: CompactString,
}

fn row(order: &[OrderKey], id: &str, value: &Value) -> Row {
    let key = |k: &OrderKey| SortKey::of(k.path.lookup(value));
    let keys = match order {
        [] => RowKeys::None,
        [only] => RowKeys::One(key(only)),
        many => RowKeys::Many(many.iter().map(key).collect()),
    };
    Row {
        keys,
        id: id.into(),
    }
}

fn compare(order: &[OrderKey], a: &Row, b: &Row) -> Ordering {
    for (i, key) in order.iter().enumerate() {
        let o = a.keys.get(i).cmp(&b.keys.get(i));
        let o = if key.order == Order::Desc {
            o.reverse()
        } else {
            o
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

struct State {
    matched: SortedList<Row>,
    /// The ids in the window, for a windowed query (empty otherwise).
    window: Vec<CompactString>,
}

/// What a transaction did to a live query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The result (the window) changed.
    pub(crate) result: bool,
    /// The number of matching entities changed.
    pub(crate) count: bool,
}

/// A query kept up to date; `A` is what the client attaches (its reactive triggers).
pub struct LiveQuery<A> {
    collection: String,
    spec: QuerySpec,
    state: Mutex<State>,
    outbox: Outbox<QueryEvent<JsonText>>,
    attachment: A,
}

impl<A> LiveQuery<A> {
    /// Evaluates `spec` over `collection` in `view`, starting from an index where one covers
    /// the query's equality filter or first sort key.
    pub(crate) fn build(
        view: &View<'_>,
        collection: &str,
        spec: QuerySpec,
        indexes: &[Index],
        attachment: A,
    ) -> LiveQuery<A> {
        let candidates: Box<dyn Iterator<Item = &str>> = match (
            spec.filter.as_ref().and_then(|f| {
                indexes
                    .iter()
                    .find_map(|index| Some((index, f.pinned(index.path())?)))
            }),
            spec.order
                .first()
                .and_then(|key| indexes.iter().find(|index| *index.path() == key.path)),
        ) {
            (Some((index, value)), _) => Box::new(index.ids_equal_to(value)),
            (None, Some(index)) => Box::new(index.ids()),
            (None, None) => Box::new(view.entries(collection).map(|(id, _)| id.as_str())),
        };
        let projection = Projection::of(spec.paths());
        let mut rows: Vec<Row> = candidates
            .filter_map(|id| {
                let value = projection.parse(view.get(collection, id)?);
                matches(&spec, &value).then(|| row(&spec.order, id, &value))
            })
            .collect();
        rows.sort_by(|a, b| compare(&spec.order, a, b));
        let mut state = State {
            matched: SortedList::from_sorted(rows),
            window: Vec::new(),
        };
        if !spec.is_unwindowed() {
            state.window = window_ids(&spec, &state.matched);
        }
        LiveQuery {
            collection: collection.to_owned(),
            spec,
            state: Mutex::new(state),
            outbox: Outbox::default(),
            attachment,
        }
    }

    /// The query.
    pub(crate) fn spec(&self) -> &QuerySpec {
        &self.spec
    }

    /// What the client attached.
    pub(crate) fn attachment(&self) -> &A {
        &self.attachment
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The result rows (id, value), in order. Call inside [`crate::store::Store::read_view`].
    pub(crate) fn rows(&self, view: &View<'_>) -> Vec<(String, JsonText)> {
        let value = |id: &str| {
            view.get(&self.collection, id)
                .cloned()
                .unwrap_or_else(|| "null".into())
        };
        self.ids_with(|id| (id.to_owned(), value(id)))
    }

    /// The result ids, in order.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.ids_with(str::to_owned)
    }

    fn ids_with<R>(&self, f: impl FnMut(&str) -> R) -> Vec<R> {
        let state = self.lock();
        if self.spec.is_unwindowed() {
            state.matched.iter().map(|r| r.id.as_str()).map(f).collect()
        } else {
            state
                .window
                .iter()
                .map(CompactString::as_str)
                .map(f)
                .collect()
        }
    }

    /// How many entities match, ignoring offset and limit.
    pub(crate) fn count(&self) -> usize {
        self.lock().matched.len()
    }

    /// Registers `listener`, whose first event is the current result. Call inside
    /// [`crate::store::Store::read_view`]; returns the listener's id.
    pub(crate) fn subscribe(
        &self,
        view: &View<'_>,
        listener: Listener<QueryEvent<JsonText>>,
    ) -> u64 {
        self.outbox
            .add(QueryEvent::Result(self.rows(view)), listener)
    }

    /// Unregisters the listener `id`.
    pub(crate) fn unsubscribe(&self, id: u64) {
        drop(self.outbox.remove(id));
    }

    /// Delivers queued events (see [`Outbox::deliver`]); returns the number of listener panics.
    pub(crate) fn deliver(&self) -> usize {
        self.outbox.deliver()
    }

    /// Applies one transaction's changes to this query's collection. Called by the registry
    /// under the store's lock.
    pub(crate) fn apply(&self, view: &View<'_>, changes: &[Change<'_>]) -> Outcome {
        let listening = self.outbox.has_listeners();
        let mut state = self.lock();
        let count_before = state.matched.len();
        let order = &self.spec.order;
        let cmp = |a: &Row, b: &Row| compare(order, a, b);
        let mut ops = Vec::new();
        let mut touched = HashSet::new();
        let end = self
            .spec
            .offset
            .saturating_add(self.spec.limit.unwrap_or(usize::MAX));
        for change in changes {
            let old = change
                .before
                .as_ref()
                .filter(|v| matches(&self.spec, v))
                .map(|v| row(order, change.id, v));
            let new = change
                .after
                .as_ref()
                .filter(|v| matches(&self.spec, v))
                .map(|v| row(order, change.id, v));
            if old.is_none() && new.is_none() {
                continue;
            }
            let from = old.and_then(|old| state.matched.remove(&old, cmp));
            let to = new.map(|new| state.matched.insert(new, cmp));
            if !self.spec.is_unwindowed() {
                // A row that was and stays past the window's end moves nothing in it.
                if from.is_some_and(|i| i < end) || to.is_some_and(|i| i < end) {
                    touched.insert(change.id);
                }
                continue;
            }
            let value = || change.after_text.cloned().unwrap_or_else(|| "null".into());
            let id = change.id.to_owned();
            match (from, to) {
                (Some(index), None) => ops.push(DiffOp::Removed { index, id }),
                (None, Some(index)) => ops.push(DiffOp::Inserted {
                    index,
                    id,
                    value: value(),
                }),
                (Some(from), Some(to)) => {
                    if from != to {
                        ops.push(DiffOp::Moved {
                            from,
                            to,
                            id: id.clone(),
                        });
                    }
                    ops.push(DiffOp::Updated {
                        index: to,
                        id,
                        value: value(),
                    });
                }
                (None, None) => {}
            }
        }
        if !self.spec.is_unwindowed() && !touched.is_empty() {
            let window = window_ids(&self.spec, &state.matched);
            ops = window_ops(view, &self.collection, &state.window, &window, &touched);
            state.window = window;
        }
        let outcome = Outcome {
            result: !ops.is_empty(),
            count: state.matched.len() != count_before,
        };
        if listening && !ops.is_empty() {
            drop(state);
            // Past the bound, the waiting diffs give way to the result as it is now: a
            // subscriber that applies events in order restarts from it.
            self.outbox.push(QueryEvent::Diff(ops), |_, _| {
                QueryEvent::Result(self.rows(view))
            });
        }
        outcome
    }
}

fn matches(spec: &QuerySpec, value: &Value) -> bool {
    spec.filter.as_ref().is_none_or(|f| f.matches(value))
}

fn window_ids(spec: &QuerySpec, matched: &SortedList<Row>) -> Vec<CompactString> {
    matched
        .iter_from(spec.offset)
        .take(spec.limit.unwrap_or(usize::MAX))
        .map(|r| r.id.clone())
        .collect()
}

/// The diff between two windows: structure first, then new values of rows that changed.
fn window_ops(
    view: &View<'_>,
    collection: &str,
    old: &[CompactString],
    new: &[CompactString],
    touched: &HashSet<&str>,
) -> Vec<DiffOp<JsonText>> {
    let value = |id: &str| {
        view.get(collection, id)
            .cloned()
            .unwrap_or_else(|| "null".into())
    };
    let mut inserted = HashSet::new();
    let mut ops: Vec<DiffOp<JsonText>> = window_steps(old, new)
        .into_iter()
        .map(|step| match step {
            Step::Removed(index, id) => DiffOp::Removed {
                index,
                id: id.into(),
            },
            Step::Inserted(index, id) => {
                inserted.insert(id.clone());
                DiffOp::Inserted {
                    index,
                    value: value(&id),
                    id: id.into(),
                }
            }
            Step::Moved(from, to, id) => DiffOp::Moved {
                from,
                to,
                id: id.into(),
            },
        })
        .collect();
    for (index, id) in new.iter().enumerate() {
        if touched.contains(id.as_str()) && !inserted.contains(id) {
            ops.push(DiffOp::Updated {
                index,
                id: id.to_string(),
                value: value(id),
            });
        }
    }
    ops
}

impl<A> std::fmt::Debug for LiveQuery<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveQuery")
            .field("collection", &self.collection)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}
