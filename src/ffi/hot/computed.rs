//! Direct reads of a [`Computed`]: like a signal's, with the version of the value the computed
//! holds, so a binding skips copying a value it already has.

use std::cell::RefCell;
use std::sync::Arc;

use super::signal::{read_versioned, watch_values, HotValueFn};
use super::{guard, issue, lend, release, take_callback_error, text, value};
use crate::ffi::error::MizuError;
use crate::ffi::signal::canonical;
use crate::ffi::Computed;

#[uniffi::export]
impl Computed {
    /// A hot handle for the bindings' direct calls (`src/ffi/hot`): a strong reference the
    /// caller gives back with `mizu_hot_computed_release`. Not for apps.
    pub fn hot_handle(self: Arc<Self>) -> u64 {
        issue(self)
    }
}

/// Gives back a hot handle of a computed (0 is ignored).
///
/// # Safety
/// `computed` came from `Computed.hot_handle()` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_computed_release(computed: u64) {
    // SAFETY: forwarded from this function's contract.
    unsafe { release::<Computed>(computed) }
}

/// Reads the computed (tracked when `tracked` is non-zero), computing it first when what it
/// read changed. As `mizu_hot_signal_get`: [`tag::UNCHANGED`](super::value::tag::UNCHANGED)
/// when it still holds `known_version`, else the value's tag with its payload and version in
/// the slot; negative on error, also when its function failed (the error it returned is then
/// the one `take_hot_error` raises).
///
/// # Safety
/// `computed` is a live hot handle of a computed.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_computed_get(
    computed: u64,
    tracked: i32,
    known_version: u64,
) -> i32 {
    guard(-1, || {
        // SAFETY: forwarded from this function's contract.
        let core = unsafe { lend::<Computed>(computed) }?.core()?;
        let current = if tracked != 0 {
            core.get()
        } else {
            core.peek()
        }?;
        Ok(read_versioned(&current, known_version))
    })
}

/// A host computed function: called with the binding's `token`, it gives its value with one
/// `mizu_hot_result_*` call and returns 0, or returns non-zero after
/// `mizu_hot_callback_error` / `hot_callback_error` (the read then fails with that error).
pub type HotComputeFn = extern "C" fn(token: u64) -> i32;

thread_local! {
    /// The value the innermost running host computed function gave (taken as it returns, so
    /// computeds that read other computeds nest).
    static RESULT: RefCell<Option<Result<Arc<str>, MizuError>>> = const { RefCell::new(None) };
}

fn give(result: Result<Arc<str>, MizuError>) {
    RESULT.with(|r| *r.borrow_mut() = Some(result));
}

/// Creates a computed whose function is `compute(token)`, run lazily (on the first read and on
/// the first read after what it read changed) inside the library's tracking context. Returns
/// its hot handle (also its only handle: read, subscribe, close and release it with the
/// `mizu_hot_computed_*` calls); 0 on error.
///
/// # Safety
/// `compute` stays callable until the computed is closed or released.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_computed_new(compute: HotComputeFn, token: u64) -> u64 {
    guard(0, || {
        Ok(issue(Computed::from_fn(move || {
            if compute(token) != 0 {
                // A result given before failing is dropped with the failure.
                RESULT.with(|r| r.borrow_mut().take());
                return Err(take_callback_error());
            }
            RESULT.with(|r| r.borrow_mut().take()).unwrap_or_else(|| {
                Err(MizuError::Internal {
                    reason: "the computed function gave no value".to_owned(),
                })
            })
        })))
    })
}

/// The value of the running computed function: JSON `null`.
#[no_mangle]
pub extern "C" fn mizu_hot_result_null() {
    give(Ok("null".into()));
}

/// The value of the running computed function: `false` (0) or `true`.
#[no_mangle]
pub extern "C" fn mizu_hot_result_bool(value: i32) {
    give(Ok(if value != 0 { "true" } else { "false" }.into()));
}

/// The value of the running computed function: the integer `value`.
#[no_mangle]
pub extern "C" fn mizu_hot_result_int(value: i64) {
    give(Ok(value.to_string().into()));
}

/// The value of the running computed function: the number `value` (NaN and the infinities make
/// the read fail with `InvalidJson`).
#[no_mangle]
pub extern "C" fn mizu_hot_result_float(value: f64) {
    give(value::float_text(value));
}

/// The value of the running computed function: the string of the `len` UTF-8 bytes at `ptr`.
///
/// # Safety
/// `ptr` is valid for reading `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_result_string(ptr: *const u8, len: u64) {
    // SAFETY: forwarded from this function's contract.
    give(unsafe { text(ptr, len, "value") }.map(value::string_text));
}

/// The value of the running computed function: the JSON text of the `len` bytes at `ptr` (the
/// read fails with `InvalidJson` when it is not JSON).
///
/// # Safety
/// `ptr` is valid for reading `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_result_json(ptr: *const u8, len: u64) {
    // SAFETY: forwarded from this function's contract.
    give(unsafe { text(ptr, len, "value_json") }.and_then(canonical));
}

/// As `mizu_hot_signal_subscribe`, for a computed.
///
/// # Safety
/// `computed` is a live hot handle of a computed; `listener` stays callable until the
/// subscription is cancelled.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_computed_subscribe(
    computed: u64,
    listener: HotValueFn,
    token: u64,
) -> u64 {
    guard(0, || {
        // SAFETY: forwarded from this function's contract.
        let computed = unsafe { lend::<Computed>(computed) }?;
        let core = computed.core()?;
        let subscription = watch_values(move || core.get().map(|v| v.text), listener, token);
        Ok(issue(computed.keep(subscription)))
    })
}

/// Closes the computed (like `Computed.close`): its subscriptions are cancelled, its function
/// is released, and later reads fail with `Closed`. Idempotent.
///
/// # Safety
/// `computed` is a live hot handle of a computed.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_computed_close(computed: u64) {
    guard((), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { lend::<Computed>(computed) }?.close();
        Ok(())
    });
}
