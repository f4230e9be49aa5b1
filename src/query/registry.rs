//! [`Registry`]: the indexes, live queries and change feeds of one store, kept up to date as
//! the store's [`Observer`].
//!
//! Every transaction reaches the registry under the store's lock, in commit order; the
//! registry parses each changed value once, updates the indexes and live queries of its
//! collection, and queues their events. The client then takes the [`Registry::take_dirty`]
//! list and delivers the events with no lock held.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::index::Index;
use super::live::{Change, LiveQuery, Outcome};
use super::outbox::Outbox;
use super::path::FieldPath;
use super::projection::Projection;
use super::spec::QuerySpec;
use crate::protocol::entity::JsonText;
use crate::store::{Delta, Observer, View};

/// What the client attaches to a live query (its reactive triggers).
pub(crate) trait Attachment: Send + Sync + 'static {
    /// Whether nothing reads the query reactively: an idle query that no handle holds is
    /// dropped.
    fn is_idle(&self) -> bool;
}

/// What a collection feed delivers: the entities that changed (with their new values) and
/// the ids removed, in one event per transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionEvent {
    /// Entities created or changed, ascending by id, with their values.
    pub changed: Vec<(String, JsonText)>,
    /// Ids of the entities deleted, ascending.
    pub removed: Vec<String>,
}

/// A collection's change feed.
pub(crate) type Feed = Outbox<CollectionEvent>;

/// The one event that stands for `waiting` then `last`: each entity they touch, as the last of
/// them left it (changed with its value, or removed).
fn merge_changes(waiting: Vec<Arc<CollectionEvent>>, last: CollectionEvent) -> CollectionEvent {
    let mut state: BTreeMap<String, Option<JsonText>> = BTreeMap::new();
    for event in waiting.iter().map(|e| &**e).chain([&last]) {
        for (id, value) in &event.changed {
            state.insert(id.clone(), Some(value.clone()));
        }
        for id in &event.removed {
            state.insert(id.clone(), None);
        }
    }
    let mut merged = CollectionEvent::default();
    for (id, value) in state {
        match value {
            Some(value) => merged.changed.push((id, value)),
            None => merged.removed.push(id),
        }
    }
    merged
}

/// A live query whose result or count changed in a transaction.
pub(crate) struct Dirty<A> {
    pub(crate) query: Arc<LiveQuery<A>>,
    pub(crate) outcome: Outcome,
}

struct Collection<A> {
    indexes: Vec<Index>,
    live: Vec<Arc<LiveQuery<A>>>,
    feed: Option<Arc<Feed>>,
    /// The members the indexes and live queries read; `None` after they changed.
    projection: Option<Projection>,
}

impl<A> Default for Collection<A> {
    fn default() -> Self {
        Collection {
            indexes: Vec::new(),
            live: Vec::new(),
            feed: None,
            projection: None,
        }
    }
}

impl<A> Collection<A> {
    fn projection(&mut self) -> &Projection {
        let (indexes, live) = (&self.indexes, &self.live);
        self.projection.get_or_insert_with(|| {
            Projection::of(
                indexes
                    .iter()
                    .map(Index::path)
                    .chain(live.iter().flat_map(|q| q.spec().paths())),
            )
        })
    }
}

struct Pending<A> {
    queries: Vec<Dirty<A>>,
    feeds: Vec<Arc<Feed>>,
}

/// See the [module docs](self).
pub(crate) struct Registry<A> {
    collections: Mutex<HashMap<String, Collection<A>>>,
    dirty: Mutex<Pending<A>>,
}

impl<A> Default for Registry<A> {
    fn default() -> Self {
        Registry {
            collections: Mutex::new(HashMap::new()),
            dirty: Mutex::new(Pending {
                queries: Vec::new(),
                feeds: Vec::new(),
            }),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<A: Attachment> Registry<A> {
    /// Creates the index of `collection` on `path` unless it exists. Call inside
    /// [`crate::store::Store::read_view`]. Returns whether it was created.
    pub(crate) fn ensure_index(&self, view: &View<'_>, collection: &str, path: FieldPath) -> bool {
        let mut collections = lock(&self.collections);
        let entry = collections.entry(collection.to_owned()).or_default();
        if entry.indexes.iter().any(|i| *i.path() == path) {
            return false;
        }
        let projection = Projection::of([&path]);
        let values = view
            .entries(collection)
            .map(|(id, text)| (id.as_str(), Some(projection.parse(text))));
        entry.indexes.push(Index::build(path, values));
        entry.projection = None;
        true
    }

    /// The number of entries and the bytes of the index of `collection` on `path`.
    pub(crate) fn index_stats(&self, collection: &str, path: &FieldPath) -> Option<(usize, usize)> {
        let collections = lock(&self.collections);
        let index = collections
            .get(collection)?
            .indexes
            .iter()
            .find(|i| i.path() == path)?;
        Some((index.len(), index.memory_bytes()))
    }

    /// The live query of `spec` over `collection`: an existing one with the same spec, or a new
    /// one evaluated now. Call inside [`crate::store::Store::read_view`].
    pub(crate) fn open(
        &self,
        view: &View<'_>,
        collection: &str,
        spec: QuerySpec,
        attachment: impl FnOnce() -> A,
    ) -> Arc<LiveQuery<A>> {
        let mut collections = lock(&self.collections);
        let entry = collections.entry(collection.to_owned()).or_default();
        // Drop the queries nobody holds or reads any more (a query made inside a computed's
        // previous run, say) before adding one.
        let before = entry.live.len();
        entry
            .live
            .retain(|q| Arc::strong_count(q) > 1 || !q.attachment().is_idle());
        if entry.live.len() != before {
            entry.projection = None;
        }
        if let Some(existing) = entry.live.iter().find(|q| *q.spec() == spec) {
            return existing.clone();
        }
        let query = Arc::new(LiveQuery::build(
            view,
            collection,
            spec,
            &entry.indexes,
            attachment(),
        ));
        entry.live.push(query.clone());
        entry.projection = None;
        query
    }

    /// The change feed of `collection`.
    pub(crate) fn feed(&self, collection: &str) -> Arc<Feed> {
        let mut collections = lock(&self.collections);
        let entry = collections.entry(collection.to_owned()).or_default();
        entry.feed.get_or_insert_with(Default::default).clone()
    }

    /// Whether some live query or feed has events or changes to deliver.
    pub(crate) fn has_dirty(&self) -> bool {
        let dirty = lock(&self.dirty);
        !dirty.queries.is_empty() || !dirty.feeds.is_empty()
    }

    /// The live queries and feeds with events or changes since the last call.
    pub(crate) fn take_dirty(&self) -> (Vec<Dirty<A>>, Vec<Arc<Feed>>) {
        let mut dirty = lock(&self.dirty);
        (
            std::mem::take(&mut dirty.queries),
            std::mem::take(&mut dirty.feeds),
        )
    }

    /// How many live queries are kept (for tests of their lifetime).
    #[cfg(test)]
    pub(crate) fn live_count(&self) -> usize {
        lock(&self.collections).values().map(|c| c.live.len()).sum()
    }
}

impl<A: Attachment> Observer for Registry<A> {
    fn on_transaction(&self, view: &View<'_>, delta: &Delta) {
        let mut collections = lock(&self.collections);
        if collections.is_empty() {
            return;
        }
        let keys = &delta.changed.keys;
        let mut start = 0;
        while start < keys.len() {
            let name = &keys[start].collection;
            let end = start
                + keys[start..]
                    .iter()
                    .take_while(|k| k.collection == *name)
                    .count();
            if let Some(collection) = collections.get_mut(name) {
                let changed: Vec<_> = keys[start..end]
                    .iter()
                    .zip(&delta.before[start..end])
                    .map(|(key, before)| (key.id.as_str(), before.as_ref()))
                    .collect();
                self.apply(view, collection, name, &changed);
            }
            start = end;
        }
        for name in &delta.changed.arrived {
            if let Some(collection) = collections.get_mut(name) {
                // Nothing of it was visible before: every entity it shows now is new.
                let changed: Vec<_> = view
                    .entries(name)
                    .map(|(id, _)| (id.as_str(), None))
                    .collect();
                self.apply(view, collection, name, &changed);
            }
        }
    }
}

impl<A: Attachment> Registry<A> {
    /// Updates `collection`'s feed, indexes and live queries with the entities that changed in
    /// one transaction: each id with its visible value before it (the value after is the view's).
    fn apply<'x>(
        &self,
        view: &'x View<'_>,
        collection: &mut Collection<A>,
        name: &str,
        changed: &[(&'x str, Option<&'x JsonText>)],
    ) {
        if let Some(feed) = collection.feed.as_ref().filter(|f| f.has_listeners()) {
            let mut event = CollectionEvent::default();
            for &(id, _) in changed {
                match view.get(name, id) {
                    Some(value) => event.changed.push((id.to_owned(), value.clone())),
                    None => event.removed.push(id.to_owned()),
                }
            }
            feed.push(event, merge_changes);
            lock(&self.dirty).feeds.push(feed.clone());
        }
        if collection.indexes.is_empty() && collection.live.is_empty() {
            return;
        }
        let projection = collection.projection();
        let changes: Vec<Change<'_>> = changed
            .iter()
            .map(|&(id, before)| {
                let after_text = view.get(name, id);
                Change {
                    id,
                    before: before.map(|t| projection.parse(t)),
                    after: after_text.map(|t| projection.parse(t)),
                    after_text,
                }
            })
            .collect();
        for index in &mut collection.indexes {
            for change in &changes {
                index.apply(change.id, change.before.as_ref(), change.after.as_ref());
            }
        }
        let mut dirty = Vec::new();
        for query in &collection.live {
            let outcome = query.apply(view, &changes);
            if outcome != Outcome::default() {
                dirty.push(Dirty {
                    query: query.clone(),
                    outcome,
                });
            }
        }
        if !dirty.is_empty() {
            lock(&self.dirty).queries.extend(dirty);
        }
    }
}
