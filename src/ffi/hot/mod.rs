//! Direct calls: the bindings' fast path for the hottest operations, over the plain C ABI.
//!
//! UniFFI's generated code is the source of every API, but each of its calls costs several
//! crossings (a handle clone, a call-status struct, a buffer per string), 4–40 µs from Python
//! and Kotlin. The few operations a reactive UI makes hundreds of times per frame (a signal's
//! read and write, a computed's read and run, an entity's read and write, an effect's or
//! listener's run) are also exported here as `extern "C"` functions that take and return plain
//! numbers and byte slices, one crossing each. The Python (ctypes), Kotlin (JNA direct mapping)
//! and Swift (C import) wrappers call them; apps never do. Not a stable API: the bindings ship
//! with the library they were built with.
//!
//! # Handles
//!
//! A binding asks an object for its hot handle once (`Signal.hot_handle()`,
//! `Computed.hot_handle()`, `Collection.hot_handle()`, generated UniFFI methods; or
//! `mizu_hot_computed_new`, `mizu_hot_effect_new`, `mizu_hot_*_subscribe`): a strong reference
//! of its own, which it passes to every direct call and gives back exactly once with the
//! matching `mizu_hot_*_release` when its wrapper is finalized. Closing the object (`close`)
//! does not release the handle: direct calls on a closed object fail with `MizuError::Closed`,
//! as the generated calls do, so a call racing a close on another thread is an error, never a
//! use-after-free.
//!
//! # Values
//!
//! A value read crosses as a [`tag`](value::tag) (the return value) plus a payload in the
//! calling thread's [`HotSlot`], whose address `mizu_hot_slot()` gives once per thread: a number
//! in `int` or `float`, or UTF-8 bytes at `ptr` / `len` (a string's characters, or JSON text for
//! arrays, objects and numbers outside `i64` / `f64`). The bytes stay valid until the next
//! direct call on the same thread: copy them first. A signal's and a computed's values carry a
//! version (one process-wide counter): a read given the version the caller already has returns
//! `UNCHANGED` and copies nothing.
//!
//! # Errors
//!
//! A direct call that fails returns a negative number and keeps the error for this thread; the
//! binding then calls the generated [`take_hot_error`], which raises it as the typed `MizuError`
//! of its language. No panic crosses: one is caught and kept as [`MizuError::Internal`].
//!
//! # Callbacks
//!
//! Effects and listeners registered here call a C function pointer with the binding's `token`
//! (its own key for the host function). The callback returns 0, or non-zero after calling
//! [`mizu_hot_callback_error`] with a message (or the generated [`hot_callback_error`] with a
//! typed error, so that a `MizuError` the host code threw keeps its case): the error then goes
//! to [`crate::ffi::on_unhandled_error`], as a failing generated callback's does.

// The one other place besides `capi` where the crate speaks the C ABI: raw pointers and
// exported symbols are the point. Every unsafe block states why it is sound.
#![allow(unsafe_code)]

mod collection;
mod computed;
mod effect;
mod signal;
#[cfg(test)]
mod tests;
mod value;

use std::cell::{RefCell, UnsafeCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::ffi::error::{panic_message, MizuError};

/// The payload of the last value read by a direct call on this thread (see the module docs).
#[repr(C)]
#[derive(Debug)]
pub struct HotSlot {
    /// The value of a [`tag::INT`](value::tag::INT).
    pub int: i64,
    /// The value of a [`tag::FLOAT`](value::tag::FLOAT).
    pub float: f64,
    /// The bytes of a [`tag::STRING`](value::tag::STRING) or [`tag::JSON`](value::tag::JSON)
    /// (valid until the next direct call on this thread).
    pub ptr: *const u8,
    /// How many bytes `ptr` points to.
    pub len: u64,
    /// The version of the signal value just read (`mizu_hot_signal_get`).
    pub version: u64,
}

thread_local! {
    static SLOT: UnsafeCell<HotSlot> = const {
        UnsafeCell::new(HotSlot { int: 0, float: 0.0, ptr: std::ptr::null(), len: 0, version: 0 })
    };
    /// Backs `HotSlot::ptr`.
    static BYTES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The error of this thread's last failed direct call, for [`take_hot_error`].
    static LAST_ERROR: RefCell<Option<MizuError>> = const { RefCell::new(None) };
    /// The error a failing callback left with [`mizu_hot_callback_error`] or
    /// [`hot_callback_error`].
    static CALLBACK_ERROR: RefCell<Option<MizuError>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's slot. Only direct calls write it, and only on their own thread.
fn with_slot<R>(f: impl FnOnce(&mut HotSlot) -> R) -> R {
    // SAFETY: the slot is this thread's; the host reads it only between direct calls on this
    // same thread, and no reference to it outlives this call.
    SLOT.with(|slot| f(unsafe { &mut *slot.get() }))
}

/// Copies `bytes` into this thread's byte buffer and points the slot at them.
fn put_bytes(slot: &mut HotSlot, bytes: &[u8]) {
    BYTES.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        buffer.extend_from_slice(bytes);
        slot.ptr = buffer.as_ptr();
        slot.len = buffer.len() as u64;
    });
}

/// The address of the calling thread's [`HotSlot`], stable for the thread's life.
#[no_mangle]
pub extern "C" fn mizu_hot_slot() -> *mut HotSlot {
    SLOT.with(UnsafeCell::get)
}

/// Does nothing: the floor of a direct call, for benchmarks.
#[no_mangle]
pub extern "C" fn mizu_hot_noop() -> i32 {
    0
}

/// Called by a failing callback, before it returns non-zero, with why it failed (UTF-8, not
/// NUL-terminated).
///
/// # Safety
/// `ptr` is valid for reading `len` bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_callback_error(ptr: *const u8, len: u64) {
    // SAFETY: forwarded from this function's contract.
    let reason = unsafe { bytes(ptr, len) }
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    CALLBACK_ERROR.with(|e| *e.borrow_mut() = Some(MizuError::Callback { reason }));
}

/// Called by a failing direct callback, before it returns non-zero, with the typed error it
/// failed with (the typed form of `mizu_hot_callback_error`: a `MizuError` the host code
/// threw keeps its case, as through a generated callback). Not for apps.
#[uniffi::export]
pub fn hot_callback_error(error: MizuError) {
    CALLBACK_ERROR.with(|e| *e.borrow_mut() = Some(error));
}

/// The error a failing callback left on this thread (taken), or a generic
/// [`MizuError::Callback`] when it left none.
fn take_callback_error() -> MizuError {
    CALLBACK_ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or_else(|| MizuError::Callback {
            reason: "a callback failed".to_owned(),
        })
}

/// Raises the error of this thread's last failed direct call (the bindings call it when a
/// direct call returned a negative number). Not for apps.
///
/// # Errors
/// Always: that error, or [`MizuError::Internal`] when no direct call failed on this thread.
#[uniffi::export]
pub fn take_hot_error() -> Result<(), MizuError> {
    Err(LAST_ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or_else(|| MizuError::Internal {
            reason: "no direct call failed on this thread".to_owned(),
        }))
}

/// Runs the body of a direct call: its error or a panic is kept for [`take_hot_error`] and
/// becomes `failed`.
fn guard<R>(failed: R, body: impl FnOnce() -> Result<R, MizuError>) -> R {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        Err(MizuError::Internal {
            reason: format!("panic inside mizu-sync: {}", panic_message(&*panic)),
        })
    });
    outcome.unwrap_or_else(|error| {
        LAST_ERROR.with(|e| *e.borrow_mut() = Some(error));
        failed
    })
}

/// Borrows `len` bytes at `ptr` (a NULL `ptr` is fine when `len` is 0).
///
/// # Safety
/// `ptr` is valid for reading `len` bytes for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: u64) -> Result<&'a [u8], MizuError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(MizuError::InvalidArgument {
            reason: "a NULL pointer with a non-zero length".to_owned(),
        });
    }
    let len = usize::try_from(len).map_err(|_| MizuError::InvalidArgument {
        reason: "a length larger than the address space".to_owned(),
    })?;
    // SAFETY: not NULL, and the caller guarantees `len` readable bytes for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes at `ptr` as UTF-8 text (the argument named `what`).
///
/// # Safety
/// As [`bytes`].
unsafe fn text<'a>(ptr: *const u8, len: u64, what: &str) -> Result<&'a str, MizuError> {
    // SAFETY: forwarded from this function's contract.
    let raw = unsafe { bytes(ptr, len) }?;
    std::str::from_utf8(raw).map_err(|e| MizuError::InvalidArgument {
        reason: format!("{what} is not UTF-8: {e}"),
    })
}

/// A hot handle: a strong reference the binding owns, as a number.
fn issue<T>(object: Arc<T>) -> u64 {
    Arc::into_raw(object) as u64
}

/// Lends the object behind a hot handle for one call.
///
/// # Safety
/// `handle` came from [`issue`] with the same `T` and was not released yet.
unsafe fn lend<'a, T>(handle: u64) -> Result<&'a T, MizuError> {
    let ptr = handle as *const T;
    if ptr.is_null() {
        return Err(MizuError::InvalidArgument {
            reason: "a zero hot handle".to_owned(),
        });
    }
    // SAFETY: the binding holds the strong reference `issue` leaked until it releases it.
    Ok(unsafe { &*ptr })
}

/// Gives back the strong reference behind a hot handle (0 is ignored).
///
/// # Safety
/// As [`lend`]; the handle is not used again.
unsafe fn release<T>(handle: u64) {
    if handle != 0 {
        // SAFETY: the binding gives back the reference `issue` leaked, exactly once.
        drop(unsafe { Arc::from_raw(handle as *const T) });
    }
}
