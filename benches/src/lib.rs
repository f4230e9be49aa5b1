//! Benchmarks of mizu-sync's reactive graph against named peers, on the shapes of
//! js-reactivity-benchmark (kairo, cellx, reactively, S.js) and two plain propagation shapes.
//!
//! - [`framework`]: the adapter trait each library implements, so every shape is written once.
//! - [`adapters`]: mizu-sync, alien-signals, sycamore-reactive and leptos' reactive_graph.
//! - [`shapes`]: the benchmark shapes, each checking its expected values before it is timed.
//! - [`harness`]: interleaved sampling and the JS benchmark's rules (fastest of N, or total).
//! - [`report`]: the results table.
//!
//! Run with `cargo bench -p mizu-sync-benches --bench reactive` (`MIZU_BENCH_QUICK=1` for a
//! fast smoke run); see BENCHMARKS.md at the repository root.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
pub mod framework;
pub mod harness;
pub mod local;
pub mod report;
pub mod shapes;
