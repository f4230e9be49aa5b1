//! Benchmarks of mizu-sync's reactive graph against named peers, on the shapes of
//! js-reactivity-benchmark (kairo, cellx, reactively, S.js) and two plain propagation shapes.
//!
//! The shapes, written once against the adapter trait, and mizu-sync's own adapter live in the
//! peer-free `mizu-reactivity-shapes` crate (`benches/shapes`), which mizu-sync's integration
//! tests share; this package adds what only the benchmark needs:
//!
//! - [`adapters`]: alien-signals, sycamore-reactive and leptos' reactive_graph (and mizu-sync's,
//!   re-exported).
//! - [`local`]: the `Send + Sync` wrapper of the single-threaded peers' handles.
//! - [`harness`]: interleaved sampling and the JS benchmark's rules (fastest of N, or total).
//! - [`report`]: the results table.
//!
//! Run with `cargo bench -p mizu-sync-benches --bench reactive` (`MIZU_BENCH_QUICK=1` for a
//! fast smoke run); see BENCHMARKS.md at the repository root.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
pub mod harness;
pub mod local;
pub mod report;
