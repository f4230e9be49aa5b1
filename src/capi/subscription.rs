//! `mizu_*_subscribe` and `mizu_subscription_free`: values delivered to a C function, the
//! current one first, then each change.
//!
//! Signals, entities and the client status are read by an effect that calls C after each
//! change of what it read. Queries and collections have change feeds in the core that say what
//! changed (a diff, the changed entities), delivered as they are.

use std::ffi::c_void;

use super::boundary::{call, Out};
use super::callback::{MizuReleaseFn, MizuValueFn, UserData};
use super::client::status_json;
use super::handle_table::{Object, Subscribed};
use super::handle_types::{
    self, issue, MizuClient, MizuCollection, MizuEntity, MizuQuery, MizuSignal, MizuSubscription,
};
use super::payload;
use super::status::{c_text, CError, MizuStatus};
use crate::reactive::Effect;

/// Hands JSON text (or NULL for `None`) to the subscriber's C function.
type Sink = Box<dyn Fn(Option<&str>) + Send + Sync>;

/// Checks the arguments of a `mizu_*_subscribe` call, then registers what `register` makes with
/// a [`Sink`] to `on_value`, and issues its subscription handle.
fn deliver(
    register: impl FnOnce(Sink) -> Result<Subscribed, CError>,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    call(|| {
        let user_data = UserData::new(user_data, release);
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let f = on_value.ok_or_else(|| CError::invalid("on_value is NULL"))?;
        let sink: Sink = Box::new(move |text| {
            let text = text.map(c_text);
            let ptr = text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
            // SAFETY: the caller registered `f` with this user_data, callable from any thread;
            // `ptr` is NULL or lent for the duration of the call, as documented.
            unsafe { f(user_data.ptr(), ptr) };
        });
        out.set(issue(Object::Subscription(register(sink)?)));
        Ok(())
    })
}

/// Subscribes `on_value` to what the reader made by `reader` returns (JSON text, or `None` for
/// a NULL delivery), read by an effect.
fn subscribe<R: Fn() -> Option<String> + Send + 'static>(
    reader: impl FnOnce() -> Result<R, CError>,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    let register = |sink: Sink| {
        let read = reader()?;
        let effect = Effect::new(move || sink(read().as_deref()));
        Ok(Subscribed::Effect(effect))
    };
    deliver(register, on_value, user_data, release, out)
}

/// A listener of a core feed of events `E`.
type Listener<E> = Box<dyn Fn(&E) + Send + Sync>;

/// Hands each event of a core feed to `on_value` as the JSON text `payload` writes for it.
/// `register` subscribes the listener it is given to the feed.
fn listen<E: 'static>(
    register: impl FnOnce(Listener<E>) -> Result<crate::Subscription, CError>,
    payload: fn(&E) -> String,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    let register = |sink: Sink| {
        let listener: Listener<E> = Box::new(move |event: &E| sink(Some(&payload(event))));
        Ok(Subscribed::Listener(register(listener)?))
    };
    deliver(register, on_value, user_data, release, out)
}

/// Calls `on_value(user_data, json)` with the signal's value now, then after every change.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `on_value` or `out`; `MIZU_ERR_CLOSED` for a freed
/// signal handle.
///
/// # Ownership
/// The JSON text is lent for the call only. `*out` receives a new subscription the caller frees
/// with `mizu_subscription_free`, which cancels it (NULL on error). `release` (may be NULL) is
/// called once with `user_data` when `on_value` will never be called again, or before this
/// function returns if it fails.
///
/// # Threading
/// The first call happens on this thread before this function returns; later ones on the
/// thread that changed the value.
#[no_mangle]
pub extern "C" fn mizu_signal_subscribe(
    signal: *const MizuSignal,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    subscribe(
        || {
            let signal = handle_types::signal(signal)?;
            Ok(move || Some(signal.with(ToString::to_string)))
        },
        on_value,
        user_data,
        release,
        out,
    )
}

/// Calls `on_value(user_data, json)` with the entity's value now, then after every change of
/// it; `json` is NULL while the entity does not exist.
///
/// # Errors, Ownership, Threading
/// As `mizu_signal_subscribe`. Server changes are delivered on the sync thread.
#[no_mangle]
pub extern "C" fn mizu_entity_subscribe(
    entity: *const MizuEntity,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    subscribe(
        || {
            let entity = handle_types::entity(entity)?;
            Ok(move || entity.get().map(|v| v.to_string()))
        },
        on_value,
        user_data,
        release,
        out,
    )
}

/// Calls `on_value(user_data, json)` with every entity of the collection now, then, after each
/// transaction that changed the collection (a local write, a pulled page, a snapshot, a
/// rollback), with exactly what changed:
///
/// ```json
/// {"changed": [{"id": "a", "value": {"title": "Milk"}}], "removed": ["b"]}
/// ```
///
/// `changed` holds the entities created or changed, ascending by id, with their new values
/// embedded as JSON; `removed` the ids deleted, ascending. The first call has every entity in
/// `changed` and `removed` empty. A call costs what changed, never the whole collection: to
/// keep the whole contents, apply each call to a map of your own.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `on_value` or `out`; `MIZU_ERR_CLOSED` for a freed
/// collection handle or a closed client.
///
/// # Ownership
/// As `mizu_signal_subscribe`.
///
/// # Threading
/// Calls come one at a time, in commit order, never under a lock of the library: on the thread
/// that made the change (your thread for your writes, the sync thread for server changes), or
/// on a thread already delivering this collection's changes. The first call therefore normally
/// happens on this thread before this function returns, but may come from such a thread.
#[no_mangle]
pub extern "C" fn mizu_collection_subscribe(
    collection: *const MizuCollection,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    listen(
        |listener| Ok(handle_types::collection(collection)?.subscribe_json(listener)?),
        payload::collection_changes,
        on_value,
        user_data,
        release,
        out,
    )
}

/// Calls `on_value(user_data, json)` with the query's whole result now, then with a keyed diff
/// after each transaction that changed the result (a local write, a pulled page, a snapshot, a
/// rollback):
///
/// ```json
/// {"result": [{"id": "a", "value": {"title": "Milk"}}, {"id": "b", "value": {"title": "Eggs"}}]}
/// {"diff": [{"op": "removed", "index": 1, "id": "b"},
///           {"op": "inserted", "index": 0, "id": "c", "value": {"title": "Tea"}},
///           {"op": "moved", "from": 1, "to": 0, "id": "a"},
///           {"op": "updated", "index": 0, "id": "a", "value": {"title": "Oat milk"}}]}
/// ```
///
/// Rows are in query order, within the query's window; values are embedded as JSON, not as
/// strings. The ops of a diff apply **in order**: each index refers to the list as the ops
/// before it left it (the convention of Android's `ListUpdateCallback` and of sequential table
/// view updates). `moved` removes the row at `from`, then inserts it at `to`; `updated` keeps
/// the row where it is with a new value. Applying every diff to the first result gives what
/// `mizu_query_get` returns after the same transactions.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `on_value` or `out`; `MIZU_ERR_CLOSED` for a freed
/// query handle or a closed client.
///
/// # Ownership
/// The JSON text is lent for the call only: copy what you keep, do not free it. `*out`
/// receives a new subscription the caller frees with `mizu_subscription_free`, which cancels
/// it (NULL on error); the subscription keeps the query live even after `mizu_query_free`.
/// `release` (may be NULL) is called once with `user_data` when `on_value` will never be called
/// again, or before this function returns if it fails.
///
/// # Threading
/// Events come one at a time, in commit order, never under a lock of the library: on the
/// thread of the transaction that made them (your thread for your writes, the sync thread for
/// server changes), or on a thread already delivering this query's events. The first call
/// therefore normally happens on this thread before this function returns, but may come from
/// such a thread. `on_value` may call back into the library (`mizu_query_ids` included, which
/// then shows the latest result, possibly ahead of the diff being delivered).
#[no_mangle]
pub extern "C" fn mizu_query_subscribe(
    query: *const MizuQuery,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    listen(
        |listener| Ok(handle_types::query(query)?.subscribe_json(listener)?),
        payload::query_event,
        on_value,
        user_data,
        release,
        out,
    )
}

/// Calls `on_value(user_data, json)` with the client's sync status now (the JSON of
/// `mizu_client_status`), then after every change of it.
///
/// # Errors, Ownership, Threading
/// As `mizu_signal_subscribe`. Status changes are mostly delivered on the sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_subscribe_status(
    client: *const MizuClient,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    subscribe(
        || {
            let status = handle_types::client(client)?.status();
            Ok(move || Some(status_json(&status.get())))
        },
        on_value,
        user_data,
        release,
        out,
    )
}

/// Cancels the subscription and frees its handle: `on_value` is not called after this returns
/// (except for a delivery already running on another thread), then `release` is called.
/// Freeing NULL does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not a subscription.
///
/// # Threading
/// Any thread, including from `on_value` itself.
#[no_mangle]
pub extern "C" fn mizu_subscription_free(subscription: *mut MizuSubscription) -> MizuStatus {
    call(|| handle_types::free(subscription, "subscription"))
}
