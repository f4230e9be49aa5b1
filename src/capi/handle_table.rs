//! The registry of live handles.
//!
//! A handle given to C is not a pointer to anything: it is a number, unique for the life of the
//! process, dressed as an opaque pointer so that C's type checker tells a `MizuClient *` from a
//! `MizuSignal *`. Every call looks the number up here. So a freed handle, a handle freed twice,
//! a handle of the wrong kind or a made-up pointer is an error code, never undefined behaviour:
//!
//! - a number issued earlier whose object was freed → `MIZU_ERR_CLOSED`;
//! - a live handle of another kind, or a number never issued → `MIZU_ERR_INVALID_ARGUMENT`.
//!
//! Ordered maps rather than hash maps: their allocations are reached from the static by their
//! start, so valgrind sees them as reachable rather than "possibly lost".
//!
//! The lock is held only to insert, clone out or remove an entry; objects are dropped (which may
//! run C `release` callbacks) after it is released, and no call into the core happens under it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use super::status::{CError, MizuStatus};
use crate::reactive::{Computed, Effect, Signal};
use crate::{Client, Collection, Entity, Query};

/// The value of a computed defined in C: JSON, or why the C function gave none.
pub(crate) type ComputedValue = Result<Value, CError>;

/// What keeps a subscription's deliveries going; dropping it stops them.
pub(crate) enum Subscribed {
    /// An effect that reads a value and calls C with it (signal, entity, client status).
    Effect(#[allow(dead_code)] Effect),
    /// A listener of the core's change feeds (query events, collection changes).
    Listener(#[allow(dead_code)] crate::Subscription),
}

/// Everything a handle can stand for.
pub(crate) enum Object {
    Client(Arc<Client>),
    Collection(Collection<Value>),
    Entity(Entity<Value>),
    Query(Query<Value>),
    Signal(Signal<Value>),
    Computed(Computed<ComputedValue>),
    /// Held for its `Drop`, which stops the effect when the handle is freed.
    Effect(#[allow(dead_code)] Effect),
    /// Held for its `Drop`, which cancels the subscription when the handle is freed.
    Subscription(#[allow(dead_code)] Subscribed),
}

impl Object {
    fn kind(&self) -> &'static str {
        match self {
            Object::Client(_) => "client",
            Object::Collection(_) => "collection",
            Object::Entity(_) => "entity",
            Object::Query(_) => "query",
            Object::Signal(_) => "signal",
            Object::Computed(_) => "computed",
            Object::Effect(_) => "effect",
            Object::Subscription(_) => "subscription",
        }
    }
}

/// Handles start above the first page so that none is mistaken for a small integer or NULL.
const FIRST_ID: usize = 0x1000;
/// Handles step by 16, like aligned pointers, leaving the low bits of a real pointer unused.
const STEP: usize = 16;

static NEXT_ID: AtomicUsize = AtomicUsize::new(FIRST_ID);
static LIVE: Mutex<BTreeMap<usize, Arc<Object>>> = Mutex::new(BTreeMap::new());

fn live() -> MutexGuard<'static, BTreeMap<usize, Arc<Object>>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers `object` and returns its new handle number.
pub(crate) fn insert(object: Object) -> usize {
    let id = NEXT_ID.fetch_add(STEP, Ordering::Relaxed);
    live().insert(id, Arc::new(object));
    id
}

/// Why `id` names no live object of kind `expected`.
fn missing(id: usize, expected: &str) -> CError {
    if id == 0 {
        return CError::invalid(format!("the {expected} handle is NULL"));
    }
    let issued = id >= FIRST_ID
        && id < NEXT_ID.load(Ordering::Relaxed)
        && (id - FIRST_ID).is_multiple_of(STEP);
    if issued {
        CError::new(
            MizuStatus::MizuErrClosed,
            format!("the {expected} handle was already freed"),
        )
    } else {
        CError::invalid(format!("{id:#x} is not a handle issued by this library"))
    }
}

/// The object behind `id`, shared, checked to be of kind `expected`.
pub(crate) fn get(id: usize, expected: &'static str) -> Result<Arc<Object>, CError> {
    let object = live()
        .get(&id)
        .cloned()
        .ok_or_else(|| missing(id, expected))?;
    if object.kind() == expected {
        Ok(object)
    } else {
        Err(CError::invalid(format!(
            "expected a {expected} handle, got a {} handle",
            object.kind()
        )))
    }
}

/// Unregisters `id` (of kind `expected`) and returns its object, for the caller to drop with no
/// lock held. Freeing NULL does nothing.
pub(crate) fn remove(id: usize, expected: &'static str) -> Result<Option<Arc<Object>>, CError> {
    if id == 0 {
        return Ok(None);
    }
    get(id, expected)?;
    let removed = live().remove(&id);
    // Another thread may have freed it between the check and the removal.
    removed.map(Some).ok_or_else(|| missing(id, expected))
}

/// How many handles are live (issued and not yet freed).
pub(crate) fn count() -> usize {
    live().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_a_freed_handle_as_closed_and_a_made_up_one_as_invalid() {
        let id = insert(Object::Signal(Signal::new(Value::Null)));
        assert!(get(id, "signal").is_ok());
        assert_eq!(
            get(id, "client").err().map(|e| e.status),
            Some(MizuStatus::MizuErrInvalidArgument)
        );
        drop(remove(id, "signal"));
        assert_eq!(
            get(id, "signal").err().map(|e| e.status),
            Some(MizuStatus::MizuErrClosed)
        );
        assert_eq!(
            remove(id, "signal").err().map(|e| e.status),
            Some(MizuStatus::MizuErrClosed)
        );
        assert_eq!(
            get(id + 3, "signal").err().map(|e| e.status),
            Some(MizuStatus::MizuErrInvalidArgument)
        );
        assert!(matches!(remove(0, "signal"), Ok(None)));
    }
}
