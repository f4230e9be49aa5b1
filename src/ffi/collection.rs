//! [`Collection`] and [`Entity`]: synchronized data with values as JSON text.

use std::sync::Arc;

use serde_json::Value;

use crate::ffi::closable::Closable;
use crate::ffi::error::MizuError;
use crate::ffi::events::Events;
use crate::ffi::listener::{CollectionListener, EntityListener};
use crate::ffi::query::{self, Query};
use crate::ffi::record::{CollectionChange, EntityRecord, EntitySyncState};
use crate::ffi::subscription::{watch, Subscription};
use crate::query::QuerySpec;

type CoreCollection = crate::Collection<Value>;
type CoreEntity = crate::Entity<Value>;

/// A named set of entities of one client, synchronized with the server. Values are JSON text;
/// ids are strings; bulk reads return entities in ascending order of id.
///
/// Reads are tracked inside computed and effect functions: `count`, `ids` and `has` wake on
/// membership changes, `entries` on any change, `value` on that entity's changes.
#[derive(uniffi::Object)]
pub struct Collection {
    name: String,
    inner: Closable<CoreCollection>,
    events: Arc<Events>,
}

/// One entity of a [`Collection`], by id. It may or may not exist at any moment.
#[derive(uniffi::Object)]
pub struct Entity {
    id: String,
    collection: String,
    inner: Closable<CoreEntity>,
    events: Arc<Events>,
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entity")
            .field("collection", &self.collection)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn parse(value_json: &str) -> Result<Value, MizuError> {
    Ok(serde_json::from_str(value_json)?)
}

fn records(entries: Vec<(String, Value)>) -> Vec<EntityRecord> {
    entries
        .into_iter()
        .map(|(id, value)| EntityRecord {
            id,
            value_json: value.to_string(),
        })
        .collect()
}

impl Collection {
    pub(crate) fn new(inner: CoreCollection, events: Arc<Events>) -> Arc<Self> {
        Arc::new(Collection {
            name: inner.name().to_owned(),
            inner: Closable::new("collection", inner),
            events,
        })
    }

    /// The core collection, for the bindings' direct calls (`src/ffi/hot`).
    pub(crate) fn core(&self) -> Result<CoreCollection, MizuError> {
        self.inner.get()
    }

    fn entity(&self, id: String) -> Result<Arc<Entity>, MizuError> {
        let core = self.inner.get()?.get(id.clone());
        Ok(Arc::new(Entity {
            id,
            collection: self.name.clone(),
            inner: Closable::new("entity", core),
            events: Arc::clone(&self.events),
        }))
    }
}

#[uniffi::export]
impl Collection {
    /// The collection's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Creates the entity `id` with `value_json`, optimistically and durably, and queues its
    /// `<name>.create` mutation.
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] for an empty id or an id that exists;
    /// [`MizuError::InvalidJson`]; [`MizuError::Storage`]; [`MizuError::Closed`].
    pub fn create(&self, id: String, value_json: String) -> Result<Arc<Entity>, MizuError> {
        let value = parse(&value_json)?;
        self.inner.get()?.create(id.clone(), value)?;
        self.entity(id)
    }

    /// [`create`](Self::create) committed off the caller's thread: queued by the call (in call
    /// order with the client's other awaited writes), resolved once durable. Cancelling the wait
    /// does not undo the write. The listeners it wakes run where the client's deliveries go.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub async fn create_async(
        &self,
        id: String,
        value_json: String,
    ) -> Result<Arc<Entity>, MizuError> {
        let value = parse(&value_json)?;
        self.inner.get()?.create_async(id.clone(), value).await?;
        self.entity(id)
    }

    /// [`set`](Self::set) committed off the caller's thread (see
    /// [`create_async`](Self::create_async)).
    ///
    /// # Errors
    /// As [`set`](Self::set).
    pub async fn set_async(&self, id: String, value_json: String) -> Result<(), MizuError> {
        let value = parse(&value_json)?;
        Ok(self.inner.get()?.get(id).set_async(value).await?)
    }

    /// [`delete`](Self::delete) committed off the caller's thread (see
    /// [`create_async`](Self::create_async)).
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub async fn delete_async(&self, id: String) -> Result<(), MizuError> {
        Ok(self.inner.get()?.get(id).delete_async().await?)
    }

    /// Where the entity `id` stands with the server (one crossing instead of
    /// `get(id).sync_state()`). Tracked.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn sync_state(&self, id: String) -> Result<EntitySyncState, MizuError> {
        Ok(self.inner.get()?.get(id).sync_state().into())
    }

    /// A handle to the entity `id`, whether or not it exists. Not a read.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn get(&self, id: String) -> Result<Arc<Entity>, MizuError> {
        self.entity(id)
    }

    /// The value of the entity `id` as JSON text, or `None` when it does not exist (one
    /// crossing instead of `get(id).get()`). Tracked.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`] when the stored value is not JSON; [`MizuError::Closed`].
    pub fn value(&self, id: String) -> Result<Option<String>, MizuError> {
        let value = self.inner.get()?.get(id).try_get()?;
        Ok(value.map(|v| v.to_string()))
    }

    /// Sets the value of the entity `id`, creating it when missing.
    ///
    /// # Errors
    /// As [`create`](Self::create), except that an existing id is fine.
    pub fn set(&self, id: String, value_json: String) -> Result<(), MizuError> {
        let value = parse(&value_json)?;
        Ok(self.inner.get()?.get(id).set(value)?)
    }

    /// Replaces the value of the existing entity `id`.
    ///
    /// # Errors
    /// [`MizuError::NotFound`] when it does not exist; otherwise as [`set`](Self::set).
    pub fn update(&self, id: String, value_json: String) -> Result<(), MizuError> {
        let value = parse(&value_json)?;
        let core = self.inner.get()?;
        if !core.has(&id) {
            return Err(MizuError::NotFound {
                what: format!("{}/{id}", self.name),
            });
        }
        Ok(core.get(id).set(value)?)
    }

    /// Deletes the entity `id` (nothing happens when it does not exist).
    ///
    /// # Errors
    /// [`MizuError::Storage`]; [`MizuError::Closed`].
    pub fn delete(&self, id: String) -> Result<(), MizuError> {
        Ok(self.inner.get()?.get(id).delete()?)
    }

    /// Every entity's id and value, ordered by id, in one call. Tracked (any change).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn entries(&self) -> Result<Vec<EntityRecord>, MizuError> {
        Ok(records(self.inner.get()?.entries()))
    }

    /// The ids of the entities that exist, ordered. Tracked (membership).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn ids(&self) -> Result<Vec<String>, MizuError> {
        let all = self.inner.get()?.all();
        Ok(all.iter().map(|e| e.id().to_owned()).collect())
    }

    /// How many entities exist. Tracked (membership).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn count(&self) -> Result<u64, MizuError> {
        Ok(self.inner.get()?.count() as u64)
    }

    /// Whether the entity `id` exists. Tracked (that entity's existence).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn has(&self, id: String) -> Result<bool, MizuError> {
        Ok(self.inner.get()?.has(&id))
    }

    /// Calls `listener` with every entity now (as changed), then after each change with exactly
    /// the entities that changed and the ids removed: the cost of a call is that of the
    /// change, never of the collection. A listener's error goes to the client's error
    /// listeners.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe(
        &self,
        listener: Arc<dyn CollectionListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let events = Arc::clone(&self.events);
        let core = self.inner.get()?.subscribe_json(move |event| {
            events.check(listener.on_change(CollectionChange {
                changed: query::records(&event.changed),
                removed: event.removed.clone(),
            }));
        })?;
        Ok(self.inner.keep(Subscription::new(core)))
    }

    /// A live query over this collection from its JSON spec, e.g.
    /// `{"filter": {"field": "completed", "op": "eq", "value": false},
    ///   "order_by": [{"field": "due", "order": "desc"}], "limit": 50}`
    /// (see the crate's `query` module for the whole form). Evaluated now.
    ///
    /// # Errors
    /// [`MizuError::InvalidQuery`] for a spec that is not JSON or not a valid query (an unknown
    /// operator or key, an empty or malformed path, a negative limit); [`MizuError::Closed`].
    pub fn query(&self, spec_json: String) -> Result<Arc<Query>, MizuError> {
        let spec = QuerySpec::from_json(&spec_json).map_err(crate::Error::from)?;
        Query::new(self.inner.get()?.query_spec(spec), Arc::clone(&self.events))
    }

    /// Keeps an ordered index of this collection on the field at `path` (dots for nested
    /// fields), used by queries whose equality filter or first sort key it covers. Idempotent.
    ///
    /// # Errors
    /// [`MizuError::InvalidQuery`] for an empty or malformed path; [`MizuError::Closed`].
    pub fn ensure_index(&self, path: String) -> Result<(), MizuError> {
        Ok(self.inner.get()?.ensure_index(&path)?)
    }

    /// Releases this handle and cancels its subscriptions. Idempotent.
    pub fn close(&self) {
        drop(self.inner.close());
    }
}

#[uniffi::export]
impl Entity {
    /// The entity's id.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// The name of the entity's collection.
    pub fn collection(&self) -> String {
        self.collection.clone()
    }

    /// The visible value (synced base with pending local writes on top) as JSON text, or `None`
    /// when the entity does not exist. Tracked.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`] when the stored value is not JSON; [`MizuError::Closed`].
    pub fn get(&self) -> Result<Option<String>, MizuError> {
        Ok(self.inner.get()?.try_get()?.map(|v| v.to_string()))
    }

    /// Where the entity stands with the server. Tracked: wakes when the queue changes.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn sync_state(&self) -> Result<EntitySyncState, MizuError> {
        Ok(self.inner.get()?.sync_state().into())
    }

    /// Whether the entity exists. Tracked.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn exists(&self) -> Result<bool, MizuError> {
        Ok(self.inner.get()?.exists())
    }

    /// Replaces the value (creating the entity when missing), optimistically and durably.
    ///
    /// # Errors
    /// [`MizuError::InvalidJson`]; [`MizuError::Storage`]; [`MizuError::Closed`].
    pub fn set(&self, value_json: String) -> Result<(), MizuError> {
        let value = parse(&value_json)?;
        Ok(self.inner.get()?.set(value)?)
    }

    /// Deletes the entity (nothing happens when it does not exist).
    ///
    /// # Errors
    /// [`MizuError::Storage`]; [`MizuError::Closed`].
    pub fn delete(&self) -> Result<(), MizuError> {
        Ok(self.inner.get()?.delete()?)
    }

    /// [`set`](Self::set) committed off the caller's thread (see
    /// [`Collection::create_async`]).
    ///
    /// # Errors
    /// As [`set`](Self::set).
    pub async fn set_async(&self, value_json: String) -> Result<(), MizuError> {
        let value = parse(&value_json)?;
        Ok(self.inner.get()?.set_async(value).await?)
    }

    /// [`delete`](Self::delete) committed off the caller's thread (see
    /// [`Collection::create_async`]).
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub async fn delete_async(&self) -> Result<(), MizuError> {
        Ok(self.inner.get()?.delete_async().await?)
    }

    /// Calls `listener` with the value now, then after each change (`None` when deleted). A
    /// listener's error goes to the client's error listeners.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe(
        &self,
        listener: Arc<dyn EntityListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let core = self.inner.get()?;
        let events = Arc::clone(&self.events);
        Ok(self.inner.keep(watch(
            move || Ok(core.try_get()?.map(|v| v.to_string())),
            move |value| listener.on_change(value),
            move |e| events.report(e),
        )))
    }

    /// Releases this handle and cancels its subscriptions. Idempotent.
    pub fn close(&self) {
        drop(self.inner.close());
    }
}
