//! [`BatchScope`]: a batch opened and ended by explicit calls, for host languages whose natural
//! form is a block (`with batch():` in Python) rather than a closure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use crate::ffi::error::MizuError;
use crate::reactive;

/// A batch that is open until [`BatchScope::end`]: effects triggered by this thread's writes
/// wait until the outermost batch ends, then run once each.
///
/// # Threading
/// A batch belongs to the thread that began it and must be ended there; ending it on another
/// thread is refused. Released without `end` (by the host's garbage collector), it ends only if
/// that happens on its own thread: always call `end` (the wrappers do, in a `finally`).
#[derive(Debug, uniffi::Object)]
pub struct BatchScope {
    thread: ThreadId,
    open: AtomicBool,
}

/// Begins a batch on the calling thread; end it with [`BatchScope::end`] on the same thread.
#[uniffi::export]
pub fn begin_batch() -> Arc<BatchScope> {
    reactive::enter_batch();
    Arc::new(BatchScope {
        thread: thread::current().id(),
        open: AtomicBool::new(true),
    })
}

#[uniffi::export]
impl BatchScope {
    /// Ends the batch (idempotent); the outermost batch of the thread runs the deferred effects.
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] when called on another thread than the one that began it.
    pub fn end(&self) -> Result<(), MizuError> {
        if thread::current().id() != self.thread {
            return Err(MizuError::InvalidArgument {
                reason: "a batch must end on the thread that began it".into(),
            });
        }
        if self.open.swap(false, Ordering::AcqRel) {
            reactive::exit_batch();
        }
        Ok(())
    }
}

impl Drop for BatchScope {
    fn drop(&mut self) {
        if *self.open.get_mut() && thread::current().id() == self.thread {
            reactive::exit_batch();
        }
    }
}
