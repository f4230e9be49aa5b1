//! # mizu-sync
//!
//! An offline-first sync client with fine-grained reactive state, speaking the wire protocol of
//! the [mizu](https://github.com/go-mizu/mizu) sync server. Written once in Rust and used from
//! Kotlin, Swift, Python, C and Rust.
//!
//! - [`reactive`]: `Signal<T>`, `Computed<T>`, `Effect`, `batch`, `untrack`: one thread-safe,
//!   glitch-free reactive graph.
//! - [`protocol`]: the wire types of push / pull / snapshot / live.

#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing/mod.rs"]
pub mod __fuzz;
pub(crate) mod client;
mod collection;
pub mod protocol;
pub mod reactive;
#[cfg(feature = "server")]
pub mod server;
pub(crate) mod store;

pub use client::auth::{AuthProvider, AUTH_PROVIDER_FAILED};
pub use client::{
    Client, ConnectivityCallback, Error, ErrorCallback, Options, SyncCallback, SyncStatus,
};
pub use collection::{Collection, Entity};
