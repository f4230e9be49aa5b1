//! [`Query`]: a live query over a [`crate::ffi::Collection`], made from a JSON spec, with
//! diffs delivered to a [`QueryListener`].

use std::sync::Arc;

use serde_json::Value;

use crate::ffi::closable::Closable;
use crate::ffi::error::MizuError;
use crate::ffi::events::Events;
use crate::ffi::listener::QueryListener;
use crate::ffi::record::EntityRecord;
use crate::ffi::subscription::Subscription;
use crate::protocol::entity::JsonText;
use crate::query::{DiffOp, QueryEvent};

type CoreQuery = crate::Query<Value>;

/// One step of a query diff. Steps apply in order: each index refers to the list as the steps
/// before it left it (DiffUtil's `ListUpdateCallback` convention).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum QueryDiffOp {
    /// The row at `index` left the result.
    Removed {
        /// Its position.
        index: u64,
        /// Its id.
        id: String,
    },
    /// A row entered the result at `index`.
    Inserted {
        /// Its position.
        index: u64,
        /// Its id.
        id: String,
        /// Its value as JSON text.
        value_json: String,
    },
    /// The row at `from` moved to `to` (removed, then inserted at `to`).
    Moved {
        /// Where it was.
        from: u64,
        /// Where it is now.
        to: u64,
        /// Its id.
        id: String,
    },
    /// The row at `index` has a new value.
    Updated {
        /// Its position.
        index: u64,
        /// Its id.
        id: String,
        /// Its new value as JSON text.
        value_json: String,
    },
}

impl From<&DiffOp<JsonText>> for QueryDiffOp {
    fn from(op: &DiffOp<JsonText>) -> Self {
        let n = |i: &usize| *i as u64;
        match op {
            DiffOp::Removed { index, id } => QueryDiffOp::Removed {
                index: n(index),
                id: id.clone(),
            },
            DiffOp::Inserted { index, id, value } => QueryDiffOp::Inserted {
                index: n(index),
                id: id.clone(),
                value_json: value.to_string(),
            },
            DiffOp::Moved { from, to, id } => QueryDiffOp::Moved {
                from: n(from),
                to: n(to),
                id: id.clone(),
            },
            DiffOp::Updated { index, id, value } => QueryDiffOp::Updated {
                index: n(index),
                id: id.clone(),
                value_json: value.to_string(),
            },
        }
    }
}

pub(crate) fn records(rows: &[(String, JsonText)]) -> Vec<EntityRecord> {
    rows.iter()
        .map(|(id, value)| EntityRecord {
            id: id.clone(),
            value_json: value.to_string(),
        })
        .collect()
}

/// A live query: the entities of a collection that pass its filter, in its order, within its
/// window. Kept up to date incrementally while the handle lives; reads are tracked inside
/// computed and effect functions (`get` / `ids` wake when the result changes, `count` when
/// the number of matches does).
#[derive(uniffi::Object)]
pub struct Query {
    spec_json: String,
    inner: Closable<CoreQuery>,
    events: Arc<Events>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("spec", &self.spec_json)
            .finish_non_exhaustive()
    }
}

impl Query {
    /// Wraps `inner`, evaluating it now so that a bad spec fails here. Untracked: making a
    /// query inside a computed must not make the computed depend on its count.
    pub(crate) fn new(inner: CoreQuery, events: Arc<Events>) -> Result<Arc<Self>, MizuError> {
        crate::reactive::untrack(|| inner.count())?;
        Ok(Arc::new(Query {
            spec_json: inner.spec().to_json().to_string(),
            inner: Closable::new("query", inner),
            events,
        }))
    }
}

#[uniffi::export]
impl Query {
    /// The query's spec as canonical JSON.
    pub fn spec_json(&self) -> String {
        self.spec_json.clone()
    }

    /// The matching entities in order, within the window. Tracked (result).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn get(&self) -> Result<Vec<EntityRecord>, MizuError> {
        Ok(records(&self.inner.get()?.get_json()?))
    }

    /// The ids of the matching entities in order, within the window. Tracked (result).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn ids(&self) -> Result<Vec<String>, MizuError> {
        Ok(self.inner.get()?.ids()?)
    }

    /// How many entities match, ignoring offset and limit. Tracked (count).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn count(&self) -> Result<u64, MizuError> {
        Ok(self.inner.get()?.count()? as u64)
    }

    /// Calls `listener.on_result` with the whole result now, then `listener.on_diff` after each
    /// transaction that changed it (one per local write, pulled page or rollback). A listener's
    /// error goes to the client's error listeners.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe(
        &self,
        listener: Arc<dyn QueryListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let events = Arc::clone(&self.events);
        let core = self.inner.get()?.subscribe_json(move |event| {
            let outcome = match event {
                QueryEvent::Result(rows) => listener.on_result(records(rows)),
                QueryEvent::Diff(ops) => listener.on_diff(ops.iter().map(Into::into).collect()),
            };
            events.check(outcome);
        })?;
        Ok(self.inner.keep(Subscription::new(core)))
    }

    /// Releases this handle and cancels its subscriptions. Idempotent.
    pub fn close(&self) {
        drop(self.inner.close());
    }
}
