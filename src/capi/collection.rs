//! `mizu_collection_*` and `mizu_entity_*`: untyped collections whose values are JSON text.
//!
//! Every write is optimistic and durable: visible at once, queued for the server, and (with a
//! storage path) committed to SQLite before the call returns. Reads made inside a computed's or
//! an effect's C function are tracked, like every read of the reactive graph.

use std::ffi::c_char;

use serde_json::{Map, Value};

use super::boundary::{call, json, text, Out};
use super::handle_table::Object;
use super::handle_types::{self, issue, MizuCollection, MizuEntity};
use super::status::{CError, MizuStatus};
use super::strings::give;
use crate::Entity;

/// Reads `entity`'s value as JSON text, or `MIZU_ERR_NOT_FOUND`.
fn value_of(entity: &Entity<Value>) -> Result<String, CError> {
    match entity.try_get()? {
        Some(value) => Ok(value.to_string()),
        None => Err(CError::new(
            MizuStatus::MizuErrNotFound,
            format!("{}/{} does not exist", entity.collection(), entity.id()),
        )),
    }
}

/// The entity `id` of `collection`.
///
/// # Safety
/// `id` is NULL or a NUL-terminated string valid for this call.
unsafe fn entity_at(
    collection: *const MizuCollection,
    id: *const c_char,
) -> Result<Entity<Value>, CError> {
    let collection = handle_types::collection(collection)?;
    // SAFETY: forwarded from this function's contract.
    let id = unsafe { text(id, "id") }?;
    Ok(collection.get(id))
}

/// Creates the entity `id` with the value `value_json`, and queues `<collection>.create`.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for an empty id or when the entity already exists (use
/// `mizu_collection_set`); `MIZU_ERR_INVALID_JSON`; `MIZU_ERR_STORAGE`; `MIZU_ERR_CLOSED`.
///
/// # Ownership
/// When `out` is not NULL it receives a new entity handle the caller frees with
/// `mizu_entity_free` (NULL on error).
///
/// # Threading
/// Any thread. Effects woken by the write run on this thread before the call returns.
#[no_mangle]
pub extern "C" fn mizu_collection_create(
    collection: *const MizuCollection,
    id: *const c_char,
    value_json: *const c_char,
    out: *mut *mut MizuEntity,
) -> MizuStatus {
    call(|| {
        let out = match out.is_null() {
            true => None,
            // SAFETY: not NULL; the caller passes a pointer valid for writing a handle.
            false => Some(unsafe { Out::new(out, "out", std::ptr::null_mut()) }?),
        };
        let collection = handle_types::collection(collection)?;
        // SAFETY: the caller passes NUL-terminated strings valid for this call.
        let id = unsafe { text(id, "id") }?;
        // SAFETY: as above.
        let value = unsafe { json(value_json, "value_json") }?;
        let entity = collection.create(id, value)?;
        if let Some(out) = out {
            out.set(issue(Object::Entity(entity)));
        }
        Ok(())
    })
}

/// Stores the value of entity `id` as JSON text in `*out`.
///
/// # Errors
/// `MIZU_ERR_NOT_FOUND` when the entity does not exist.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_collection_get(
    collection: *const MizuCollection,
    id: *const c_char,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        // SAFETY: the caller passes a NUL-terminated id valid for this call.
        let entity = unsafe { entity_at(collection, id) }?;
        out.set(give(&value_of(&entity)?));
        Ok(())
    })
}

/// Sets the value of entity `id` to `value_json`, creating it when missing, and queues
/// `<collection>.update` (or `.create`).
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for an empty id; `MIZU_ERR_INVALID_JSON`; `MIZU_ERR_STORAGE`;
/// `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread. Effects woken by the write run on this thread before the call returns.
#[no_mangle]
pub extern "C" fn mizu_collection_set(
    collection: *const MizuCollection,
    id: *const c_char,
    value_json: *const c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NUL-terminated strings valid for this call.
        let entity = unsafe { entity_at(collection, id) }?;
        // SAFETY: as above.
        let value = unsafe { json(value_json, "value_json") }?;
        Ok(entity.set(value)?)
    })
}

/// Deletes entity `id` and queues `<collection>.delete`; deleting a missing entity does
/// nothing and returns `MIZU_OK`.
///
/// # Errors
/// `MIZU_ERR_STORAGE`; `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_collection_delete(
    collection: *const MizuCollection,
    id: *const c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes a NUL-terminated id valid for this call.
        let entity = unsafe { entity_at(collection, id) }?;
        Ok(entity.delete()?)
    })
}

/// Stores whether entity `id` exists in `*out`.
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_collection_exists(
    collection: *const MizuCollection,
    id: *const c_char,
    out: *mut bool,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a bool.
        let out = unsafe { Out::new(out, "out", false) }?;
        let collection = handle_types::collection(collection)?;
        // SAFETY: the caller passes a NUL-terminated id valid for this call.
        let id = unsafe { text(id, "id") }?;
        out.set(collection.has(id));
        Ok(())
    })
}

/// Stores how many entities the collection has in `*out`.
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_collection_count(
    collection: *const MizuCollection,
    out: *mut usize,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a size_t.
        let out = unsafe { Out::new(out, "out", 0) }?;
        out.set(handle_types::collection(collection)?.count());
        Ok(())
    })
}

/// Every entity of the collection as one JSON object, `{"id": value, ...}`, keys in ascending
/// byte order.
fn all_json(collection: &crate::Collection<Value>) -> String {
    let map: Map<String, Value> = collection.entries().into_iter().collect();
    Value::Object(map).to_string()
}

/// Stores every entity of the collection in `*out` as one JSON object, `{"id": value, ...}`,
/// with keys in ascending byte order.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect (wakes on any change in the collection).
#[no_mangle]
pub extern "C" fn mizu_collection_all(
    collection: *const MizuCollection,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        out.set(give(&all_json(&handle_types::collection(collection)?)));
        Ok(())
    })
}

/// Stores a handle to entity `id` in `*out`, whether or not it exists now.
///
/// # Ownership
/// `*out` receives a new handle the caller frees with `mizu_entity_free` (NULL on error).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_collection_entity(
    collection: *const MizuCollection,
    id: *const c_char,
    out: *mut *mut MizuEntity,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        // SAFETY: the caller passes a NUL-terminated id valid for this call.
        let entity = unsafe { entity_at(collection, id) }?;
        out.set(issue(Object::Entity(entity)));
        Ok(())
    })
}

/// Frees a collection handle. Freeing NULL does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not a collection
/// handle.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_collection_free(collection: *mut MizuCollection) -> MizuStatus {
    call(|| handle_types::free(collection, "collection"))
}

/// Stores the entity's value as JSON text in `*out`.
///
/// # Errors
/// `MIZU_ERR_NOT_FOUND` when the entity does not exist.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect (wakes only when this entity changes).
#[no_mangle]
pub extern "C" fn mizu_entity_get(entity: *const MizuEntity, out: *mut *mut c_char) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        out.set(give(&value_of(&handle_types::entity(entity)?)?));
        Ok(())
    })
}

/// Sets the entity's value to `value_json`, creating it when missing.
///
/// # Errors
/// As `mizu_collection_set`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_entity_set(
    entity: *const MizuEntity,
    value_json: *const c_char,
) -> MizuStatus {
    call(|| {
        let entity = handle_types::entity(entity)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let value = unsafe { json(value_json, "value_json") }?;
        Ok(entity.set(value)?)
    })
}

/// Deletes the entity; deleting a missing entity does nothing and returns `MIZU_OK`.
///
/// # Errors
/// `MIZU_ERR_STORAGE`; `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_entity_delete(entity: *const MizuEntity) -> MizuStatus {
    call(|| Ok(handle_types::entity(entity)?.delete()?))
}

/// Stores whether the entity exists in `*out`.
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_entity_exists(entity: *const MizuEntity, out: *mut bool) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a bool.
        let out = unsafe { Out::new(out, "out", false) }?;
        out.set(handle_types::entity(entity)?.exists());
        Ok(())
    })
}

/// Frees an entity handle (the entity itself is not deleted). Freeing NULL does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not an entity handle.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_entity_free(entity: *mut MizuEntity) -> MizuStatus {
    call(|| handle_types::free(entity, "entity"))
}
