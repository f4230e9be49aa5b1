//! Direct calls on a [`Signal`]: typed reads and writes, with versions so a binding can keep
//! the last value it saw and skip copying it again.

use std::sync::Arc;

use super::value::{self, tag};
use super::{guard, issue, lend, release, text, with_slot};
use crate::ffi::error::MizuError;
use crate::ffi::listener_list::report_unhandled;
use crate::ffi::signal::{canonical, Versioned};
use crate::ffi::subscription::{watch, Subscription};
use crate::ffi::Signal;
use crate::reactive::untrack;

/// A listener's C function: `token`, then the value as a [`tag`] and its payload (`ptr` /
/// `len` valid for this call only). Returns 0, or non-zero after `mizu_hot_callback_error`.
pub type HotValueFn =
    extern "C" fn(token: u64, tag: i32, int: i64, float: f64, ptr: *const u8, len: u64) -> i32;

#[uniffi::export]
impl Signal {
    /// A hot handle for the bindings' direct calls (`src/ffi/hot`): a strong reference
    /// the caller gives back with `mizu_hot_signal_release`. Not for apps.
    pub fn hot_handle(self: Arc<Self>) -> u64 {
        issue(self)
    }
}

/// Gives back a hot handle of a signal (0 is ignored).
///
/// # Safety
/// `signal` came from `Signal.hot_handle()` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_release(signal: u64) {
    // SAFETY: forwarded from this function's contract.
    unsafe { release::<Signal>(signal) }
}

/// Reads the signal (tracked when `tracked` is non-zero). Returns [`tag::UNCHANGED`] when it
/// still holds `known_version`, else the value's tag, its payload in the slot and its version
/// in the slot's `version`; negative on error.
///
/// # Safety
/// `signal` is a live hot handle of a signal.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_get(signal: u64, tracked: i32, known_version: u64) -> i32 {
    guard(-1, || {
        // SAFETY: forwarded from this function's contract.
        let core = unsafe { lend::<Signal>(signal) }?.core()?;
        let current = if tracked != 0 {
            core.get()
        } else {
            core.peek()
        };
        Ok(read_versioned(&current, known_version))
    })
}

/// [`tag::UNCHANGED`] when `current` is at `known_version`; else fills the slot with it and
/// its version and returns its tag.
pub(super) fn read_versioned(current: &Versioned, known_version: u64) -> i32 {
    if current.version == known_version {
        return tag::UNCHANGED;
    }
    let decoded = value::decode(&current.text);
    with_slot(|slot| {
        slot.version = current.version;
        value::fill(slot, &decoded)
    })
}

/// Stores `text` unless the signal holds equal text; returns the version the signal now holds.
fn store(signal: u64, text: impl FnOnce() -> Result<Arc<str>, MizuError>) -> i64 {
    guard(-1, || {
        // SAFETY: every caller is a direct call whose contract makes `signal` a live handle.
        let core = unsafe { lend::<Signal>(signal) }?.core()?;
        let next = Versioned::new(text()?);
        let mut held = next.version;
        core.update(|current| {
            if *current == next {
                held = current.version;
                current.clone()
            } else {
                held = next.version;
                next.clone()
            }
        });
        i64::try_from(held).map_err(|_| MizuError::Internal {
            reason: "signal versions ran out".to_owned(),
        })
    })
}

/// Sets the signal to JSON `null`. Returns the version it now holds (unchanged when it held
/// `null` already), negative on error. Dependents run on this thread before this returns.
///
/// # Safety
/// `signal` is a live hot handle of a signal.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_null(signal: u64) -> i64 {
    store(signal, || Ok("null".into()))
}

/// Sets the signal to `false` (0) or `true` (anything else). As [`mizu_hot_signal_set_null`].
///
/// # Safety
/// `signal` is a live hot handle of a signal.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_bool(signal: u64, value: i32) -> i64 {
    store(signal, || {
        Ok(if value != 0 { "true" } else { "false" }.into())
    })
}

/// Sets the signal to the integer `value`. As [`mizu_hot_signal_set_null`].
///
/// # Safety
/// `signal` is a live hot handle of a signal.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_int(signal: u64, value: i64) -> i64 {
    store(signal, || Ok(value.to_string().into()))
}

/// Sets the signal to the number `value` (NaN and the infinities fail: JSON cannot hold
/// them). As [`mizu_hot_signal_set_null`].
///
/// # Safety
/// `signal` is a live hot handle of a signal.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_float(signal: u64, value: f64) -> i64 {
    store(signal, || value::float_text(value))
}

/// Sets the signal to the string of the `len` UTF-8 bytes at `ptr`. As
/// [`mizu_hot_signal_set_null`].
///
/// # Safety
/// `signal` is a live hot handle of a signal; `ptr` is valid for reading `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_string(signal: u64, ptr: *const u8, len: u64) -> i64 {
    // SAFETY: forwarded from this function's contract.
    store(signal, || {
        Ok(value::string_text(unsafe { text(ptr, len, "value") }?))
    })
}

/// Sets the signal to the JSON text of the `len` bytes at `ptr` (`MizuError::InvalidJson`
/// when it is not JSON). As [`mizu_hot_signal_set_null`].
///
/// # Safety
/// `signal` is a live hot handle of a signal; `ptr` is valid for reading `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_set_json(signal: u64, ptr: *const u8, len: u64) -> i64 {
    // SAFETY: forwarded from this function's contract.
    store(signal, || {
        canonical(unsafe { text(ptr, len, "value_json") }?)
    })
}

/// Calls `listener(token, value…)` with the value now, then after each change, on the thread
/// that made it, until the subscription is cancelled (`mizu_hot_subscription_cancel`) or the
/// signal is closed. Returns the subscription's hot handle, 0 on error.
///
/// # Safety
/// `signal` is a live hot handle of a signal; `listener` stays callable until the subscription
/// is cancelled.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_signal_subscribe(
    signal: u64,
    listener: HotValueFn,
    token: u64,
) -> u64 {
    guard(0, || {
        // SAFETY: forwarded from this function's contract.
        let signal = unsafe { lend::<Signal>(signal) }?;
        let core = signal.core()?;
        let subscription = watch_values(move || Ok(core.get().text), listener, token);
        Ok(issue(signal.keep(subscription)))
    })
}

/// Runs `read` in an effect and calls `listener(token, value…)` with each result (the value
/// decoded, its bytes valid for the call only); the effect stops with the subscription.
pub(super) fn watch_values(
    read: impl FnMut() -> Result<Arc<str>, MizuError> + Send + 'static,
    listener: HotValueFn,
    token: u64,
) -> Arc<Subscription> {
    watch(
        read,
        move |text| {
            let value = value::decode(&text);
            let (ptr, len) = value
                .bytes
                .as_deref()
                .map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len() as u64));
            // The listener's own reads must not become dependencies of this watcher.
            let status = untrack(|| listener(token, value.tag, value.int, value.float, ptr, len));
            if status == 0 {
                Ok(())
            } else {
                Err(super::take_callback_error())
            }
        },
        report_unhandled,
    )
}

/// Cancels a subscription made by a direct call: its function is not called again once this
/// returns (a call running on another thread finishes). Idempotent.
///
/// # Safety
/// `subscription` is a live hot handle of a subscription.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_subscription_cancel(subscription: u64) {
    guard((), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { lend::<Subscription>(subscription) }?.cancel();
        Ok(())
    });
}

/// Whether the subscription is cancelled (by `mizu_hot_subscription_cancel`, or because its
/// signal was closed): 1 or 0, negative on error.
///
/// # Safety
/// `subscription` is a live hot handle of a subscription.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_subscription_is_cancelled(subscription: u64) -> i32 {
    guard(-1, || {
        // SAFETY: forwarded from this function's contract.
        let subscription = unsafe { lend::<Subscription>(subscription) }?;
        Ok(i32::from(subscription.is_cancelled()))
    })
}

/// Gives back a subscription's hot handle, cancelling it (0 is ignored).
///
/// # Safety
/// `subscription` came from a direct `*_subscribe` call and is not used again.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_subscription_release(subscription: u64) {
    guard((), || {
        // SAFETY: forwarded from this function's contract.
        if let Ok(s) = unsafe { lend::<Subscription>(subscription) } {
            s.cancel();
        }
        // SAFETY: forwarded from this function's contract.
        unsafe { release::<Subscription>(subscription) };
        Ok(())
    });
}
