//! Live queries: declarative filters, orders and windows over a collection's JSON values,
//! kept up to date incrementally and delivered as keyed diffs.
//!
//! A query is a value ([`QuerySpec`]): a [`Filter`] over field paths, an order (ties broken by
//! id, so every order is total and stable), and a window (offset, limit). Build one with
//! [`crate::Collection::query`]:
//!
//! ```
//! use mizu_sync::query::{field, Order};
//! use mizu_sync::{Client, Options};
//!
//! #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Todo { title: String, completed: bool, priority: i64 }
//!
//! # fn main() -> Result<(), mizu_sync::Error> {
//! let client = Client::new(Options::new("http://127.0.0.1:8080/_sync"))?;
//! let todos = client.collection::<Todo>("todo");
//! todos.create("a", Todo { title: "Milk".into(), completed: false, priority: 1 })?;
//! todos.create("b", Todo { title: "Bread".into(), completed: true, priority: 3 })?;
//! todos.create("c", Todo { title: "Eggs".into(), completed: false, priority: 2 })?;
//!
//! let open = todos
//!     .query()
//!     .filter(field("completed").eq(false))
//!     .order_by("priority", Order::Desc)
//!     .limit(50);
//! let titles: Vec<String> = open.get()?.into_iter().map(|(_, t)| t.title).collect();
//! assert_eq!(titles, ["Eggs", "Milk"]);
//! assert_eq!(open.count()?, 2);
//! # Ok(()) }
//! ```
//!
//! # Collation
//!
//! Comparisons and sorts use one total order over JSON values, after CouchDB's collation:
//! `null` < `false` < `true` < numbers < strings < arrays < objects. Numbers compare by value
//! (as 64-bit floats), strings by code point, arrays and objects element by element; a missing
//! field sorts (and compares) as `null`.
//!
//! # Incremental
//!
//! A query that is read or subscribed to is kept live: every transaction (local write, pulled
//! page, snapshot, acknowledgement, rollback) hands it exactly the entities that changed, and it
//! moves only their rows, O(log n) each, decoding no other value. Subscribers get one
//! [`QueryEvent::Diff`] per transaction that changed the result. Ordered indexes
//! ([`crate::Collection::ensure_index`]) serve a query's first evaluation when they cover its
//! equality filter or first sort key.

mod collate;
mod diff;
mod error;
mod filter;
mod index;
mod live;
mod outbox;
mod path;
mod projection;
mod registry;
mod sorted;
mod spec;

pub use diff::{apply_diff, DiffOp};
pub use error::QueryError;
pub use filter::{field, Comparison, Field, Filter};
pub use live::QueryEvent;
pub use path::FieldPath;
pub use registry::CollectionEvent;
pub use spec::{Order, OrderKey, QuerySpec};

pub(crate) use live::LiveQuery;
pub(crate) use registry::{Attachment, Dirty, Feed, Registry};

#[cfg(test)]
pub(crate) mod tests;
