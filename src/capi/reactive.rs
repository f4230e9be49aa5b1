//! `mizu_signal_*`, `mizu_computed_*`, `mizu_effect_*`, `mizu_batch`, `mizu_untracked`: the
//! reactive graph with JSON values and C functions.
//!
//! A computed's or an effect's C function runs while the library tracks what it reads: every
//! `mizu_signal_get`, `mizu_computed_get`, `mizu_entity_get`, `mizu_collection_*` read it makes
//! on that thread becomes a dependency, so one graph spans Rust and C.

use std::ffi::{c_char, c_void, CStr};

use serde_json::Value;

use super::boundary::{call, json, Out};
use super::callback::{MizuComputeFn, MizuReleaseFn, MizuUpdateFn, MizuVoidFn, UserData};
use super::handle_table::{ComputedValue, Object};
use super::handle_types::{self, issue, MizuComputed, MizuEffect, MizuSignal};
use super::status::{c_text, CError, MizuStatus};
use super::strings::give;
use crate::reactive::{batch, untrack, Computed, Effect, Signal};

extern "C" {
    /// The C library's `free`, for the strings a `MizuComputeFn` or a `MizuUpdateFn` returns.
    fn free(ptr: *mut c_void);
}

/// Creates a signal holding the JSON value `initial_json`.
///
/// # Errors
/// `MIZU_ERR_INVALID_JSON`; `MIZU_ERR_INVALID_ARGUMENT` for a NULL pointer.
///
/// # Ownership
/// `*out` receives a new handle the caller frees with `mizu_signal_free` (NULL on error).
///
/// # Threading
/// Signals may be read and written from any thread.
#[no_mangle]
pub extern "C" fn mizu_signal_new(
    initial_json: *const c_char,
    out: *mut *mut MizuSignal,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let value = unsafe { json(initial_json, "initial_json") }?;
        out.set(issue(Object::Signal(Signal::new(value))));
        Ok(())
    })
}

/// Stores the signal's value as JSON text in `*out`.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_signal_get(signal: *const MizuSignal, out: *mut *mut c_char) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let signal = handle_types::signal(signal)?;
        out.set(signal.with(|value| give(&value.to_string())));
        Ok(())
    })
}

/// Sets the signal to the JSON value `value_json`. An equal value notifies nobody; otherwise
/// the effects and subscriptions that read it run on this thread before the call returns (or
/// at the end of the enclosing `mizu_batch`).
///
/// # Errors
/// `MIZU_ERR_INVALID_JSON`; `MIZU_ERR_INVALID_ARGUMENT` for a NULL pointer.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_signal_set(
    signal: *const MizuSignal,
    value_json: *const c_char,
) -> MizuStatus {
    call(|| {
        let signal = handle_types::signal(signal)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let value = unsafe { json(value_json, "value_json") }?;
        signal.set(value);
        Ok(())
    })
}

/// Replaces the signal's value with the one `update_fn(user_data, current_json)` returns,
/// atomically: when another thread wrote the signal while `update_fn` ran, `update_fn` runs
/// again with the newer value (a compare-and-set loop, as C11's `atomic_compare_exchange` loops
/// and Java's `AtomicReference.updateAndGet` do), so concurrent updates never lose one another.
/// `update_fn` therefore **may run more than once** per call: keep it free of effects beyond
/// computing its result. An equal value notifies nobody; otherwise the effects and
/// subscriptions that read the signal run on this thread before the call returns (or at the
/// end of the enclosing `mizu_batch`). The read of the current value is not tracked.
///
/// To abandon the update, return NULL from `update_fn`: the value is left unchanged and this
/// call fails with `MIZU_ERR_INVALID_ARGUMENT` ("the update function returned NULL"); record
/// your own reason in `user_data` if the caller needs it.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `update_fn` is NULL, returns NULL or returns text that is
/// not UTF-8, or when `signal` is not a signal handle; `MIZU_ERR_INVALID_JSON` when it returns
/// text that is not JSON; `MIZU_ERR_CLOSED` for a freed signal handle (`update_fn` is then not
/// called). After any error the value is unchanged.
///
/// # Ownership
/// `current_json` is lent to `update_fn` for its call only. The text `update_fn` returns must
/// come from `malloc` (`strdup`, `asprintf`, ...): the library takes it over and releases it
/// with `free`, also when it is not JSON. `user_data` is only passed to `update_fn`, during
/// this call; the library keeps nothing of it afterwards.
///
/// # Threading
/// Any thread. `update_fn` runs on this thread, before this function returns, with no lock of
/// the library held: it may call back into the library, this signal included (a write to this
/// signal from inside `update_fn` makes it run again, on the value written).
#[no_mangle]
pub extern "C" fn mizu_signal_update(
    signal: *const MizuSignal,
    update_fn: MizuUpdateFn,
    user_data: *mut c_void,
) -> MizuStatus {
    call(|| {
        let f = update_fn.ok_or_else(|| CError::invalid("update_fn is NULL"))?;
        let signal = handle_types::signal(signal)?;
        signal.try_update(|current| {
            let text = c_text(&current.to_string());
            // SAFETY: the caller passes a function to be called with this user_data, now, on
            // this thread; `text` is lent for the duration of the call, as documented.
            let next = unsafe { f(user_data, text.as_ptr()) };
            // SAFETY: the update function's contract: NULL or a NUL-terminated string from
            // malloc, handed over to the library.
            unsafe { take_json(next, "the update function") }
        })
    })
}

/// Frees a signal handle. Computeds and effects that read it keep its last value. Freeing NULL
/// does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not a signal handle.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_signal_free(signal: *mut MizuSignal) -> MizuStatus {
    call(|| handle_types::free(signal, "signal"))
}

/// Takes over the JSON text `ptr` that the C function `who` returned: parses it, then releases
/// it with `free`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string from `malloc` that nothing else will use or free.
unsafe fn take_json(ptr: *mut c_char, who: &str) -> Result<Value, CError> {
    if ptr.is_null() {
        return Err(CError::invalid(format!("{who} returned NULL")));
    }
    // SAFETY: not NULL, and the caller guarantees a NUL-terminated string, now ours.
    let parsed = match unsafe { CStr::from_ptr(ptr) }.to_str() {
        Ok(text) => serde_json::from_str::<Value>(text).map_err(|e| {
            CError::new(
                MizuStatus::MizuErrInvalidJson,
                format!("{who} returned text that is not JSON: {e}"),
            )
        }),
        Err(e) => Err(CError::invalid(format!(
            "{who} returned text that is not UTF-8: {e}"
        ))),
    };
    // SAFETY: `ptr` came from malloc (the caller's guarantee), was read above and is freed
    // exactly once, here.
    unsafe { free(ptr.cast()) };
    parsed
}

/// Runs a C compute function and takes over the `malloc`ed JSON text it returns.
fn compute(
    f: unsafe extern "C" fn(*mut c_void) -> *mut c_char,
    user_data: &UserData,
) -> ComputedValue {
    // SAFETY: the caller registered `f` with this user_data, callable from any thread.
    let ptr = unsafe { f(user_data.ptr()) };
    // SAFETY: the compute function's contract: NULL or a NUL-terminated string from malloc,
    // handed over to the library.
    unsafe { take_json(ptr, "the compute function") }
}

/// Creates a computed whose value is the JSON text `compute(user_data)` returns. It runs at the
/// first `mizu_computed_get`, and again at a later get only after something it read changed.
///
/// `compute` returns JSON text in memory from `malloc` (`strdup`, `asprintf`, ...): the library
/// takes it over and releases it with `free`.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `compute` or `out` is NULL.
///
/// # Ownership
/// `*out` receives a new handle the caller frees with `mizu_computed_free` (NULL on error).
/// `release` (may be NULL) is called once with `user_data` when `compute` will never be called
/// again: after the handle is freed, or before this function returns if it fails.
///
/// # Threading
/// `compute` runs on the thread that reads the value, never on two threads at once.
#[no_mangle]
pub extern "C" fn mizu_computed_new(
    compute_fn: MizuComputeFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuComputed,
) -> MizuStatus {
    call(|| {
        let user_data = UserData::new(user_data, release);
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let f = compute_fn.ok_or_else(|| CError::invalid("compute is NULL"))?;
        let computed = Computed::new(move || compute(f, &user_data));
        out.set(issue(Object::Computed(computed)));
        Ok(())
    })
}

/// Stores the computed's value as JSON text in `*out`, computing it if needed.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` or `MIZU_ERR_INVALID_JSON` when the compute function returned
/// NULL or text that is not JSON; `MIZU_ERR_PANIC` when the computed reads itself (a cycle).
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside another computed or an effect.
#[no_mangle]
pub extern "C" fn mizu_computed_get(
    computed: *const MizuComputed,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a string pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let computed = handle_types::computed(computed)?;
        let text =
            computed.with(|value| value.as_ref().map(Value::to_string).map_err(Clone::clone))?;
        out.set(give(&text));
        Ok(())
    })
}

/// Frees a computed handle. Freeing NULL does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not a computed handle.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_computed_free(computed: *mut MizuComputed) -> MizuStatus {
    call(|| handle_types::free(computed, "computed"))
}

/// Creates an effect: runs `run(user_data)` once now, on this thread, then again after every
/// change of what it read in its last run.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `run` or `out` is NULL.
///
/// # Ownership
/// `*out` receives a new handle the caller frees with `mizu_effect_free`, which stops the
/// effect (NULL on error). `release` (may be NULL) is called once with `user_data` when `run`
/// will never be called again, or before this function returns if it fails.
///
/// # Threading
/// `run` runs on the thread whose write woke it: the writing thread for local writes, the sync
/// thread for server changes; never on two threads at once.
#[no_mangle]
pub extern "C" fn mizu_effect_new(
    run: MizuVoidFn,
    user_data: *mut c_void,
    release: MizuReleaseFn,
    out: *mut *mut MizuEffect,
) -> MizuStatus {
    call(|| {
        let user_data = UserData::new(user_data, release);
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let f = run.ok_or_else(|| CError::invalid("run is NULL"))?;
        // SAFETY: the caller registered `f` with this user_data, callable from any thread.
        let effect = Effect::new(move || unsafe { f(user_data.ptr()) });
        out.set(issue(Object::Effect(effect)));
        Ok(())
    })
}

/// Stops the effect and frees its handle. A run in progress on another thread finishes; then
/// `release` is called. Freeing NULL does nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when already freed; `MIZU_ERR_INVALID_ARGUMENT` when not an effect handle.
///
/// # Threading
/// Any thread, including the effect's own `run`.
#[no_mangle]
pub extern "C" fn mizu_effect_free(effect: *mut MizuEffect) -> MizuStatus {
    call(|| handle_types::free(effect, "effect"))
}

/// Runs `f(user_data)` as one batch: effects woken by its writes run once, after it returns.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `f` is NULL.
///
/// # Threading
/// Batches are per thread: only this thread's writes are deferred.
#[no_mangle]
pub extern "C" fn mizu_batch(f: MizuVoidFn, user_data: *mut c_void) -> MizuStatus {
    call(|| {
        let f = f.ok_or_else(|| CError::invalid("f is NULL"))?;
        // SAFETY: the caller passes a function to be called with this user_data, now.
        batch(|| unsafe { f(user_data) });
        Ok(())
    })
}

/// Runs `f(user_data)` without tracking: reads it makes inside a computed or an effect do not
/// become dependencies.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `f` is NULL.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_untracked(f: MizuVoidFn, user_data: *mut c_void) -> MizuStatus {
    call(|| {
        let f = f.ok_or_else(|| CError::invalid("f is NULL"))?;
        // SAFETY: the caller passes a function to be called with this user_data, now.
        untrack(|| unsafe { f(user_data) });
        Ok(())
    })
}
