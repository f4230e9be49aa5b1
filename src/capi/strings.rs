//! Strings handed to C, and [`mizu_string_free`].
//!
//! Every string the library returns through an out-parameter is registered here until it is
//! freed, so that freeing one twice, or freeing a pointer the library never returned, is an
//! error code rather than heap corruption (detected as long as the allocator has not since
//! reused the address for another string of ours).

use std::collections::BTreeSet;
use std::ffi::{c_char, CString};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::boundary::call;
use super::status::{c_text, CError, MizuStatus};

static LIVE: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn live() -> MutexGuard<'static, BTreeSet<usize>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hands `text` to C as a new NUL-terminated string that C frees with [`mizu_string_free`].
pub(crate) fn give(text: &str) -> *mut c_char {
    let ptr = c_text(text).into_raw();
    live().insert(ptr.addr());
    ptr
}

/// How many strings were returned and not yet freed.
pub(crate) fn count() -> usize {
    live().len()
}

/// Frees a string returned by this library (through any `char **out` parameter).
///
/// Freeing NULL does nothing and returns `MIZU_OK`.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when `string` was not returned by this library or was already
/// freed (detected unless the address has since been reused for another returned string); the
/// pointer is then left alone.
///
/// # Ownership
/// Takes ownership of `string`; do not use it afterwards. Never pass a string returned by this
/// library to `free()`, nor a `malloc`ed one here.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_string_free(string: *mut c_char) -> MizuStatus {
    call(|| {
        if string.is_null() {
            return Ok(());
        }
        let known = live().remove(&string.addr());
        if !known {
            return Err(CError::invalid(
                "not a string returned by mizu-sync, or already freed",
            ));
        }
        // SAFETY: the address was registered by `give`, which got it from `CString::into_raw`,
        // and was just unregistered, so this is the one and only `from_raw` for it.
        drop(unsafe { CString::from_raw(string) });
        Ok(())
    })
}
