//! One adapter per library.

pub mod alien;
pub mod leptos;
pub mod sycamore;

pub use alien::Alien;
pub use leptos::Leptos;
pub use mizu_reactivity_shapes::Ours;
pub use sycamore::Sycamore;
