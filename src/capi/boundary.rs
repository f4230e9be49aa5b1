//! Crossing the boundary: every exported function runs its body through [`call`], which catches
//! panics and records the last-error message; C strings and out-parameters are read and written
//! only here.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::Value;

use super::status::{set_last_error, CError, MizuStatus};
use crate::ffi::panic_message;

/// Runs `body`, turning its error or a panic into a status and this thread's last-error message.
pub(crate) fn call(body: impl FnOnce() -> Result<(), CError>) -> MizuStatus {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        Err(CError::new(
            MizuStatus::MizuErrPanic,
            format!("panic inside mizu-sync: {}", panic_message(&*panic)),
        ))
    });
    match outcome {
        Ok(()) => {
            set_last_error("");
            MizuStatus::MizuOk
        }
        Err(e) => {
            set_last_error(&e.message);
            e.status
        }
    }
}

/// Borrows the NUL-terminated UTF-8 string `ptr` (the argument named `what`).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and unchanged for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, CError> {
    if ptr.is_null() {
        return Err(CError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: not NULL, and the caller guarantees a NUL-terminated string valid for 'a.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes
        .to_str()
        .map_err(|e| CError::invalid(format!("{what} is not UTF-8: {e}")))
}

/// Parses the JSON text `ptr` (the argument named `what`).
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn json(ptr: *const c_char, what: &str) -> Result<Value, CError> {
    // SAFETY: forwarded from this function's own contract.
    let text = unsafe { text(ptr, what) }?;
    serde_json::from_str(text).map_err(|e| {
        CError::new(
            MizuStatus::MizuErrInvalidJson,
            format!("{what} is not valid JSON: {e}"),
        )
    })
}

/// An out-parameter, checked not to be NULL and cleared (to its zero value) up front, so that
/// the caller finds NULL, 0 or false there after any error.
pub(crate) struct Out<T: Copy> {
    ptr: *mut T,
}

impl<T: Copy> Out<T> {
    /// Checks and clears `ptr` (the argument named `what`).
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writing one `T` until the exported call returns.
    pub(crate) unsafe fn new(ptr: *mut T, what: &str, zero: T) -> Result<Self, CError> {
        if ptr.is_null() {
            return Err(CError::invalid(format!("{what} is NULL")));
        }
        // SAFETY: not NULL, and the caller guarantees it is valid for writing a T.
        unsafe { ptr.write(zero) };
        Ok(Out { ptr })
    }

    /// Stores the result.
    pub(crate) fn set(self, value: T) {
        // SAFETY: checked in `new`, whose contract covers the whole exported call.
        unsafe { self.ptr.write(value) };
    }
}

/// The number a handle pointer stands for (see `handle_table`). Never dereferenced.
pub(crate) fn handle_id<T>(ptr: *const T) -> usize {
    ptr.addr()
}

/// The opaque pointer that stands for handle number `id`. Never dereferenced.
pub(crate) fn handle_ptr<T>(id: usize) -> *mut T {
    std::ptr::without_provenance_mut(id)
}
