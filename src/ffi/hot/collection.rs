//! Direct calls on a [`Collection`]: an entity's read and write by id, its value as canonical
//! JSON text (the binding's codec turns it into a typed value).

use std::sync::Arc;

use serde_json::Value;

use super::value::tag;
use super::{guard, issue, lend, put_bytes, release, text, with_slot};
use crate::client::Encoded;
use crate::ffi::Collection;
use crate::reactive::untrack;

#[uniffi::export]
impl Collection {
    /// A hot handle for the bindings' direct calls (`src/ffi/hot`): a strong reference
    /// the caller gives back with `mizu_hot_collection_release`. Not for apps.
    pub fn hot_handle(self: Arc<Self>) -> u64 {
        issue(self)
    }
}

/// Gives back a hot handle of a collection (0 is ignored).
///
/// # Safety
/// `collection` came from `Collection.hot_handle()` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_collection_release(collection: u64) {
    // SAFETY: forwarded from this function's contract.
    unsafe { release::<Collection>(collection) }
}

/// Reads the entity whose id is the `id_len` UTF-8 bytes at `id` (tracked when `tracked` is
/// non-zero, like `Entity.get`). Returns [`tag::JSON`] with its value's JSON text in the slot,
/// [`tag::ABSENT`] when it does not exist, negative on error.
///
/// # Safety
/// `collection` is a live hot handle of a collection; `id` is valid for reading `id_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_collection_get(
    collection: u64,
    id: *const u8,
    id_len: u64,
    tracked: i32,
) -> i32 {
    guard(-1, || {
        // SAFETY: forwarded from this function's contract.
        let core = unsafe { lend::<Collection>(collection) }?.core()?;
        // SAFETY: forwarded from this function's contract.
        let id = unsafe { text(id, id_len, "id") }?;
        let value = if tracked != 0 {
            core.read_text(id)
        } else {
            untrack(|| core.read_text(id))
        };
        Ok(match value {
            None => tag::ABSENT,
            Some(json) => with_slot(|slot| {
                put_bytes(slot, json.as_bytes());
                tag::JSON
            }),
        })
    })
}

/// Writes the JSON text `value_json` (`value_len` bytes) to the entity `id`: creates it when
/// `create` is non-zero (refused when it exists, like `Collection.create`), otherwise creates
/// or replaces it (like `Collection.set`). Returns 0, negative on error. Dependents run on this
/// thread before this returns.
///
/// # Safety
/// `collection` is a live hot handle of a collection; `id` and `value_json` are valid for
/// reading `id_len` and `value_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_collection_write(
    collection: u64,
    id: *const u8,
    id_len: u64,
    value_json: *const u8,
    value_len: u64,
    create: i32,
) -> i32 {
    guard(-1, || {
        // SAFETY: forwarded from this function's contract.
        let core = unsafe { lend::<Collection>(collection) }?.core()?;
        // SAFETY: forwarded from this function's contract.
        let id = unsafe { text(id, id_len, "id") }?;
        // SAFETY: forwarded from this function's contract.
        let tree: Value =
            serde_json::from_str(unsafe { text(value_json, value_len, "value_json") }?)?;
        core.write_text(id, Encoded::from_tree(tree), create != 0)?;
        Ok(0)
    })
}
