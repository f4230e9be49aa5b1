//! `mizu_collection_query`, `mizu_query_*` and `mizu_collection_ensure_index`: live queries over
//! a collection, made from a JSON spec (`mizu_query_subscribe` is with the other subscriptions).
//!
//! The spec format is documented on [`mizu_collection_query`], which is what C readers see.

use std::ffi::c_char;

use super::boundary::{call, text, Out};
use super::handle_table::Object;
use super::handle_types::{self, issue, MizuCollection, MizuQuery};
use super::payload;
use super::status::MizuStatus;
use super::strings::give;
use crate::query::QuerySpec;
use crate::reactive::untrack;

/// Makes a live query over the collection from the JSON spec `spec_json`, and evaluates it now.
/// From then on the library keeps its result up to date incrementally, at the cost of each
/// change, until the handle and every subscription to it are freed.
///
/// # The spec
///
/// ```json
/// {"filter": {"and": [{"field": "completed", "op": "eq", "value": false},
///                     {"field": "tags", "op": "contains", "value": "home"}]},
///  "order_by": [{"field": "due", "order": "desc"}],
///  "offset": 0,
///  "limit": 50}
/// ```
///
/// Every key is optional. A filter is `{"field": PATH, "op": OP, "value": V}` with `OP` one of
/// `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `in` (`V` an array), `contains` (a substring of a
/// string field, or an element of an array field), `exists` (`V` optional, `true` by default,
/// `false` for "absent"); or `{"and": [F, ...]}`, `{"or": [F, ...]}`, `{"not": F}`. `PATH`
/// names a field, with dots for nested ones (`"meta.due"`). `order` is `"asc"` (the default)
/// or `"desc"`; ties are broken by id, ascending. Comparisons use one total order:
/// `null` < `false` < `true` < numbers < strings < arrays < objects; a missing field is `null`.
///
/// # Errors
/// `MIZU_ERR_INVALID_QUERY` for a spec that is not JSON or not a query: an unknown key or
/// operator, an operand of the wrong kind, an empty or malformed field path (`""`, `"a..b"`),
/// a negative or fractional limit or offset (the last-error message says which);
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL pointer or text that is not UTF-8; `MIZU_ERR_CLOSED`
/// for a freed collection handle or a closed client.
///
/// # Ownership
/// `*out` receives a new query handle the caller frees with `mizu_query_free` (NULL on error).
///
/// # Threading
/// Any thread. Not tracked: making a query inside a computed or an effect adds no dependency.
#[no_mangle]
pub extern "C" fn mizu_collection_query(
    collection: *const MizuCollection,
    spec_json: *const c_char,
    out: *mut *mut MizuQuery,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let collection = handle_types::collection(collection)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let spec_json = unsafe { text(spec_json, "spec_json") }?;
        let spec = QuerySpec::from_json(spec_json).map_err(crate::Error::from)?;
        let query = collection.query_spec(spec);
        untrack(|| query.count())?;
        out.set(issue(Object::Query(query)));
        Ok(())
    })
}

/// Keeps an ordered index of the collection on the field at `path` (dots for nested fields),
/// maintained on every write, pull, snapshot and rollback, and used by queries whose equality
/// filter or first sort key it covers. Idempotent; lives as long as the client.
///
/// # Errors
/// `MIZU_ERR_INVALID_QUERY` for an empty or malformed path (`""`, `"a..b"`);
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL pointer or text that is not UTF-8; `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_collection_ensure_index(
    collection: *const MizuCollection,
    path: *const c_char,
) -> MizuStatus {
    call(|| {
        let collection = handle_types::collection(collection)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let path = unsafe { text(path, "path") }?;
        Ok(collection.ensure_index(path)?)
    })
}

/// Stores the query's rows in `*out`, in query order and within its window, as a JSON array
/// `[{"id": "a", "value": V}, ...]` with each value embedded as JSON.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `out`; `MIZU_ERR_CLOSED` for a freed query handle or
/// a closed client.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect: wakes only when the result changes.
#[no_mangle]
pub extern "C" fn mizu_query_get(query: *const MizuQuery, out: *mut *mut c_char) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let rows = handle_types::query(query)?.get_json()?;
        out.set(give(&payload::rows(&rows)));
        Ok(())
    })
}

/// Stores the ids of the query's rows in `*out`, in query order and within its window, as a
/// JSON array of strings.
///
/// # Errors, Ownership
/// As `mizu_query_get`.
///
/// # Threading
/// Any thread. Tracked like `mizu_query_get`.
#[no_mangle]
pub extern "C" fn mizu_query_ids(query: *const MizuQuery, out: *mut *mut c_char) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let ids = handle_types::query(query)?.ids()?;
        out.set(give(&payload::ids(&ids)));
        Ok(())
    })
}

/// Stores in `*out` how many entities match the query's filter, ignoring its offset and limit.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `out`; `MIZU_ERR_CLOSED` for a freed query handle or
/// a closed client.
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect: wakes only when that number changes.
#[no_mangle]
pub extern "C" fn mizu_query_count(query: *const MizuQuery, out: *mut u64) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a uint64_t.
        let out = unsafe { Out::new(out, "out", 0) }?;
        let count = handle_types::query(query)?.count()?;
        out.set(count as u64);
        Ok(())
    })
}

/// Stores the query's spec in `*out` as canonical JSON (keys sorted, defaults left out): equal
/// queries give equal text.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `out`; `MIZU_ERR_CLOSED` for a freed query handle.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_query_spec_json(
    query: *const MizuQuery,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let spec = handle_types::query(query)?.spec().to_json().to_string();
        out.set(give(&spec));
        Ok(())
    })
}

/// Frees a query handle. Its subscriptions (`mizu_query_subscribe`) go on until they are
/// freed; when none is left, the library stops keeping the result up to date. Freeing NULL
/// does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not a query handle.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_query_free(query: *mut MizuQuery) -> MizuStatus {
    call(|| handle_types::free(query, "query"))
}
