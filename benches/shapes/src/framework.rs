//! The adapter trait: one reactive library seen through the operations every shape needs.
//!
//! Each benchmark shape is written once, generically over [`Framework`], and runs unchanged on
//! mizu-sync and on every peer. The trait mirrors the `ReactiveFramework` interface of
//! js-reactivity-benchmark: signal, computed, effect, batch, untrack, and a build scope whose
//! end disposes what was built in it.

/// What a node may hold: the bounds of mizu-sync's `Signal<T>` and `Computed<T>`.
pub trait Value: Clone + PartialEq + Send + Sync + 'static {}

impl<T: Clone + PartialEq + Send + Sync + 'static> Value for T {}

/// One reactive library, adapted to the operations of the benchmark shapes.
///
/// Handles are `Clone + Send + Sync` so that closures capturing them satisfy mizu-sync's
/// thread-safe bounds; the single-threaded peers reach this through `Local` in the
/// `mizu-sync-benches` package.
pub trait Framework: 'static {
    /// The name printed in the results table.
    const NAME: &'static str;
    /// True when computeds are lazy (pulled), so that the reactively graphs' execution counts
    /// are checked even when only part of the last row is read (`testPullCounts` in the JS
    /// benchmark).
    const LAZY: bool;
    /// True when a write marks its downstream by walking every path rather than every node
    /// (no "already marked" stop), so the cost of one write grows with the number of paths
    /// through the graph, exponentially in a graph of stacked diamonds. Shapes use it to refuse
    /// runs that could not finish (see [`crate::shape::Shape::infeasible`]).
    const MARKS_EVERY_PATH: bool = false;

    /// A writable source.
    type Signal<T: Value>: Clone + Send + Sync + 'static;
    /// A derived, cached value.
    type Computed<T: Value>: Clone + Send + Sync + 'static;
    /// A running effect; dropping it stops the effect.
    type Effect: 'static;
    /// What a build scope leaves behind; dropping it disposes what the scope created.
    type Scope: 'static;

    /// Creates a signal holding `value`.
    fn signal<T: Value>(value: T) -> Self::Signal<T>;
    /// Reads a signal, tracking it when inside a computed or an effect.
    fn get<T: Value>(signal: &Self::Signal<T>) -> T;
    /// Writes a signal.
    fn set<T: Value>(signal: &Self::Signal<T>, value: T);
    /// Creates a computed from `f`.
    fn computed<T: Value>(f: impl Fn() -> T + Send + Sync + 'static) -> Self::Computed<T>;
    /// Reads a computed, tracking it when inside a computed or an effect.
    fn read<T: Value>(computed: &Self::Computed<T>) -> T;
    /// Creates an effect that runs `f` now and again whenever what it read changes.
    fn effect(f: impl Fn() + Send + Sync + 'static) -> Self::Effect;
    /// Runs `f` with writes batched: effects run once, at the end.
    fn batch(f: impl FnOnce());
    /// Runs `f` without tracking what it reads.
    fn untrack<R>(f: impl FnOnce() -> R) -> R;
    /// Runs `f` in a fresh ownership scope (the JS benchmark's `withBuild`).
    fn scope<R>(f: impl FnOnce() -> R) -> (R, Self::Scope);
    /// Runs `f` inside the library's runtime (the one global root a sycamore app has); the
    /// harness enters it around every build and every timed sample.
    fn enter<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// A node a shape reads without caring whether it is a source or a derived value (the JS
/// benchmark's `Computed<number>`, which signals also satisfy).
pub enum Node<F: Framework, T: Value> {
    /// A signal.
    Signal(F::Signal<T>),
    /// A computed.
    Computed(F::Computed<T>),
}

impl<F: Framework, T: Value> Clone for Node<F, T> {
    fn clone(&self) -> Self {
        match self {
            Self::Signal(s) => Self::Signal(s.clone()),
            Self::Computed(c) => Self::Computed(c.clone()),
        }
    }
}

impl<F: Framework, T: Value> Node<F, T> {
    /// Reads the node, tracking it.
    #[inline]
    pub fn read(&self) -> T {
        match self {
            Self::Signal(s) => F::get(s),
            Self::Computed(c) => F::read(c),
        }
    }
}
