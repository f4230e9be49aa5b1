//! [`Client`]: the sync client, its lifecycle, mutations, status and event listeners.

use std::sync::Arc;
use std::time::Duration;

use crate::ffi::closable::Closable;
use crate::ffi::collection::Collection;
use crate::ffi::error::MizuError;
use crate::ffi::events::Events;
use crate::ffi::listener::{
    ConnectivityListener, ErrorListener, PendingListener, RejectionListener, StatusListener,
    SyncListener, TokenProvider,
};
use crate::ffi::log::{LogLevel, LogListener};
use crate::ffi::record::{ClientOptions, QueuedMutation, SyncReport, SyncStatus};
use crate::ffi::subscription::{watch, Subscription};

/// Adapts a host [`TokenProvider`] to the core's `AuthProvider`.
struct HostAuth(Arc<dyn TokenProvider>);

impl crate::AuthProvider for HostAuth {
    fn token(&self, refresh: bool) -> Result<Option<String>, String> {
        self.0.token(refresh).map_err(|e| e.to_string())
    }
}

/// An offline-first sync client: a local store, a durable mutation queue, and an engine that
/// pushes, pulls and listens in the background.
///
/// Reads and writes never wait for the network. [`close`](Self::close) (or the host's garbage
/// collector) stops syncing and closes the store.
///
/// # Threading
/// Every method may be called from any thread. Event listeners, and the listeners woken by
/// server changes and awaited writes, run on a library thread, or, with a
/// [`PendingListener`], where the app calls [`dispatch_pending`](Self::dispatch_pending);
/// `sync` and `flush` called from the engine thread fail instead of deadlocking. Blocking
/// calls (`sync`, `flush`) release Python's GIL while they wait.
///
/// # Async
/// The `*_async` methods are awaited natively (Kotlin `suspend`, Swift `async`, Python
/// coroutines) and run on the library's own runtime: the caller's thread never waits, and
/// cancelling the coroutine or task stops the wait at once. An awaited write is queued when
/// called and committed in call order; cancelling its wait does not undo it.
#[derive(uniffi::Object)]
pub struct Client {
    inner: Closable<Arc<crate::Client>>,
    events: Arc<Events>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("closed", &self.inner.is_closed())
            .finish_non_exhaustive()
    }
}

impl Client {
    fn core(&self) -> Result<Arc<crate::Client>, MizuError> {
        self.inner.get()
    }
}

#[uniffi::export]
impl Client {
    /// Opens the local store (SQLite at `options.storage_path`, or memory) and restores what
    /// was there. Does not touch the network: call [`start`](Self::start).
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] for an unusable URL or option; [`MizuError::InvalidJson`]
    /// for a bad `subscribe_message_json`; [`MizuError::Storage`] when the store cannot be
    /// opened (corrupt, too new, or held by another client); [`MizuError::WrongKey`] when the
    /// file is encrypted and `encryption_key` is wrong or missing (or given for a plain file).
    ///
    /// `pending`, when given, gives the client a delivery queue: event listeners and the
    /// listeners woken by server changes and awaited writes wait until the app calls
    /// [`dispatch_pending`](Self::dispatch_pending), and `pending` is told when they start
    /// waiting.
    ///
    /// `log`, when given, receives the engine's log records at `log_level` or above
    /// ([`LogLevel::Info`] when `None`), on library threads as they happen.
    #[uniffi::constructor(default(auth = None, pending = None, log = None, log_level = None))]
    pub fn new(
        options: ClientOptions,
        auth: Option<Arc<dyn TokenProvider>>,
        pending: Option<Arc<dyn PendingListener>>,
        log: Option<Arc<dyn LogListener>>,
        log_level: Option<LogLevel>,
    ) -> Result<Arc<Self>, MizuError> {
        let events = Events::new();
        let mut core = events.install(options.to_core()?);
        if let Some(listener) = log {
            core = crate::ffi::log::install(core, listener, log_level.unwrap_or(LogLevel::Info));
        }
        if let Some(provider) = auth {
            core = core.auth(HostAuth(provider));
        }
        if let Some(listener) = pending {
            let events = Arc::clone(&events);
            core = core.delivery_queue(move || events.check(listener.on_pending()));
        }
        Ok(Arc::new(Client {
            inner: Closable::new("client", Arc::new(crate::Client::new(core)?)),
            events,
        }))
    }

    /// Starts syncing in the background (idempotent). Works with the server unreachable.
    ///
    /// # Errors
    /// [`MizuError::Closed`]; [`MizuError::Internal`] when a thread cannot start.
    pub fn start(&self) -> Result<(), MizuError> {
        Ok(self.core()?.start()?)
    }

    /// Stops syncing; local reads and writes keep working and `start` resumes.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn stop(&self) -> Result<(), MizuError> {
        self.core()?.stop();
        Ok(())
    }

    /// Stops syncing, closes the store and unregisters every listener. Writes already returned
    /// are durable. Every later call fails with [`MizuError::Closed`]. Idempotent.
    pub fn close(&self) {
        if let Some(core) = self.inner.close() {
            core.close();
        }
        self.events.clear();
    }

    /// [`close`](Self::close), awaited: the engine's last step and the store's closing happen
    /// off the caller's thread.
    pub async fn close_async(&self) {
        if let Some(core) = self.inner.close() {
            let _ = core.close_async().await;
        }
        self.events.clear();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether the client is started (and not stopped since).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn is_started(&self) -> Result<bool, MizuError> {
        Ok(self.core()?.is_started())
    }

    /// Pushes everything pending, then pulls; returns when both are done.
    ///
    /// # Errors
    /// The round's first error ([`MizuError::Network`], [`MizuError::Server`], ...);
    /// [`MizuError::Offline`] when not started or paused; [`MizuError::InvalidArgument`] on the
    /// engine thread.
    pub fn sync(&self) -> Result<(), MizuError> {
        Ok(self.core()?.sync()?)
    }

    /// [`sync`](Self::sync), awaited: nothing blocks the caller's thread, and cancelling stops
    /// the wait at once (the round goes on in the background).
    ///
    /// # Errors
    /// As [`sync`](Self::sync).
    pub async fn sync_async(&self) -> Result<(), MizuError> {
        Ok(self.core()?.sync_async().await?)
    }

    /// [`flush`](Self::flush), awaited: cancelling stops the wait at once.
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub async fn flush_async(&self, timeout_ms: u64) -> Result<(), MizuError> {
        Ok(self
            .core()?
            .flush_async(Duration::from_millis(timeout_ms))
            .await?)
    }

    /// Runs the waiting deliveries (with a [`PendingListener`]) on the calling thread, in
    /// order; returns how many ran (0 without a queue, or while another thread dispatches).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn dispatch_pending(&self) -> Result<u64, MizuError> {
        Ok(self.core()?.dispatch_pending()? as u64)
    }

    /// Waits until everything queued so far is acknowledged by the server and pulled back.
    ///
    /// # Errors
    /// [`MizuError::Timeout`] after `timeout_ms`; [`MizuError::Offline`] when not started;
    /// [`MizuError::InvalidArgument`] on the engine thread.
    pub fn flush(&self, timeout_ms: u64) -> Result<(), MizuError> {
        Ok(self.core()?.flush(Duration::from_millis(timeout_ms))?)
    }

    /// Queues an app-defined mutation `name` with arguments `args_json` (no local effect) and
    /// returns its id. Durable before it returns.
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] for an empty name; [`MizuError::InvalidJson`];
    /// [`MizuError::Storage`]; [`MizuError::Closed`].
    #[uniffi::method(default(args_json = None))]
    pub fn mutate(&self, name: String, args_json: Option<String>) -> Result<String, MizuError> {
        let args = args_json.map(|t| serde_json::from_str(&t)).transpose()?;
        Ok(self.core()?.mutate(&name, args)?)
    }

    /// [`mutate`](Self::mutate) committed off the caller's thread (queued by the call, in call
    /// order); returns the mutation's id once durable.
    ///
    /// # Errors
    /// As [`mutate`](Self::mutate).
    #[uniffi::method(default(args_json = None))]
    pub async fn mutate_async(
        &self,
        name: String,
        args_json: Option<String>,
    ) -> Result<String, MizuError> {
        let args = args_json.map(|t| serde_json::from_str(&t)).transpose()?;
        Ok(self.core()?.mutate_async(&name, args).await?)
    }

    /// Deletes everything local, for a logout: flushes first for at most `flush_within_ms`
    /// when given (and started), stops, deletes the store's files, and starts afresh with an
    /// empty store and a new client id (syncing again if it was).
    ///
    /// # Errors
    /// [`MizuError::PendingWrites`] when writes still wait for the server and
    /// `discard_pending` is false (nothing is deleted); [`MizuError::Storage`];
    /// [`MizuError::Closed`].
    #[uniffi::method(default(flush_within_ms = None, discard_pending = false))]
    pub fn clear(
        &self,
        flush_within_ms: Option<u64>,
        discard_pending: bool,
    ) -> Result<(), MizuError> {
        Ok(self.core()?.clear(crate::ClearOptions {
            flush_within: flush_within_ms.map(Duration::from_millis),
            discard_pending,
        })?)
    }

    /// Waits until a first full catch-up has completed (at once when one ever has), or
    /// `timeout_ms` elapses.
    ///
    /// # Errors
    /// [`MizuError::Timeout`]; [`MizuError::Offline`] when not started; [`MizuError::Closed`].
    pub fn wait_for_first_sync(&self, timeout_ms: u64) -> Result<(), MizuError> {
        Ok(self
            .core()?
            .wait_for_first_sync(Duration::from_millis(timeout_ms))?)
    }

    /// [`wait_for_first_sync`](Self::wait_for_first_sync), awaited: cancelling stops the wait.
    ///
    /// # Errors
    /// As [`wait_for_first_sync`](Self::wait_for_first_sync).
    pub async fn wait_for_first_sync_async(&self, timeout_ms: u64) -> Result<(), MizuError> {
        Ok(self
            .core()?
            .wait_for_first_sync_async(Duration::from_millis(timeout_ms))
            .await?)
    }

    /// Pushes and pulls until caught up or `within_ms` has passed, for an OS background task;
    /// a client that is not started is started without its live connection and stopped after.
    ///
    /// # Errors
    /// [`MizuError::Closed`]; a round's own failures are in [`SyncReport::error`].
    pub fn sync_once(&self, within_ms: u64) -> Result<SyncReport, MizuError> {
        Ok(self
            .core()?
            .sync_once(Duration::from_millis(within_ms))?
            .into())
    }

    /// The mutations waiting for the server, oldest first.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn pending(&self) -> Result<Vec<QueuedMutation>, MizuError> {
        Ok(self
            .core()?
            .pending()
            .into_iter()
            .map(QueuedMutation::from)
            .collect())
    }

    /// Rolls back the queued mutation `mutation_id` as a server rejection would (its effect
    /// undone, its entity `Rejected`, the error and rejection listeners told).
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] when no queued mutation has that id;
    /// [`MizuError::Storage`]; [`MizuError::Closed`].
    pub fn discard(&self, mutation_id: String) -> Result<(), MizuError> {
        Ok(self.core()?.discard(&mutation_id)?)
    }

    /// The collection named `name`; its values are JSON text.
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] for an empty name; [`MizuError::Closed`].
    pub fn collection(&self, name: String) -> Result<Arc<Collection>, MizuError> {
        if name.is_empty() {
            return Err(MizuError::InvalidArgument {
                reason: "a collection name must not be empty".into(),
            });
        }
        let core = self.core()?;
        Ok(Collection::new(
            core.collection(&name),
            Arc::clone(&self.events),
        ))
    }

    /// The sync status now.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn status(&self) -> Result<SyncStatus, MizuError> {
        Ok(SyncStatus::from(&self.core()?.status().peek()))
    }

    /// Calls `listener` with the status now, then after each change.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn subscribe_status(
        &self,
        listener: Arc<dyn StatusListener>,
    ) -> Result<Arc<Subscription>, MizuError> {
        let status = self.core()?.status();
        let events = Arc::clone(&self.events);
        Ok(self.inner.keep(watch(
            move || Ok(SyncStatus::from(&status.get())),
            move |s| listener.on_status(s),
            move |e| events.report(e),
        )))
    }

    /// Whether the last exchange with the server succeeded.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn is_online(&self) -> Result<bool, MizuError> {
        Ok(self.core()?.is_online())
    }

    /// The pull cursor (0 before the first snapshot).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn cursor(&self) -> Result<u64, MizuError> {
        Ok(self.core()?.cursor())
    }

    /// How many local mutations wait to be acknowledged.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn pending_count(&self) -> Result<u64, MizuError> {
        Ok(self.core()?.pending_count() as u64)
    }

    /// Re-encrypts the store file with `new_key`, in one transaction: from then on only
    /// `new_key` opens it (as `ClientOptions.encryption_key`). Takes time in proportion to the
    /// file's size.
    ///
    /// # Errors
    /// [`MizuError::InvalidArgument`] for an empty key or a store opened without an
    /// `encryption_key`; [`MizuError::Closed`]; [`MizuError::Storage`] when the file cannot be
    /// rewritten (it then keeps the old key).
    pub fn rekey(&self, new_key: String) -> Result<(), MizuError> {
        Ok(self.core()?.rekey(&new_key)?)
    }

    /// The durability mode the store file is in, read back from SQLite, to check that
    /// `ClientOptions.durability` took effect; `None` for a store in memory.
    ///
    /// # Errors
    /// [`MizuError::Closed`]; [`MizuError::Storage`] when SQLite cannot answer.
    pub fn durability(&self) -> Result<Option<crate::ffi::record::Durability>, MizuError> {
        Ok(self.core()?.durability()?.map(Into::into))
    }

    /// This client's id (persisted with the store), the prefix of its mutation ids.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn client_id(&self) -> Result<String, MizuError> {
        Ok(self.core()?.client_id())
    }

    /// Pauses syncing (no requests); local writes keep queueing.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn pause(&self) -> Result<(), MizuError> {
        self.core()?.pause();
        Ok(())
    }

    /// Resumes syncing after [`pause`](Self::pause).
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn resume(&self) -> Result<(), MizuError> {
        self.core()?.resume();
        Ok(())
    }

    /// Tells the client the server has reached `cursor` (for apps with their own notification
    /// channel): pulls at once when it is ahead.
    ///
    /// # Errors
    /// [`MizuError::Closed`].
    pub fn notify_live(&self, cursor: u64) -> Result<(), MizuError> {
        self.core()?.notify_live(cursor);
        Ok(())
    }

    /// Calls `listener` with the new cursor after each completed pull or snapshot.
    pub fn on_sync(&self, listener: Arc<dyn SyncListener>) -> Arc<Subscription> {
        self.events.sync.add(listener)
    }

    /// Calls `listener` on each online / offline transition.
    pub fn on_connectivity(&self, listener: Arc<dyn ConnectivityListener>) -> Arc<Subscription> {
        self.events.connectivity.add(listener)
    }

    /// Calls `listener` with each error: the engine's (network trouble, rejected mutations,
    /// storage failures) and failures of this client's other listeners.
    pub fn on_error(&self, listener: Arc<dyn ErrorListener>) -> Arc<Subscription> {
        self.events.errors.add(listener)
    }

    /// Calls `listener` for each mutation the server rejects (after its rollback).
    pub fn on_rejected(&self, listener: Arc<dyn RejectionListener>) -> Arc<Subscription> {
        self.events.rejections.add(listener)
    }
}
