//! Direct reads of a [`Computed`]: like a signal's, with the version of the value the computed
//! holds, so a binding skips copying a value it already has.

use std::sync::Arc;

use super::{guard, issue, lend, release, signal::read_versioned};
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
            core.get_untracked()
        }?;
        Ok(read_versioned(&current, known_version))
    })
}
