//! The foreign-language surface, exported with [UniFFI](https://mozilla.github.io/uniffi-rs/)
//! to Python, Kotlin and Swift. Rust apps use the crate root API instead.
//!
//! - Objects: [`Client`], [`Collection`], [`Entity`], [`Signal`], [`Computed`], [`Effect`] and
//!   [`Subscription`]; each has a deterministic `close` (or `stop` / `cancel`), and the host's
//!   garbage collector releasing a handle does the same.
//! - Values cross as JSON text (canonical: object keys sorted, no spaces); snapshots cross as
//!   records ([`ClientOptions`], [`SyncStatus`], [`EntityRecord`], [`CollectionChange`],
//!   [`RejectedMutation`]).
//! - One error, [`MizuError`], for every failure.
//! - The host implements the traits of [`listener`]: listeners (each `subscribe` / `on_…`
//!   returns a [`Subscription`]; state subscriptions deliver the current value first) and the
//!   functions of [`Computed`], [`Effect`], [`batch`], [`untracked`].
//!
//! # One graph across the boundary
//!
//! A host computed's function runs inside Rust's tracking context: whatever it reads through
//! the library (a signal, another computed, a collection's count, an entity) becomes its
//! dependency, so a Python computed can depend on a Rust signal and on synced data alike.
//!
//! # Threading
//!
//! Listeners and effects run on the thread that made the change: local writes on the writing
//! thread (before the write returns), server changes and client events on the client's engine
//! thread. No library lock is held while host code runs, so host code may call back in. In
//! Python, calls into the library release the GIL, and callbacks take it.
//!
//! # Errors in host code
//!
//! A listener or function that raises returns an error to Rust instead of unwinding: it goes
//! to the client's error listeners ([`Client::on_error`]) or, for signals, computeds, effects
//! and clients without error listeners, to [`on_unhandled_error`] (printed to standard error
//! when nobody listens). It never stops the engine thread.
//!
//! <!-- The outer `cbindgen:ignore` doc of this module makes rustdoc resolve these from the
//! crate root, hence full paths. -->
//! [`Client`]: crate::ffi::Client
//! [`Collection`]: crate::ffi::Collection
//! [`Entity`]: crate::ffi::Entity
//! [`Signal`]: crate::ffi::Signal
//! [`Computed`]: crate::ffi::Computed
//! [`Effect`]: crate::ffi::Effect
//! [`Subscription`]: crate::ffi::Subscription
//! [`ClientOptions`]: crate::ffi::ClientOptions
//! [`SyncStatus`]: crate::ffi::SyncStatus
//! [`EntityRecord`]: crate::ffi::EntityRecord
//! [`CollectionChange`]: crate::ffi::CollectionChange
//! [`RejectedMutation`]: crate::ffi::RejectedMutation
//! [`MizuError`]: crate::ffi::MizuError
//! [`listener`]: crate::ffi::listener
//! [`batch`]: crate::ffi::batch
//! [`untracked`]: crate::ffi::untracked
//! [`Client::on_error`]: crate::ffi::Client::on_error
//! [`on_unhandled_error`]: crate::ffi::on_unhandled_error

mod batch_scope;
mod client;
mod closable;
mod collection;
mod computed;
mod effect;
mod error;
mod events;
mod hot;
pub mod listener;
mod listener_list;
mod log;
mod query;
mod record;
mod signal;
mod subscription;

pub use batch_scope::{begin_batch, BatchScope};
pub use client::Client;
pub use collection::{Collection, Entity};
pub use computed::Computed;
pub use effect::{batch, untracked, Effect};
pub(crate) use error::panic_message;
pub use error::MizuError;
pub use hot::take_hot_error;
pub use listener::{
    BatchFn, CollectionListener, ComputedFn, ConnectivityListener, EffectFn, EntityListener,
    ErrorListener, QueryListener, RejectionListener, SignalListener, SignalUpdateFn,
    StatusListener, SyncListener, TokenProvider,
};
pub use listener_list::on_unhandled_error;
pub use log::{LogLevel, LogListener};
pub use query::{Query, QueryDiffOp};
pub use record::{
    ClientOptions, CollectionChange, Durability, EntityRecord, EntitySyncState, QueuedMutation,
    RejectedMutation, SyncProgress, SyncReport, SyncStatus,
};
pub use signal::Signal;
pub use subscription::Subscription;
