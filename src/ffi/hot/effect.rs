//! Direct effects: a C function pointer the graph re-runs, with no generated callback layer in
//! between.

use std::sync::{Arc, Mutex, PoisonError};

use super::{guard, issue, lend, release, take_callback_error};
use crate::ffi::listener_list::report_unhandled;
use crate::reactive::Effect;

/// An effect's C function: called with the binding's `token`; returns 0, or non-zero after
/// `mizu_hot_callback_error`.
pub type HotEffectFn = extern "C" fn(token: u64) -> i32;

/// The effect behind a hot handle, until stopped.
struct HotEffect {
    effect: Mutex<Option<Effect>>,
}

impl HotEffect {
    fn stop(&self) {
        let effect = self
            .effect
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Stopped outside the lock: stopping runs the effect's cleanups.
        if let Some(effect) = effect {
            effect.stop();
        }
    }
}

/// Creates an effect that calls `run(token)` now, on this thread, then again after every
/// change of what that call read through the library, on the thread that made the change.
/// Returns its hot handle (stop it with `mizu_hot_effect_stop`, give it back with
/// `mizu_hot_effect_release`); 0 on error.
///
/// # Safety
/// `run` stays callable until the effect is stopped or released.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_effect_new(run: HotEffectFn, token: u64) -> u64 {
    guard(0, || {
        let effect = Effect::new(move || {
            if run(token) != 0 {
                report_unhandled(take_callback_error());
            }
        });
        Ok(issue(Arc::new(HotEffect {
            effect: Mutex::new(Some(effect)),
        })))
    })
}

/// Stops the effect: it never runs again once this returns (a run in progress on another
/// thread finishes). Idempotent.
///
/// # Safety
/// `effect` is a live hot handle of an effect.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_effect_stop(effect: u64) {
    guard((), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { lend::<HotEffect>(effect) }?.stop();
        Ok(())
    });
}

/// Stops the effect and gives back its hot handle (0 is ignored).
///
/// # Safety
/// `effect` came from `mizu_hot_effect_new` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn mizu_hot_effect_release(effect: u64) {
    guard((), || {
        // SAFETY: forwarded from this function's contract.
        if let Ok(e) = unsafe { lend::<HotEffect>(effect) } {
            e.stop();
        }
        // SAFETY: forwarded from this function's contract.
        unsafe { release::<HotEffect>(effect) };
        Ok(())
    });
}
