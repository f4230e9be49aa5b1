//! [`Query<T>`]: a typed live query over a [`Collection<T>`](crate::Collection), and
//! [`Subscription`], the handle of a query or collection listener.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use super::decode;
use crate::client::query_signals::QuerySignals;
use crate::client::{ClientCore, Error};
use crate::protocol::entity::JsonText;
use crate::query::{DiffOp, FieldPath, Filter, LiveQuery, Order, OrderKey, QueryEvent, QuerySpec};

/// A query over a collection: which entities ([`filter`](Self::filter)), in what order
/// ([`order_by`](Self::order_by)), which part ([`offset`](Self::offset),
/// [`limit`](Self::limit)). Made by [`Collection::query`](crate::Collection::query).
///
/// The first read or subscription evaluates it once; from then on it is kept up to date
/// incrementally for as long as this value (or a clone, or a subscription) lives, and
/// queries with the same spec on the same collection share that work. Reads are tracked:
/// inside a [`Computed`](crate::reactive::Computed) or [`Effect`](crate::reactive::Effect),
/// [`get`](Self::get) and [`ids`](Self::ids) wake only when the result changes,
/// [`count`](Self::count) only when the number of matching entities does.
pub struct Query<T> {
    shared: Arc<ClientCore>,
    collection: Arc<str>,
    spec: QuerySpec,
    live: OnceLock<Arc<LiveQuery<QuerySignals>>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Query<T> {
    fn clone(&self) -> Self {
        Query {
            shared: self.shared.clone(),
            collection: self.collection.clone(),
            spec: self.spec.clone(),
            live: self.live.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Query<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("collection", &self.collection)
            .field("spec", &self.spec)
            .finish()
    }
}

/// Stops a listener when cancelled or dropped.
#[must_use = "dropping a Subscription stops its listener"]
pub struct Subscription {
    cancel: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    pub(crate) fn new(cancel: impl FnOnce() + Send + Sync + 'static) -> Self {
        Subscription {
            cancel: Some(Box::new(cancel)),
        }
    }

    /// Stops the listener: it is not called again once this returns, except by a delivery
    /// already under way on another thread.
    pub fn cancel(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("active", &self.cancel.is_some())
            .finish()
    }
}

impl<T: DeserializeOwned> Query<T> {
    pub(crate) fn new(shared: Arc<ClientCore>, collection: Arc<str>, spec: QuerySpec) -> Self {
        Query {
            shared,
            collection,
            spec,
            live: OnceLock::new(),
            _type: PhantomData,
        }
    }

    fn with_spec(mut self, change: impl FnOnce(&mut QuerySpec)) -> Self {
        change(&mut self.spec);
        self.live = OnceLock::new();
        self
    }

    /// Keeps only the entities that pass `filter` (and every filter given before).
    pub fn filter(self, filter: Filter) -> Self {
        self.with_spec(|spec| {
            spec.filter = Some(match spec.filter.take() {
                Some(before) => before.and(filter),
                None => filter,
            })
        })
    }

    /// Sorts by the field at `path` (dots for nested fields), after any earlier sort keys; ties
    /// are always broken by id, ascending.
    pub fn order_by(self, path: impl Into<FieldPath>, order: Order) -> Self {
        self.with_spec(|spec| {
            spec.order.push(OrderKey {
                path: path.into(),
                order,
            })
        })
    }

    /// Returns at most `n` entities.
    pub fn limit(self, n: usize) -> Self {
        self.with_spec(|spec| spec.limit = Some(n))
    }

    /// Skips the first `n` matching entities.
    pub fn offset(self, n: usize) -> Self {
        self.with_spec(|spec| spec.offset = n)
    }

    /// The query as a value (its JSON form is [`QuerySpec::to_json`]).
    pub fn spec(&self) -> &QuerySpec {
        &self.spec
    }

    /// The live query behind this one, evaluated on first use.
    pub(crate) fn live(&self) -> Result<&Arc<LiveQuery<QuerySignals>>, Error> {
        self.shared.check_open()?;
        if let Some(live) = self.live.get() {
            return Ok(live);
        }
        self.spec.validate()?;
        let live = self.shared.store.read_view(|view| {
            self.shared
                .queries
                .open(view, &self.collection, self.spec.clone(), QuerySignals::new)
        });
        Ok(self.live.get_or_init(|| live))
    }

    /// The matching entities in order, within the window, as `(id, value)`. Tracked: wakes when
    /// the result changes.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for an invalid path; [`Error::Serialization`] when a value does
    /// not decode as `T`; [`Error::Closed`].
    pub fn get(&self) -> Result<Vec<(String, T)>, Error> {
        self.get_json()?
            .into_iter()
            .map(|(id, text)| {
                let value = decode(&self.collection, &id, &text)?;
                Ok((id, value))
            })
            .collect()
    }

    /// Like [`get`](Self::get), with the values as JSON text (canonical).
    ///
    /// # Errors
    /// As [`get`](Self::get), without decoding.
    pub fn get_json(&self) -> Result<Vec<(String, JsonText)>, Error> {
        let live = self.live()?;
        live.attachment().result.get();
        Ok(self.shared.store.read_view(|view| live.rows(view)))
    }

    /// The ids of the matching entities in order, within the window. Tracked like
    /// [`get`](Self::get).
    ///
    /// # Errors
    /// [`Error::InvalidQuery`]; [`Error::Closed`].
    pub fn ids(&self) -> Result<Vec<String>, Error> {
        let live = self.live()?;
        live.attachment().result.get();
        Ok(live.ids())
    }

    /// How many entities match, ignoring offset and limit. Tracked: wakes when that number
    /// changes.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`]; [`Error::Closed`].
    pub fn count(&self) -> Result<usize, Error> {
        let live = self.live()?;
        live.attachment().count.get();
        Ok(live.count())
    }

    /// Calls `listener` with the whole result, then with a keyed diff after each transaction
    /// that changed it (one per local write, pulled page or rollback). Diffs are applied in
    /// order (see [`DiffOp`]; [`crate::query::apply_diff`] applies them). A value that does not
    /// decode as `T` arrives as [`Error::Serialization`] instead of its event.
    ///
    /// # Threading
    /// Events come in commit order, on the thread of the transaction that made them, or on a
    /// thread already delivering this query's events; never under a library lock.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`]; [`Error::Closed`].
    pub fn subscribe(
        &self,
        listener: impl Fn(Result<QueryEvent<T>, Error>) + Send + Sync + 'static,
    ) -> Result<Subscription, Error> {
        let collection = self.collection.clone();
        self.subscribe_json(move |event: &QueryEvent<JsonText>| {
            listener(typed(&collection, event));
        })
    }

    /// Like [`subscribe`](Self::subscribe), with values as JSON text.
    ///
    /// # Errors
    /// As [`subscribe`](Self::subscribe).
    pub fn subscribe_json(
        &self,
        listener: impl Fn(&QueryEvent<JsonText>) + Send + Sync + 'static,
    ) -> Result<Subscription, Error> {
        let live = self.live()?.clone();
        let id = self
            .shared
            .store
            .read_view(|view| live.subscribe(view, Arc::new(listener)));
        live.deliver();
        Ok(Subscription::new(move || live.unsubscribe(id)))
    }
}

/// `event` with its values decoded as `T`.
fn typed<T: DeserializeOwned>(
    collection: &str,
    event: &QueryEvent<JsonText>,
) -> Result<QueryEvent<T>, Error> {
    Ok(match event {
        QueryEvent::Result(rows) => QueryEvent::Result(
            rows.iter()
                .map(|(id, text)| Ok((id.clone(), decode(collection, id, text)?)))
                .collect::<Result<_, Error>>()?,
        ),
        QueryEvent::Diff(ops) => QueryEvent::Diff(
            ops.iter()
                .map(|op| {
                    let id = op.id().to_owned();
                    op.clone()
                        .try_map(|text: JsonText| decode(collection, &id, &text))
                })
                .collect::<Result<Vec<DiffOp<T>>, Error>>()?,
        ),
    })
}
