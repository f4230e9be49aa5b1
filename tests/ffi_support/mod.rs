//! Rust implementations of the FFI's foreign traits, recording what they receive, as a host
//! language would implement them.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use mizu_sync::ffi::{
    BatchFn, CollectionChange, CollectionListener, ComputedFn, EffectFn, EntityListener,
    ErrorListener, MizuError, RejectedMutation, RejectionListener, SignalListener, SyncListener,
};

/// Everything a listener received, in order.
#[derive(Debug)]
pub struct Record<T>(pub Mutex<Vec<T>>);

impl<T: Clone> Record<T> {
    pub fn new() -> Arc<Self> {
        Arc::new(Record(Mutex::new(Vec::new())))
    }

    pub fn push(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }

    pub fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A listener that records values, and fails with `fail` when it is set.
#[derive(Debug)]
pub struct Recorder<T> {
    pub seen: Arc<Record<T>>,
    pub fail: Option<MizuError>,
}

impl<T: Clone> Recorder<T> {
    pub fn new() -> (Arc<Self>, Arc<Record<T>>) {
        let seen = Record::new();
        (
            Arc::new(Recorder {
                seen: seen.clone(),
                fail: None,
            }),
            seen,
        )
    }

    pub fn failing(error: MizuError) -> (Arc<Self>, Arc<Record<T>>) {
        let seen = Record::new();
        (
            Arc::new(Recorder {
                seen: seen.clone(),
                fail: Some(error),
            }),
            seen,
        )
    }

    fn take(&self, value: T) -> Result<(), MizuError> {
        self.seen.push(value);
        match &self.fail {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

impl SignalListener for Recorder<String> {
    fn on_change(&self, value_json: String) -> Result<(), MizuError> {
        self.take(value_json)
    }
}

impl EntityListener for Recorder<Option<String>> {
    fn on_change(&self, value_json: Option<String>) -> Result<(), MizuError> {
        self.take(value_json)
    }
}

impl CollectionListener for Recorder<CollectionChange> {
    fn on_change(&self, change: CollectionChange) -> Result<(), MizuError> {
        self.take(change)
    }
}

impl SyncListener for Recorder<u64> {
    fn on_sync(&self, cursor: u64) -> Result<(), MizuError> {
        self.take(cursor)
    }
}

impl ErrorListener for Recorder<MizuError> {
    fn on_error(&self, error: MizuError) -> Result<(), MizuError> {
        self.take(error)
    }
}

impl RejectionListener for Recorder<RejectedMutation> {
    fn on_rejected(&self, mutation: RejectedMutation) -> Result<(), MizuError> {
        self.take(mutation)
    }
}

/// A closure as a host function (computed, effect, batch).
pub struct Func<F>(pub F);

impl<F> std::fmt::Debug for Func<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Func")
    }
}

impl<F: Fn() -> Result<String, MizuError> + Send + Sync> ComputedFn for Func<F> {
    fn compute(&self) -> Result<String, MizuError> {
        (self.0)()
    }
}

/// A closure as an effect or batch body.
pub struct Run<F>(pub F);

impl<F> std::fmt::Debug for Run<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Run")
    }
}

impl<F: Fn() -> Result<(), MizuError> + Send + Sync> EffectFn for Run<F> {
    fn run(&self) -> Result<(), MizuError> {
        (self.0)()
    }
}

impl<F: Fn() -> Result<(), MizuError> + Send + Sync> BatchFn for Run<F> {
    fn run(&self) -> Result<(), MizuError> {
        (self.0)()
    }
}

/// A host-side failure, as UniFFI reports an unexpected host exception.
pub fn host_failure(text: &str) -> MizuError {
    MizuError::Callback {
        reason: text.into(),
    }
}
