//! The reactivity benchmark shapes of js-reactivity-benchmark (kairo, cellx, reactively, S.js)
//! and two plain propagation shapes, written once, generically over [`Framework`].
//!
//! mizu-sync's integration tests run them on [`Ours`] and assert their exact values and run
//! counts; the `mizu-sync-benches` package adds the peers' adapters and times them. Each shape
//! checks its expected values while it runs, and a framework that gets one wrong is reported,
//! not timed.
//!
//! - [`framework`]: the adapter trait each library implements, and [`Node`].
//! - [`ours`]: mizu-sync's own adapter.
//! - [`shape`]: what a shape is ([`Shape`], [`Runner`]) and its checks ([`Mismatch`]).
//! - the shapes: [`kairo`] (with molBench), [`cellx`], [`dynamic`], [`propagation`], [`sbench`].
//!
//! Not published; peer-free on purpose, so that mizu-sync's tests compile no peer.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cellx;
pub mod dynamic;
pub mod framework;
pub mod kairo;
mod mol;
pub mod ours;
pub mod propagation;
pub mod sbench;
pub mod shape;
pub mod util;

pub use mizu_test_support::js_random as prng;

pub use cellx::Cellx;
pub use dynamic::{Dynamic, DynamicConfig, CONFIGS};
pub use framework::{Framework, Node, Value};
pub use kairo::{Kairo, KairoCase};
pub use ours::Ours;
pub use propagation::{Propagation, Topology};
pub use sbench::{SBench, SCase, SGroup};
pub use shape::{check, check_eq, path_budget, timed, Aggregate, Mismatch, Runner, Shape};
