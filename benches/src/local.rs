//! A handle of a single-threaded peer, made to fit the thread-safe adapter trait.
//!
//! alien-signals and sycamore-reactive are single-threaded: their handles are raw pointers
//! into a thread-local (sycamore) or process-global (alien-signals) arena, so they are neither
//! `Send` nor `Sync`. mizu-sync's graph is thread-safe and requires `Send + Sync` closures, and
//! the shapes are written once against one trait, so the trait's handles must be `Send + Sync`.
//!
//! The alternatives were worse for a fair measurement: an index into a thread-local table, or
//! `send_wrapper::SendWrapper`, would add a thread-local lookup or a thread-id check to every
//! read of the peer, and so would make the peers look slower than they are.
#![allow(unsafe_code)]

/// A single-threaded peer's handle, marked `Send + Sync`.
///
/// The benchmark never moves a value across threads: every shape, adapter and sample runs on
/// the one benchmark thread of the bench binary, and no benchmark code spawns another.
#[derive(Clone, Copy)]
pub struct Local<H>(pub H);

// SAFETY: a `Local` is only created by the adapters of single-threaded peers and stays on the
// thread that created it: the benchmark is single-threaded (see the module docs), so no `Local`
// is ever sent to, or shared with, another thread.
unsafe impl<H> Send for Local<H> {}
// SAFETY: as above; no `&Local` is ever reachable from a second thread.
unsafe impl<H> Sync for Local<H> {}
