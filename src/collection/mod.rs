//! Typed, reactive views of synchronized data: [`Collection<T>`] and [`Entity<T>`].
//!
//! Reads are tracked: inside a [`crate::reactive::Computed`] or [`crate::reactive::Effect`] they
//! subscribe to exactly what they read. [`Entity::get`] wakes only when that entity's visible
//! value changes, [`Collection::count`] and [`Collection::all`] when the set of ids changes,
//! [`Collection::find`] and [`Collection::entries`] when anything in the collection changes.
//!
//! Writes are optimistic and durable: the new value is visible and the mutation is queued (in
//! one SQLite transaction when the client has a storage path) before the call returns; the
//! engine pushes it in the background.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::{Client, ClientCore, Encoded, Error, Reason, SyncState, WriteIntent};
use crate::protocol::entity::{EntityKey, JsonText};
use crate::query::{CollectionEvent, FieldPath, QuerySpec};

mod query;

pub use query::{Query, Subscription};

/// What changed in a collection in one transaction (see [`Collection::subscribe`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionChanges<T> {
    /// Entities created or changed, ascending by id, with their new values.
    pub changed: Vec<(String, T)>,
    /// Ids of the entities deleted, ascending.
    pub removed: Vec<String>,
}

/// A named set of entities of type `T`, synchronized with the server.
///
/// Cloning is cheap (a handle). Ids are strings; [`all`](Self::all), [`find`](Self::find) and
/// [`entries`](Self::entries) return entities in ascending byte order of their ids.
///
/// ```no_run
/// # use mizu_sync::{Client, Collection, Options};
/// #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
/// struct Todo { title: String, completed: bool }
///
/// # fn main() -> Result<(), mizu_sync::Error> {
/// let client = Client::new(Options::new("http://127.0.0.1:8080/_sync"))?;
/// let todos: Collection<Todo> = client.collection("todo");
/// let todo = todos.create("todo-1", Todo { title: "Learn sync".into(), completed: false })?;
/// todo.set(Todo { title: "Learn sync".into(), completed: true })?;
/// assert_eq!(todos.count(), 1);
/// # Ok(()) }
/// ```
pub struct Collection<T> {
    shared: Arc<ClientCore>,
    name: Arc<str>,
    _type: PhantomData<fn() -> T>,
}

/// One entity of a [`Collection<T>`], by id. It may or may not exist at any moment.
pub struct Entity<T> {
    shared: Arc<ClientCore>,
    key: Arc<EntityKey>,
    _type: PhantomData<fn() -> T>,
}

// `Client::collection` lives here, not in `client`, so that `client` never depends on
// `collection` (collections are built on the client, not the other way round).
impl Client {
    /// The collection named `name`, with values of type `T`.
    pub fn collection<T: Serialize + DeserializeOwned>(&self, name: &str) -> Collection<T> {
        Collection::new(self, name)
    }
}

impl<T> Clone for Collection<T> {
    fn clone(&self) -> Self {
        Collection {
            shared: self.shared.clone(),
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> Clone for Entity<T> {
    fn clone(&self) -> Self {
        Entity {
            shared: self.shared.clone(),
            key: self.key.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collection")
            .field("name", &self.name)
            .finish()
    }
}

impl<T> fmt::Debug for Entity<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entity")
            .field("collection", &self.key.collection)
            .field("id", &self.key.id)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Collection<T> {
    /// The collection named `name` of `client` (the same as [`Client::collection`]).
    pub fn new(client: &Client, name: impl Into<String>) -> Self {
        Collection {
            shared: client.shared().clone(),
            name: name.into().into(),
            _type: PhantomData,
        }
    }

    /// The collection's name, as used in mutation names (`<name>.create`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Creates the entity `id` with `value`, optimistically and durably, and queues
    /// `<name>.create`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty id or collection name, when `id` already
    /// exists (use [`Entity::set`]), or when the codec cannot express the write (the default
    /// codec refuses a value that serializes to JSON `null`, as `None` and NaN do);
    /// [`Error::Serialization`] when `value` does not serialize;
    /// [`Error::Storage`] when the store cannot record the write; [`Error::Closed`] after
    /// [`Client::close`].
    pub fn create(&self, id: impl Into<String>, value: T) -> Result<Entity<T>, Error> {
        // A closed client says so, whatever else is wrong with the call.
        self.shared.check_open()?;
        let entity = self.get(id);
        entity.write(WriteIntent::Create(encode(&value)?))?;
        Ok(entity)
    }

    /// [`create`](Self::create) committed off the caller's thread: queued by this call (in
    /// call order with the other awaited writes), resolved once durable. Dropping the future
    /// stops the wait, not the write. The readers it wakes run where the client's deliveries
    /// go.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_async(
        &self,
        id: impl Into<String>,
        value: T,
    ) -> impl std::future::Future<Output = Result<Entity<T>, Error>> + Send + 'static
    where
        T: Send + 'static,
    {
        let entity = self.get(id);
        let written = encode(&value).map(|v| entity.write_async(WriteIntent::Create(v)));
        async move {
            written?.await?;
            Ok(entity)
        }
    }

    /// A handle to the entity `id`, whether or not it exists (it may be created later, locally
    /// or by a pull). Not a read: tracks nothing.
    pub fn get(&self, id: impl Into<String>) -> Entity<T> {
        Entity {
            shared: self.shared.clone(),
            key: Arc::new(EntityKey {
                collection: self.name.to_string(),
                id: id.into(),
            }),
            _type: PhantomData,
        }
    }

    /// Handles to every entity that exists now, ordered by id. Tracked: wakes when the set of
    /// ids changes (read each entity's value with [`Entity::get`] to track it too).
    pub fn all(&self) -> Vec<Entity<T>> {
        self.shared.triggers.track_members(&self.name);
        self.shared
            .store
            .ids(&self.name)
            .into_iter()
            .map(|id| self.get(id))
            .collect()
    }

    /// Every entity's id and value, ordered by id, in one call. Tracked: wakes on any change
    /// in the collection. Values that do not decode as `T` are left out and reported through
    /// `on_error` ([`Error::Serialization`]).
    pub fn entries(&self) -> Vec<(String, T)> {
        self.shared.triggers.track_contents(&self.name);
        let rows = self.shared.store.all(&self.name);
        rows.into_iter()
            .filter_map(|(id, text)| match decode::<T>(&self.name, &id, &text) {
                Ok(value) => Some((id, value)),
                Err(e) => {
                    self.shared.report(e);
                    None
                }
            })
            .collect()
    }

    /// How many entities exist now. Tracked: wakes when the set of ids changes.
    pub fn count(&self) -> usize {
        self.shared.triggers.track_members(&self.name);
        self.shared.store.count(&self.name)
    }

    /// The entities whose value satisfies `predicate`, ordered by id. Tracked: wakes on any
    /// change in the collection. Undecodable values are skipped and reported, as in
    /// [`entries`](Self::entries).
    ///
    /// This decodes every value on each call; for a list that follows its data, use a
    /// [`query`](Self::query), which is maintained incrementally and wakes only when its result
    /// changes.
    pub fn find(&self, predicate: impl Fn(&T) -> bool) -> Vec<Entity<T>> {
        self.entries()
            .into_iter()
            .filter(|(_, value)| predicate(value))
            .map(|(id, _)| self.get(id))
            .collect()
    }

    /// A query over this collection, to narrow with [`Query::filter`], sort with
    /// [`Query::order_by`] and window with [`Query::offset`] and [`Query::limit`]. See
    /// [`crate::query`].
    pub fn query(&self) -> Query<T> {
        Query::new(self.shared.clone(), self.name.clone(), QuerySpec::default())
    }

    /// A query made from a spec value (for example one parsed with [`QuerySpec::from_json`]).
    pub fn query_spec(&self, spec: QuerySpec) -> Query<T> {
        Query::new(self.shared.clone(), self.name.clone(), spec)
    }

    /// Keeps an ordered index of this collection on the field at `path`, maintained on every
    /// write, pull, snapshot and rollback, and used by queries whose equality filter or first
    /// sort key it covers. Idempotent; lives as long as the client.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for an invalid path; [`Error::Closed`].
    pub fn ensure_index(&self, path: &str) -> Result<(), Error> {
        self.shared.check_open()?;
        let path = FieldPath::parse(path)?;
        self.shared.store.read_view(|view| {
            self.shared.queries.ensure_index(view, &self.name, path);
        });
        Ok(())
    }

    /// The number of entries and bytes of the index on `path`, if there is one (for
    /// measurements).
    #[doc(hidden)]
    pub fn index_stats(&self, path: &str) -> Option<(usize, usize)> {
        let path = FieldPath::parse(path).ok()?;
        self.shared.queries.index_stats(&self.name, &path)
    }

    /// Calls `listener` with every entity now (as changed), then, after each transaction that
    /// changed the collection, with exactly the entities that changed and the ids removed: the
    /// cost is that of the change, never of the collection. Values that do not decode as `T`
    /// are left out and reported through `on_error`.
    ///
    /// # Threading
    /// As [`Query::subscribe`].
    ///
    /// # Errors
    /// [`Error::Closed`].
    pub fn subscribe(
        &self,
        listener: impl Fn(CollectionChanges<T>) + Send + Sync + 'static,
    ) -> Result<Subscription, Error> {
        let shared = self.shared.clone();
        let name = self.name.clone();
        self.subscribe_json(move |event| {
            let changed = event
                .changed
                .iter()
                .filter_map(|(id, text)| match decode::<T>(&name, id, text) {
                    Ok(value) => Some((id.clone(), value)),
                    Err(e) => {
                        shared.report(e);
                        None
                    }
                })
                .collect();
            listener(CollectionChanges {
                changed,
                removed: event.removed.clone(),
            });
        })
    }

    /// Like [`subscribe`](Self::subscribe), with values as JSON text.
    ///
    /// # Errors
    /// [`Error::Closed`].
    pub fn subscribe_json(
        &self,
        listener: impl Fn(&CollectionEvent) + Send + Sync + 'static,
    ) -> Result<Subscription, Error> {
        self.shared.check_open()?;
        let feed = self.shared.queries.feed(&self.name);
        let id = self.shared.store.read_view(|view| {
            let everything = CollectionEvent {
                changed: view
                    .entries(&self.name)
                    .map(|(id, value)| (id.clone(), value.clone()))
                    .collect(),
                removed: Vec::new(),
            };
            feed.add(everything, Arc::new(listener))
        });
        feed.deliver();
        Ok(Subscription::new(move || drop(feed.remove(id))))
    }

    /// Whether the entity `id` exists now. Tracked: wakes when that entity appears or goes.
    pub fn has(&self, id: &str) -> bool {
        let key = EntityKey {
            collection: self.name.to_string(),
            id: id.to_owned(),
        };
        self.shared.triggers.track_key(&key);
        self.shared.store.has(&key)
    }
}

impl<T: Serialize + DeserializeOwned> Entity<T> {
    /// The entity's id.
    pub fn id(&self) -> &str {
        &self.key.id
    }

    /// The name of the entity's collection.
    pub fn collection(&self) -> &str {
        &self.key.collection
    }

    /// The current visible value (synced base with pending local writes on top), or `None`
    /// when the entity does not exist. Tracked. A stored value that does not decode as `T` reads
    /// as `None` and is reported through `on_error`; use [`try_get`](Self::try_get) to see the
    /// error instead.
    pub fn get(&self) -> Option<T> {
        match self.try_get() {
            Ok(value) => value,
            Err(e) => {
                self.shared.report(e);
                None
            }
        }
    }

    /// Like [`get`](Self::get), but returns a decoding failure as an error.
    ///
    /// # Errors
    /// [`Error::Serialization`] when the stored value does not decode as `T`.
    pub fn try_get(&self) -> Result<Option<T>, Error> {
        self.shared.triggers.track_key(&self.key);
        match self.shared.store.get(&self.key) {
            None => Ok(None),
            Some(text) => decode(&self.key.collection, &self.key.id, &text).map(Some),
        }
    }

    /// Where this entity stands with the server: [`SyncState::Synced`], `Pending` (local
    /// writes of it wait for the server) or `Rejected` (its last local write was rejected and
    /// rolled back). Tracked: an effect or computed reading it re-runs when the queue changes.
    pub fn sync_state(&self) -> SyncState {
        self.shared.sync_state(&self.key)
    }

    /// Whether the entity exists now. Tracked.
    pub fn exists(&self) -> bool {
        self.shared.triggers.track_key(&self.key);
        self.shared.store.has(&self.key)
    }

    /// Replaces the entity's value, optimistically and durably, and queues `<name>.update`
    /// (or `<name>.create` when the entity does not exist yet).
    ///
    /// # Errors
    /// As [`Collection::create`], except that an existing id is what this expects.
    pub fn set(&self, value: T) -> Result<(), Error> {
        self.write(WriteIntent::Set(encode(&value)?))
    }

    /// Deletes the entity, optimistically and durably, and queues `<name>.delete`. Deleting an
    /// entity that does not exist locally does nothing.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot record the write; [`Error::Closed`] after
    /// [`Client::close`].
    pub fn delete(&self) -> Result<(), Error> {
        self.write(WriteIntent::Delete)
    }

    /// [`set`](Self::set) committed off the caller's thread (see
    /// [`Collection::create_async`]).
    ///
    /// # Errors
    /// As [`set`](Self::set).
    pub fn set_async(
        &self,
        value: T,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        let written = encode(&value).map(|v| self.write_async(WriteIntent::Set(v)));
        async move { written?.await }
    }

    /// [`delete`](Self::delete) committed off the caller's thread (see
    /// [`Collection::create_async`]).
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub fn delete_async(
        &self,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        self.write_async(WriteIntent::Delete)
    }

    fn write(&self, intent: WriteIntent) -> Result<(), Error> {
        self.check_key()?;
        self.shared.write(&self.key, intent)
    }

    fn write_async(
        &self,
        intent: WriteIntent,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        let queued = self
            .check_key()
            .and_then(|()| self.shared.check_open())
            .map(|()| self.shared.write_async(self.key.clone(), intent));
        async move { queued?.await }
    }

    fn check_key(&self) -> Result<(), Error> {
        if self.key.id.is_empty() || self.key.collection.is_empty() {
            return Err(Error::InvalidArgument(
                "collection name and entity id must not be empty".into(),
            ));
        }
        Ok(())
    }
}

/// Text-level access for the foreign-language bindings' direct calls (`crate::ffi::hot`): the
/// values cross as canonical JSON text already, so nothing is decoded or encoded again.
impl<T: Serialize + DeserializeOwned> Collection<T> {
    /// The stored JSON text of the entity `id`, or `None` when it does not exist. Tracked like
    /// [`Entity::get`].
    pub(crate) fn read_text(&self, id: &str) -> Option<JsonText> {
        let key = EntityKey::new(self.name.as_ref(), id);
        self.shared.triggers.track_key(&key);
        self.shared.store.get(&key)
    }

    /// Writes `value` (canonical JSON text, and the tree it was printed from) to the entity
    /// `id`: a create (refused when the entity exists) when `create`, otherwise a set.
    ///
    /// # Errors
    /// As [`Collection::create`] and [`Entity::set`].
    pub(crate) fn write_text(&self, id: &str, text: Encoded, create: bool) -> Result<(), Error> {
        self.shared.check_open()?;
        let entity: Entity<T> = self.get(id);
        entity.write(if create {
            WriteIntent::Create(text)
        } else {
            WriteIntent::Set(text)
        })
    }
}

/// Encodes through `serde_json::Value`, whose maps sort their keys: the same canonical text the
/// codec produces for server data, so an echo of our own write compares equal and wakes nobody.
fn encode<T: Serialize>(value: &T) -> Result<Encoded, Error> {
    serde_json::to_value(value)
        .map(Encoded::from_tree)
        .map_err(|e| {
            Error::Serialization(Reason::caused_by(
                format!("value does not serialize to JSON: {e}"),
                e,
            ))
        })
}

pub(crate) fn decode<T: DeserializeOwned>(
    collection: &str,
    id: &str,
    text: &str,
) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        let text = format!("{collection}/{id} does not decode as the collection's type: {e}");
        Error::Serialization(Reason::caused_by(text, e))
    })
}
