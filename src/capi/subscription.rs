//! `mizu_*_subscribe` and `mizu_subscription_free`: values delivered to a C function, the
//! current one first, then each change.

use std::ffi::c_void;

use super::boundary::{call, Out};
use super::callback::{MizuReleaseFn, MizuValueFn, UserData};
use super::client::status_json;
use super::collection::all_json;
use super::handles::{
    self, issue, MizuClient, MizuCollection, MizuEntity, MizuSignal, MizuSubscription,
};
use super::registry::Object;
use super::status::{c_text, CError, MizuStatus};
use crate::reactive::Effect;

/// Subscribes `on_value` to what the reader made by `reader` returns (JSON text, or `None` for
/// a NULL delivery).
fn subscribe<R: Fn() -> Option<String> + Send + 'static>(
    reader: impl FnOnce() -> Result<R, CError>,
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
        let read = reader()?;
        let effect = Effect::new(move || {
            let text = read().map(|t| c_text(&t));
            let ptr = text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
            // SAFETY: the caller registered `f` with this user_data, callable from any thread;
            // `ptr` is NULL or lent for the duration of the call, as documented.
            unsafe { f(user_data.ptr(), ptr) };
        });
        out.set(issue(Object::Subscription(effect)));
        Ok(())
    })
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
            let signal = handles::signal(signal)?;
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
            let entity = handles::entity(entity)?;
            Ok(move || entity.get().map(|v| v.to_string()))
        },
        on_value,
        user_data,
        release,
        out,
    )
}

/// Calls `on_value(user_data, json)` with every entity of the collection now (the JSON object
/// of `mizu_collection_all`), then after every change in the collection.
///
/// # Errors, Ownership, Threading
/// As `mizu_signal_subscribe`. Server changes are delivered on the sync thread.
#[no_mangle]
pub extern "C" fn mizu_collection_subscribe(
    collection: *const MizuCollection,
    on_value: MizuValueFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuSubscription,
) -> MizuStatus {
    subscribe(
        || {
            let collection = handles::collection(collection)?;
            Ok(move || Some(all_json(&collection)))
        },
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
            let status = handles::client(client)?.status();
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
    call(|| handles::free(subscription, "subscription"))
}
