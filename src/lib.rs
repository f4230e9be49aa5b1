//! # mizu-sync
//!
//! An offline-first sync client with fine-grained reactive state, speaking the wire protocol of
//! the [mizu](https://github.com/go-mizu/mizu) sync server. Written once in Rust and used from
//! Kotlin, Swift, Python, C and Rust.
//!
//! - [`reactive`]: [`Signal`](reactive::Signal), [`Computed`](reactive::Computed),
//!   [`Effect`](reactive::Effect), [`batch`](reactive::batch), [`untrack`](reactive::untrack):
//!   one thread-safe, glitch-free reactive graph.
//! - [`Client`], [`Options`], [`SyncStatus`]: the sync engine (push, pull, snapshot, live).
//! - [`Collection`], [`Entity`]: typed, reactive, optimistic views of synchronized data.
//! - [`protocol`]: the wire types, the data [`codec`](protocol::codec) and the sans-IO
//!   [`machine`](protocol::machine) that makes every sync decision.
//! - [`ffi`]: the UniFFI surface behind the Python, Kotlin and Swift bindings.
//! - `server` (cargo feature `server`): a reference server speaking the protocol as mizu does.
//!
//! ```
//! use mizu_sync::reactive::{Computed, Effect};
//! use mizu_sync::{Client, Options};
//!
//! #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Todo { title: String, completed: bool }
//!
//! # fn main() -> Result<(), mizu_sync::Error> {
//! // Not started: everything below works offline, against the local store.
//! let client = Client::new(Options::new("http://127.0.0.1:8080/_sync"))?;
//! let todos = client.collection::<Todo>("todo");
//! let open = {
//!     let todos = todos.clone();
//!     Computed::new(move || todos.find(|t| !t.completed).len())
//! };
//! let todo = todos.create("t1", Todo { title: "Learn sync".into(), completed: false })?;
//! assert_eq!(open.get(), 1);
//! todo.set(Todo { title: "Learn sync".into(), completed: true })?;
//! assert_eq!(open.get(), 0);
//! assert_eq!(client.pending_count(), 2); // queued for the server, durable
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - **Threading.** Every handle is `Send + Sync`. Effects run on the thread whose write woke
//!   them (local writes: the writer; server changes: the client's engine thread; awaited
//!   writes: the library's writer), or, with [`Options::delivery_queue`], where the app calls
//!   [`Client::dispatch_pending`]; no internal lock is held while user code runs.
//! - **What blocks.** Only [`Client::sync`] and [`Client::flush`] wait for the network, bounded
//!   by the request timeout or the given timeout; [`Client::sync_async`] and
//!   [`Client::flush_async`] wait without blocking a thread, and dropping them ends the wait.
//!   Writes commit before they return; their awaited forms ([`Entity::set_async`], ...) commit
//!   on the library's writer instead. Everything else answers from local state.
//! - **Durability.** With [`Options::storage_path`], a write and its queued mutation are one
//!   SQLite transaction, committed before the call returns; the cursor is stored with the
//!   changes it covers; a restart restores everything.
//! - **Errors.** Every failure is a typed [`Error`]; nothing panics on bad input or a hostile
//!   server, and a rejected mutation is rolled back and reported, never dropped silently.

#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing/mod.rs"]
pub mod __fuzz;
mod capi;
pub(crate) mod client;
mod collection;
// cbindgen (the C header) must not see the UniFFI objects, whose names clash with the core's.
/// cbindgen:ignore
pub mod ffi;
pub mod protocol;
pub mod query;
pub mod reactive;
#[cfg(feature = "server")]
pub mod server;
pub(crate) mod store;

pub use client::auth::{AuthProvider, AUTH_PROVIDER_FAILED};
pub use client::{log_targets, LogLevel, LogRecord, LogSink};
pub use client::{
    ClearOptions, Client, ConnectivityCallback, Durability, Error, ErrorCallback, Options,
    Progress, QueuedMutation, ReadyCallback, Reason, SyncCallback, SyncReport, SyncState,
    SyncStatus,
};
pub use collection::{Collection, CollectionChanges, Entity, Query, Subscription};

uniffi::setup_scaffolding!();

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
