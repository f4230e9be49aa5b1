//! The client: [`Client`] and its [`Options`], the engine that drives the sans-IO sync machine,
//! and the transports (HTTP for push / pull / snapshot, a WebSocket for live notifications).

pub(crate) mod auth;
mod background;
pub(crate) mod delivery;
mod engine;
mod error;
pub(crate) mod http;
mod ids;
mod lifecycle;
pub(crate) mod live;
pub(crate) mod logging;
mod options;
mod progress;
mod pull_ahead;
pub(crate) mod query_signals;
pub(crate) mod runtime;
mod shared;
pub(crate) mod snapshot;
mod status;
#[cfg(test)]
mod tests;
pub(crate) mod transport_error;
mod triggers;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use background::SyncReport;
pub use error::{Error, Reason};
pub use lifecycle::{ClearOptions, QueuedMutation, SyncState};
pub use logging::{targets as log_targets, LogLevel, LogRecord, LogSink};
pub use options::{
    ConnectivityCallback, Durability, ErrorCallback, Options, ReadyCallback, SyncCallback,
};
pub use progress::Progress;
pub(crate) use shared::{ClientCore, Encoded, WriteIntent};
pub use status::SyncStatus;

use crate::reactive::Computed;

/// An offline-first sync client: a local store, a durable mutation queue, and an engine that
/// pushes, pulls and listens in the background.
///
/// Creating a client opens its store and restores what was there (entities, pending writes,
/// cursor); [`start`](Self::start) begins syncing. Reads and writes never wait for the network:
/// with the server unreachable the app works offline, and the queue drains when it comes back.
///
/// Dropping the client (or [`close`](Self::close)) stops syncing and closes the store.
///
/// # Threading
/// `Client` is `Send + Sync`: share it in an `Arc`. Effects woken by local writes run on the
/// writing thread before the write returns. Callbacks, and the effects woken by server changes
/// and by awaited writes, run on a library thread (the engine thread, or the thread that
/// committed the write), or where the app dispatches them with a delivery queue
/// ([`Options::delivery_queue`]). Calling [`sync`](Self::sync) or [`flush`](Self::flush) from
/// the engine thread returns an error instead of deadlocking.
///
/// # Async
/// [`sync_async`](Self::sync_async), [`flush_async`](Self::flush_async),
/// [`close_async`](Self::close_async), [`mutate_async`](Self::mutate_async) and the collection's
/// `*_async` writes return futures that any executor can poll: they run on a runtime the library
/// owns (started by the first of them, stopped with the last client), never on the caller's
/// thread, and dropping one stops the wait at once. An awaited write is queued when it is
/// called and committed in call order; dropping its future does not undo it.
///
/// ```no_run
/// use mizu_sync::{Client, Options};
///
/// # fn main() -> Result<(), mizu_sync::Error> {
/// let client = Client::new(Options::new("http://127.0.0.1:8080/_sync").scope("user:demo"))?;
/// client.start()?;
/// let id = client.mutate("todo.archive_done", Some(serde_json::json!({"before": 100})))?;
/// println!("queued {id}");
/// client.flush(std::time::Duration::from_secs(5))?;
/// # Ok(()) }
/// ```
pub struct Client {
    shared: Arc<ClientCore>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens the local store (SQLite at `options.storage_path`, or memory) and prepares the
    /// engine. Does not touch the network.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unusable base URL, header, live URL or option (a zero
    /// interval or timeout, a batch size outside 1..=100, a zero pull limit, a backoff minimum
    /// above its maximum);
    /// [`Error::Storage`] when the store cannot be opened (a corrupt file, a schema from a newer
    /// version, a file another client holds open);
    /// [`Error::WrongKey`] when the file is encrypted and
    /// [`Options::encryption_key`](crate::Options::encryption_key) is wrong or missing, or a key
    /// is given for a plain file.
    pub fn new(options: Options) -> Result<Client, Error> {
        Ok(Client {
            shared: ClientCore::open(options)?,
        })
    }

    /// Starts syncing in the background (idempotent). Works with the server unreachable.
    ///
    /// # Errors
    /// [`Error::Closed`] after [`close`](Self::close); [`Error::Internal`] when a thread cannot
    /// be started.
    pub fn start(&self) -> Result<(), Error> {
        self.shared.start()
    }

    /// Stops syncing; local reads and writes go on working, and [`start`](Self::start) resumes.
    /// Waits for the engine thread to finish its current step, never for a request in flight.
    pub fn stop(&self) {
        self.shared.stop();
    }

    /// Stops syncing and refuses every later operation with [`Error::Closed`]; writes already
    /// returned are durable. Idempotent.
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether [`start`](Self::start) was called and the client not stopped since.
    pub fn is_started(&self) -> bool {
        self.shared.is_started()
    }

    /// Pushes everything pending at the call, then pulls, and returns when both are done: the
    /// server has every write made before the call, and the local state has everything the
    /// server had when the pull began. Writes made meanwhile do not hold it up. Skips a running
    /// retry backoff.
    ///
    /// # Errors
    /// The first error of the round ([`Error::Network`], [`Error::Timeout`], [`Error::Server`],
    /// ...); [`Error::NotStarted`] before [`start`](Self::start) (or after a
    /// [`stop`](Self::stop) that ends the round); [`Error::Closed`] when the client is closed,
    /// also by a [`close`](Self::close) during the call; [`Error::Paused`] while paused;
    /// [`Error::InvalidArgument`] when called on the engine thread.
    pub fn sync(&self) -> Result<(), Error> {
        self.shared.sync()
    }

    /// Waits until everything queued so far has been acknowledged by the server and pulled
    /// back, or `timeout` elapses.
    ///
    /// # Errors
    /// [`Error::WaitTimedOut`] when `timeout` elapses first; [`Error::NotStarted`] before
    /// [`start`](Self::start); [`Error::InvalidArgument`] when called on the engine thread.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.shared.flush(timeout)
    }

    /// [`sync`](Self::sync) as a future: dropping it stops the wait at once (the round goes on).
    ///
    /// # Errors
    /// As [`sync`](Self::sync); callable from any thread, the engine thread included.
    pub fn sync_async(
        &self,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        self.shared.sync_async()
    }

    /// [`flush`](Self::flush) as a future: dropping it stops the wait at once.
    ///
    /// ```no_run
    /// # async fn demo(client: &mizu_sync::Client) -> Result<(), mizu_sync::Error> {
    /// client.flush_async(std::time::Duration::from_secs(30)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub fn flush_async(
        &self,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        self.shared.flush_async(timeout)
    }

    /// [`close`](Self::close) off the caller's thread (closing waits for the engine's current
    /// step and the store).
    ///
    /// # Errors
    /// [`Error::Internal`] when the runtime cannot start.
    pub fn close_async(
        &self,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        self.shared.close_async()
    }

    /// [`mutate`](Self::mutate) committed off the caller's thread: queued by this call, in
    /// call order; resolves to the mutation's id once it is durable.
    ///
    /// # Errors
    /// As [`mutate`](Self::mutate).
    pub fn mutate_async(
        &self,
        name: &str,
        args: Option<Value>,
    ) -> impl std::future::Future<Output = Result<String, Error>> + Send + 'static {
        self.shared.mutate_async(name.to_owned(), args)
    }

    /// With a delivery queue ([`Options::delivery_queue`]): runs every waiting delivery
    /// (effects and listeners woken by server changes and awaited writes, status changes,
    /// client callbacks) on the calling thread, in order; returns how many ran. Returns 0
    /// without a queue, and when another thread is dispatching.
    ///
    /// # Errors
    /// [`Error::Closed`] after [`close`](Self::close).
    pub fn dispatch_pending(&self) -> Result<usize, Error> {
        self.shared.dispatch_pending()
    }

    /// Pushes and pulls until caught up or until `within` has passed, then returns what it
    /// did: one bounded sync for an OS background task (Android WorkManager, iOS
    /// `BGTaskScheduler`), which must finish within the time the OS grants. A client that is
    /// not started is started for the call without its live connection and stopped again
    /// after; a started one syncs on its running engine. A failing round is retried (after a
    /// short pause) until the deadline; a hanging server cannot hold it past `within` (plus a
    /// few milliseconds).
    ///
    /// ```no_run
    /// # use mizu_sync::{Client, Options};
    /// # fn background_task() -> Result<(), mizu_sync::Error> {
    /// let client = Client::new(Options::new("https://api.example.com/_sync").storage_path("app.db"))?;
    /// let report = client.sync_once(std::time::Duration::from_secs(25))?;
    /// println!("pushed {}, pulled {}, caught up: {}", report.pushed, report.pulled, report.caught_up);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Closed`]; [`Error::Internal`] when the engine cannot start. A round's own
    /// failures are in [`SyncReport::error`].
    pub fn sync_once(&self, within: Duration) -> Result<SyncReport, Error> {
        self.shared.sync_once(within)
    }

    /// Waits until a first full catch-up with the server has completed: at once when one ever
    /// has ([`SyncStatus::has_synced`], persisted), else until the engine reaches the head of
    /// the server's log, or `timeout` elapses. For a first screen that should show synced data.
    ///
    /// # Errors
    /// [`Error::WaitTimedOut`]; [`Error::NotStarted`] before [`start`](Self::start);
    /// [`Error::Closed`].
    pub fn wait_for_first_sync(&self, timeout: Duration) -> Result<(), Error> {
        self.shared.wait_for_first_sync(timeout)
    }

    /// [`wait_for_first_sync`](Self::wait_for_first_sync) as a future: dropping it stops the
    /// wait.
    ///
    /// # Errors
    /// As [`wait_for_first_sync`](Self::wait_for_first_sync).
    pub fn wait_for_first_sync_async(
        &self,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        self.shared.wait_for_first_sync_async(timeout)
    }

    /// Queues an app-defined mutation (no local effect) and returns its id. Durable before it
    /// returns; pushed in the background.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name; [`Error::Storage`]; [`Error::Closed`].
    pub fn mutate(&self, name: &str, args: Option<Value>) -> Result<String, Error> {
        self.shared.mutate(name, args)
    }

    /// The pull cursor: the server log position the synced state is as of (0 before the first
    /// snapshot).
    pub fn cursor(&self) -> u64 {
        self.shared.store.cursor().unwrap_or(0)
    }

    /// Whether the last exchange with the server succeeded.
    pub fn is_online(&self) -> bool {
        self.shared.status_signal().with_untracked(|s| s.online)
    }

    /// The sync status as a read-only reactive value: read it in a `Computed` or `Effect` to
    /// follow it.
    pub fn status(&self) -> Computed<SyncStatus> {
        let signal = self.shared.status_signal().clone();
        Computed::new(move || signal.get())
    }

    /// How many local mutations wait to be acknowledged.
    pub fn pending_count(&self) -> usize {
        self.shared.store.pending_count()
    }

    /// Pauses syncing (no requests) until [`resume`](Self::resume); local writes keep queueing.
    pub fn pause(&self) {
        self.shared.pause(true);
    }

    /// Resumes syncing after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.shared.pause(false);
    }

    /// Tells the client the server has reached `cursor` (for apps that receive sync
    /// notifications on a channel of their own): pulls at once when it is above ours.
    pub fn notify_live(&self, cursor: u64) {
        self.shared.notify_live(cursor);
    }

    /// The mutations waiting for the server, oldest first: id, name, scope, age, and how many
    /// times each was pushed since this process started.
    pub fn pending(&self) -> Vec<QueuedMutation> {
        self.shared.pending()
    }

    /// Rolls back the queued mutation `mutation_id` as a server rejection would: its optimistic
    /// effect is undone (readers wake), its entity's [`SyncState`] becomes `Rejected`, and
    /// `on_error` is told with [`Error::Rejected`] ("discarded by the app"). A mutation already
    /// sent may still be applied by the server; its effect then comes back with the next pull.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no queued mutation has that id; [`Error::Storage`];
    /// [`Error::Closed`].
    pub fn discard(&self, mutation_id: &str) -> Result<(), Error> {
        self.shared.discard(mutation_id)
    }

    /// Deletes everything local, for a logout: optionally flushes first (for at most
    /// `options.flush_within`), stops syncing, deletes the store (the SQLite file with its WAL
    /// and SHM files), and starts afresh with an empty store and a new [client id](Self::client_id),
    /// syncing again if it was. Every reader wakes to the empty state.
    ///
    /// With writes still waiting for the server, it refuses with [`Error::PendingWrites`] and
    /// deletes nothing, unless `options.discard_pending`: nothing a user typed is dropped unless
    /// the app asks.
    ///
    /// ```no_run
    /// # use mizu_sync::{ClearOptions, Client, Options};
    /// # fn logout(client: &Client) -> Result<(), mizu_sync::Error> {
    /// client.clear(ClearOptions {
    ///     flush_within: Some(std::time::Duration::from_secs(5)),
    ///     discard_pending: false,
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::PendingWrites`] (nothing deleted); [`Error::Storage`] when the files cannot be
    /// deleted or recreated (the client is then unusable: close it); [`Error::Closed`].
    pub fn clear(&self, options: ClearOptions) -> Result<(), Error> {
        self.shared.clear(options)
    }

    /// Re-encrypts the store file with `new_key`, in one transaction: from then on only
    /// `new_key` opens it. Takes time in proportion to the file's size (every page is
    /// rewritten); waits for a local write in progress.
    ///
    /// ```no_run
    /// use mizu_sync::{Client, Options};
    ///
    /// # fn main() -> Result<(), mizu_sync::Error> {
    /// let options = Options::new("http://127.0.0.1:8080/_sync")
    ///     .storage_path("/tmp/app.db")
    ///     .encryption_key("old passphrase");
    /// let client = Client::new(options)?;
    /// client.rekey("new passphrase")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty key, or a store opened without an
    /// [`encryption_key`](crate::Options::encryption_key) (plain or in memory: there is no key
    /// to change); [`Error::Closed`] after [`close`](Self::close); [`Error::Storage`] when the
    /// file cannot be rewritten (then it keeps the old key).
    pub fn rekey(&self, new_key: &str) -> Result<(), Error> {
        if new_key.is_empty() {
            return Err(Error::InvalidArgument(
                "the new key must not be empty".into(),
            ));
        }
        Ok(self.shared.store.rekey(new_key)?)
    }

    /// The durability mode the store file is in, read back from SQLite (`PRAGMA synchronous`),
    /// so an app (or a test) can check that [`Options::durability`](crate::Options::durability)
    /// took effect; `None` for a store in memory.
    ///
    /// ```
    /// use mizu_sync::{Client, Durability, Options};
    ///
    /// # fn main() -> Result<(), mizu_sync::Error> {
    /// # let dir = std::env::temp_dir().join(format!("mizu-doc-durability-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let options = Options::new("http://127.0.0.1:9/_sync")
    ///     .storage_path(dir.join("app.db"))
    ///     .durability(Durability::Normal);
    /// let client = Client::new(options)?;
    /// assert_eq!(client.durability()?, Some(Durability::Normal));
    /// # drop(client);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Closed`] after [`close`](Self::close); [`Error::Storage`] when SQLite cannot
    /// answer.
    pub fn durability(&self) -> Result<Option<Durability>, Error> {
        Ok(self.shared.store.durability()?)
    }

    /// This client's id (random, persisted with the store), the prefix of its mutation ids.
    pub fn client_id(&self) -> String {
        self.shared.store.client_id()
    }

    pub(crate) fn shared(&self) -> &Arc<ClientCore> {
        &self.shared
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.close();
    }
}
