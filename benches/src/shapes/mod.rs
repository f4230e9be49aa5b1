//! The benchmark shapes, each written once against [`crate::framework::Framework`].

pub mod cellx;
pub mod dynamic;
pub mod kairo;
mod mol;
pub use mizu_test_support::js_random as prng;
pub mod propagation;
pub mod sbench;
pub mod util;

pub use cellx::Cellx;
pub use dynamic::{Dynamic, DynamicConfig, CONFIGS};
pub use kairo::{Kairo, KairoCase};
pub use propagation::{Propagation, Topology};
pub use sbench::{SBench, SCase, SGroup};
