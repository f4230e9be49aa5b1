//! One adapter per library.

pub mod alien;
pub mod leptos;
pub mod ours;
pub mod sycamore;

pub use alien::Alien;
pub use leptos::Leptos;
pub use ours::Ours;
pub use sycamore::Sycamore;
