//! Small helpers the shapes share: counters, a log of pushed values, busy work, and values with
//! JS identity.

use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A counter bumped from inside computeds and effects.
///
/// The benchmark is single-threaded, so a relaxed load and store (plain moves on x86 and ARM)
/// stand in for JS's `count++` without the cost of an atomic read-modify-write.
#[derive(Debug, Default)]
pub struct Counter(AtomicI64);

impl Counter {
    /// A new counter at zero, shared.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Adds one.
    #[inline]
    pub fn bump(&self) {
        self.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: i64) {
        self.0
            .store(self.0.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    /// The current count.
    #[inline]
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the count back to zero.
    #[inline]
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Values pushed from inside effects, in the order they were pushed (molBench's `res`).
#[derive(Debug, Default)]
pub struct Log(Mutex<Vec<i64>>);

impl Log {
    /// A new empty log, shared.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Appends `value`.
    pub fn push(&self, value: i64) {
        self.values_mut().push(value);
    }

    /// The values pushed so far, in order.
    pub fn values(&self) -> Vec<i64> {
        self.values_mut().clone()
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.values_mut().clear();
    }

    fn values_mut(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        // A panic while pushing cannot leave a half-written `Vec<i64>`.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The kairo benchmark's `busy()`: a loop of 100 `a++` that the optimiser may not remove.
#[inline(never)]
pub fn busy() {
    let mut a = 0u32;
    for _ in 0..100 {
        a = black_box(a + 1);
    }
    black_box(a);
}

/// A freshly built object compared by identity, like a JS object returned from a computed:
/// every recomputation yields a value that is "changed".
#[derive(Debug)]
pub struct Fresh<T>(pub Arc<T>);

impl<T> Fresh<T> {
    /// Wraps a newly built value.
    pub fn new(value: T) -> Self {
        Self(Arc::new(value))
    }
}

impl<T> Clone for Fresh<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> PartialEq for Fresh<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A case's timed step, with the graph it drives captured inside.
pub type Iter = Box<dyn FnMut() -> Result<(), crate::shape::Mismatch>>;
