//! [`ClientCore`]: the state every handle of one client shares (the store, the triggers, the status,
//! the options) and the operations behind [`crate::Client`], [`crate::Collection`] and
//! [`crate::Entity`].

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::client::delivery::Delivery;
use crate::client::engine::{Command, EngineHandle, SyncReply};
use crate::client::http::{HttpConfig, HttpTransport};
use crate::client::ids::IdGenerator;
use crate::client::lifecycle::QueueWatch;
use crate::client::live::LiveConfig;
use crate::client::logging::{log_to, targets, Logger};
use crate::client::query_signals::{QuerySignals, Woken};
use crate::client::runtime::RuntimeRef;
use crate::client::triggers::Triggers;
use crate::client::{Error, Options, Progress, SyncStatus};
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText};
use crate::protocol::machine::{MachineOptions, Status};
use crate::protocol::wire::Mutation;
use crate::query::Registry;
use crate::reactive::Signal;
use crate::store::{Changed, Store};

/// The state shared by a client and its collections and entities.
pub(crate) struct ClientCore {
    pub(crate) store: Store,
    pub(crate) triggers: Triggers,
    /// Indexes, live queries and collection feeds, kept up to date as the store's observer.
    pub(crate) queries: Arc<Registry<QuerySignals>>,
    pub(crate) options: Options,
    /// Where the engine's log records go (the host's sink and the `log` facade).
    pub(crate) logger: Logger,
    http: Arc<HttpTransport>,
    ids: IdGenerator,
    status: Signal<SyncStatus>,
    engine: Mutex<Option<EngineHandle>>,
    closed: AtomicBool,
    /// Whether the engine reports everything queued as acknowledged and pulled back.
    settled: Mutex<bool>,
    settled_changed: Condvar,
    last_synced: Mutex<Option<SystemTime>>,
    /// Taken by every collection write to check its operation and queue it (see `write`).
    write_order: Mutex<()>,
    /// Where deliveries for the app run (see `client::delivery`).
    delivery: Delivery,
    /// With a delivery queue: the newest status waiting for its queued task to set it.
    queued_status: Mutex<Option<SyncStatus>>,
    /// The async runtime, taken by the first awaited operation and kept until the client goes.
    runtime: OnceLock<RuntimeRef>,
    /// Awaited writes, committed in order on the runtime's blocking pool.
    write_lane: OnceLock<tokio::sync::mpsc::UnboundedSender<LaneJob>>,
    /// Wakes awaited flushes when `settled` changes or the client closes.
    settled_async: tokio::sync::Notify,
    /// Sync states and queued mutations' bookkeeping (see `client::lifecycle`).
    pub(crate) queue_watch: QueueWatch,
    /// Whether a first full catch-up completed (persisted in the store's metadata).
    has_synced: AtomicBool,
    /// `has_synced`, set only once the status saying so is published: what the waiters of
    /// `wait_for_first_sync` check, so none returns while the status still says otherwise.
    first_sync_announced: AtomicBool,
}

/// The store metadata key of [`ClientCore::has_synced`].
const HAS_SYNCED: &str = "has_synced";

/// A write committed on the write lane.
type LaneJob = Box<dyn FnOnce() + Send>;

/// What a collection write means to do; its operation depends on whether the entity exists
/// when it is queued.
pub(crate) enum WriteIntent {
    /// Create the entity; refused when it exists.
    Create(Encoded),
    /// Create or replace the entity.
    Set(Encoded),
    /// Delete the entity; nothing when it does not exist.
    Delete,
}

/// A value to write: its canonical JSON text, and the JSON tree it was printed from when the
/// writer has one (the codec then moves it into the mutation instead of parsing the text).
pub(crate) struct Encoded {
    pub(crate) text: JsonText,
    pub(crate) tree: Option<Value>,
}

impl Encoded {
    /// Prints `tree` canonically (object keys sorted, no spaces) and keeps it.
    pub(crate) fn from_tree(tree: Value) -> Self {
        Encoded {
            text: tree.to_string().into(),
            tree: Some(tree),
        }
    }
}

/// [`WriteIntent`] once its JSON tree is set aside.
enum Intent {
    Create(JsonText),
    Set(JsonText),
    Delete,
}

impl ClientCore {
    /// Opens the store and validates the transport configuration.
    pub(crate) fn open(options: Options) -> Result<Arc<ClientCore>, Error> {
        let mut http = HttpConfig::new(options.base_url.clone());
        http.request_timeout = options.request_timeout;
        http.connect_timeout = options.request_timeout.min(http.connect_timeout);
        http.headers = options.headers.clone();
        http.auth = options.auth.clone();
        let logger = Logger::new(options.log_sink.clone());
        http.logger = logger.clone();
        let http = HttpTransport::new(http).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        validate(&options)?;
        let store = match &options.storage_path {
            Some(path) => {
                Store::open_with(path, options.encryption_key.as_deref(), options.durability)?
            }
            None => Store::open_in_memory(),
        };
        let has_synced = store.meta_get(HAS_SYNCED).is_some();
        let status = SyncStatus {
            pending: store.pending_count(),
            cursor: store.cursor(),
            has_synced,
            ..SyncStatus::default()
        };
        let queries = Arc::new(Registry::default());
        store.set_observer(queries.clone());
        let delivery = match &options.delivery_ready {
            Some(ready) => Delivery::queue(ready.clone()),
            None => Delivery::Inline,
        };
        Ok(Arc::new(ClientCore {
            ids: IdGenerator::new(store.client_id()),
            store,
            triggers: Triggers::default(),
            queries,
            options,
            logger,
            http: Arc::new(http),
            status: Signal::new(status),
            engine: Mutex::new(None),
            closed: AtomicBool::new(false),
            settled: Mutex::new(false),
            settled_changed: Condvar::new(),
            last_synced: Mutex::new(None),
            write_order: Mutex::new(()),
            delivery,
            queued_status: Mutex::new(None),
            runtime: OnceLock::new(),
            write_lane: OnceLock::new(),
            settled_async: tokio::sync::Notify::new(),
            queue_watch: QueueWatch::new(),
            has_synced: AtomicBool::new(has_synced),
            first_sync_announced: AtomicBool::new(has_synced),
        }))
    }

    pub(crate) fn check_open(&self) -> Result<(), Error> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    pub(crate) fn start(self: &Arc<Self>) -> Result<(), Error> {
        self.start_engine(true)
    }

    /// Starts the engine (idempotent), with the live connection when configured and `live`.
    pub(crate) fn start_engine(self: &Arc<Self>, live: bool) -> Result<(), Error> {
        self.check_open()?;
        let mut engine = lock(&self.engine);
        if engine.is_some() {
            return Ok(());
        }
        *engine = Some(EngineHandle::start(
            self.clone(),
            self.http.clone(),
            self.machine_options(),
            self.live_config().filter(|_| live),
        )?);
        Ok(())
    }

    pub(crate) fn stop(&self) {
        let engine = lock(&self.engine).take();
        if let Some(engine) = engine {
            engine.shutdown();
        }
    }

    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.stop();
        self.store.close();
        self.settled_changed.notify_all();
        self.settled_async.notify_waiters();
        self.delivery.close();
    }

    pub(crate) fn is_started(&self) -> bool {
        lock(&self.engine).is_some()
    }

    pub(crate) fn sync(&self) -> Result<(), Error> {
        self.check_open()?;
        let (reply, answer) = mpsc::channel();
        self.command(Command::Sync(SyncReply::Blocking(reply)))?;
        // The machine answers every sync: when the round ends, on its first error, or on stop.
        // Each request is bounded by the request timeout; the bound here only guards a bug.
        let bound = self.sync_bound();
        let result = answer
            .recv_timeout(bound)
            .unwrap_or(Err(Error::WaitTimedOut(bound)));
        self.sync_outcome(result)
    }

    /// The machine answers every sync: when the round ends, on its first error, or on stop.
    /// Each request is bounded by the request timeout; this bound only guards a bug.
    fn sync_bound(&self) -> Duration {
        self.options.request_timeout * 8 + Duration::from_secs(5)
    }

    fn sync_outcome(&self, result: Result<(), Error>) -> Result<(), Error> {
        match result {
            // `close()` stopped the engine under this call: say closed, not "not started".
            Err(Error::NotStarted) if self.check_open().is_err() => Err(Error::Closed),
            other => other,
        }
    }

    /// [`sync`](Self::sync) as a future that any executor can poll; dropping it stops the wait
    /// (the round goes on in the background).
    pub(crate) fn sync_async(
        self: &Arc<Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let shared = self.clone();
        self.on_runtime(async move {
            shared.check_open()?;
            let (reply, answer) = tokio::sync::oneshot::channel();
            shared.command(Command::Sync(SyncReply::Async(reply)))?;
            let bound = shared.sync_bound();
            let result = match tokio::time::timeout(bound, answer).await {
                Ok(Ok(result)) => result,
                // The engine went without answering: it was stopped.
                Ok(Err(_)) => Err(Error::NotStarted),
                Err(_) => Err(Error::WaitTimedOut(bound)),
            };
            shared.sync_outcome(result)
        })
    }

    /// [`flush`](Self::flush) as a future that any executor can poll; dropping it stops the
    /// wait at once.
    pub(crate) fn flush_async(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let shared = self.clone();
        self.on_runtime(async move {
            shared.check_open()?;
            shared.command(Command::Sync(SyncReply::Ignored))?;
            shared.wait_until_async(timeout, ClientCore::flushed).await
        })
    }

    /// [`close`](Self::close) off the caller's thread (it waits for the engine's current step
    /// and the store's last commit).
    pub(crate) fn close_async(
        self: &Arc<Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let shared = self.clone();
        let task = self.runtime().map(|rt| {
            rt.spawn_blocking(move || {
                shared.close();
                Ok(())
            })
        });
        async move { task?.await }
    }

    /// The runtime of the async surface, started on first use.
    fn runtime(&self) -> Result<&RuntimeRef, Error> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = RuntimeRef::get()?;
        Ok(self.runtime.get_or_init(|| rt))
    }

    /// Runs `future` on the runtime; the returned future (for any executor) aborts it when
    /// dropped.
    pub(crate) fn on_runtime<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static {
        let task = self.runtime().map(|rt| rt.spawn(future));
        async move { task?.await }
    }

    /// Commits `job` on the write lane, off the caller's thread and in the order of the calls;
    /// the returned future resolves to its result. The job is queued by this call: dropping the
    /// future stops the wait, never the write.
    pub(crate) fn commit_async<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&Arc<ClientCore>) -> Result<T, Error> + Send + 'static,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let shared = self.clone();
        let queued = self.write_lane().and_then(|lane| {
            lane.send(Box::new(move || {
                let result = catch_unwind(AssertUnwindSafe(|| job(&shared)))
                    .unwrap_or_else(|_| Err(Error::Internal("an awaited write panicked".into())));
                let _ = reply.send(result);
            }))
            .map_err(|_| Error::Closed)
        });
        async move {
            queued?;
            answer.await.unwrap_or(Err(Error::Closed))
        }
    }

    fn write_lane(&self) -> Result<&tokio::sync::mpsc::UnboundedSender<LaneJob>, Error> {
        if let Some(lane) = self.write_lane.get() {
            return Ok(lane);
        }
        let rt = self.runtime()?;
        Ok(self.write_lane.get_or_init(|| {
            let (jobs, mut next) = tokio::sync::mpsc::unbounded_channel::<LaneJob>();
            rt.spawn_detached(async move {
                while let Some(job) = next.recv().await {
                    // One at a time, so writes commit in the order they were made.
                    let _ = tokio::task::spawn_blocking(job).await;
                }
            });
            jobs
        }))
    }

    /// Runs every delivery waiting in the delivery queue on the calling thread; returns how
    /// many ran.
    pub(crate) fn dispatch_pending(&self) -> Result<usize, Error> {
        self.check_open()?;
        let (ran, panics) = self.delivery.dispatch_pending();
        if panics > 0 {
            self.report_callback_panic("a delivered effect or listener");
        }
        Ok(ran)
    }

    /// Runs `task` where deliveries go (see `client::delivery`); a panic in it is reported.
    pub(crate) fn deliver(self: &Arc<Self>, task: impl FnOnce() + Send + 'static) {
        if self.delivery.deliver(task) {
            self.report_callback_panic("an effect or listener");
        }
    }

    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.check_open()?;
        // Skip a running backoff: a flush means "now".
        self.command(Command::Sync(SyncReply::Ignored))?;
        self.wait_until(timeout, ClientCore::flushed)
    }

    /// Whether everything queued is acknowledged and pulled back (`settled` is the engine's
    /// word for the acknowledgements).
    fn flushed(&self, settled: bool) -> bool {
        settled && self.store.pending_count() == 0
    }

    /// Whether a first full catch-up completed.
    fn first_synced(&self, _settled: bool) -> bool {
        self.first_sync_announced.load(Ordering::Acquire)
    }

    /// Blocks until `done` holds (checked whenever `settled` changes or the first sync
    /// completes, and at least every 100 ms, since local writes do not signal), or `timeout`
    /// passes.
    ///
    /// # Errors
    /// [`Error::WaitTimedOut`]; [`Error::NotStarted`] when the engine is not (or no longer)
    /// running; [`Error::Closed`].
    fn wait_until(&self, timeout: Duration, done: fn(&Self, bool) -> bool) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let mut settled = lock(&self.settled);
        loop {
            self.check_open()?;
            if done(self, *settled) {
                return Ok(());
            }
            if !self.is_started() {
                return Err(Error::NotStarted);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::WaitTimedOut(timeout));
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            settled = self
                .settled_changed
                .wait_timeout(settled, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// [`wait_until`](Self::wait_until) on the runtime: no thread waits.
    async fn wait_until_async(
        &self,
        timeout: Duration,
        done: fn(&Self, bool) -> bool,
    ) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the checks, so a change between them is not missed.
            let changed = self.settled_async.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            self.check_open()?;
            let settled = *lock(&self.settled);
            if done(self, settled) {
                return Ok(());
            }
            if !self.is_started() {
                return Err(Error::NotStarted);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::WaitTimedOut(timeout));
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    pub(crate) fn pause(&self, paused: bool) {
        let _ = self.command(if paused {
            Command::Pause
        } else {
            Command::Resume
        });
        self.status.update(|s| SyncStatus {
            paused,
            ..s.clone()
        });
    }

    pub(crate) fn notify_live(&self, cursor: u64) {
        let _ = self.command(Command::LiveCursor(cursor));
    }

    /// Sends a command to the running engine.
    ///
    /// # Errors
    /// [`Error::NotStarted`] without one; [`Error::InvalidArgument`] on the engine thread for
    /// commands that wait for an answer (they would deadlock).
    fn command(&self, command: Command) -> Result<(), Error> {
        let engine = lock(&self.engine);
        let engine = engine.as_ref().ok_or(Error::NotStarted)?;
        let waits = matches!(
            command,
            Command::Sync(SyncReply::Blocking(_) | SyncReply::Ignored)
        );
        if waits && engine.is_engine_thread() {
            return Err(Error::InvalidArgument(
                "sync() and flush() cannot be called from a sync callback or an effect woken by sync".into(),
            ));
        }
        if engine.send(command) {
            Ok(())
        } else {
            Err(Error::NotStarted)
        }
    }

    /// Records a local collection write: picks its operation from whether the entity exists,
    /// encodes it, queues it durably with its optimistic effect, wakes its readers, and nudges
    /// the engine.
    ///
    /// The operation is chosen, and re-checked, under `write_order`, which every collection
    /// write takes to queue: two threads writing one entity cannot both queue a create, nor
    /// an update behind another thread's delete (the server would reject the second and the
    /// write that returned last would be lost). The codec (app code) runs outside the lock;
    /// when the entity appeared or vanished meanwhile, the write is encoded again.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a create of an entity that exists or a value the codec
    /// cannot express;
    /// [`Error::Storage`], [`Error::Closed`].
    pub(crate) fn write(&self, key: &EntityKey, intent: WriteIntent) -> Result<(), Error> {
        if let Some(changed) = self.record(key, intent)? {
            self.announce(&changed);
        }
        Ok(())
    }

    /// [`write`](Self::write) committed on the write lane; its readers are woken where
    /// deliveries go.
    pub(crate) fn write_async(
        self: &Arc<Self>,
        key: Arc<EntityKey>,
        intent: WriteIntent,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        self.commit_async(move |shared| {
            if let Some(changed) = shared.record(&key, intent)? {
                shared.announce_delivered(changed);
            }
            Ok(())
        })
    }

    /// [`mutate`](Self::mutate) committed on the write lane.
    pub(crate) fn mutate_async(
        self: &Arc<Self>,
        name: String,
        args: Option<Value>,
    ) -> impl Future<Output = Result<String, Error>> + Send + 'static {
        self.commit_async(move |shared| {
            shared.check_open()?;
            check_mutation_name(&name)?;
            let (id, changed) = {
                let _order = shared.lock_write_order();
                shared.queue(name, args, None)?
            };
            shared.announce_delivered(changed);
            Ok(id)
        })
    }

    /// Checks and queues a collection write (see [`write`](Self::write)); returns what changed,
    /// or `None` for a delete of an entity that does not exist.
    fn record(&self, key: &EntityKey, intent: WriteIntent) -> Result<Option<Changed>, Error> {
        // The tree is moved into the first attempt's mutation; a retry parses the text again.
        let (intent, mut tree) = match intent {
            WriteIntent::Create(Encoded { text, tree }) => (Intent::Create(text), tree),
            WriteIntent::Set(Encoded { text, tree }) => (Intent::Set(text), tree),
            WriteIntent::Delete => (Intent::Delete, None),
        };
        loop {
            self.check_open()?;
            let exists = self.store.has(key);
            let (op, value) = match (&intent, exists) {
                (Intent::Create(_), true) => {
                    return Err(Error::InvalidArgument(format!(
                        "entity {}/{} already exists; use Entity::set to change it",
                        key.collection, key.id
                    )))
                }
                (Intent::Delete, false) => return Ok(None),
                (Intent::Delete, true) => (EntityOp::Delete, None),
                (Intent::Set(v), true) => (EntityOp::Update, Some(v.clone())),
                (Intent::Create(v) | Intent::Set(v), false) => (EntityOp::Create, Some(v.clone())),
            };
            let change = EntityChange {
                key: key.clone(),
                op,
                value,
            };
            let (name, args) = self
                .options
                .codec
                .encode_write_parsed(&change, tree.take())
                // The caller's value or key cannot be expressed as a mutation (a JSON `null`,
                // which NaN and `None` also serialize to, for the default codec): a bad
                // argument, not undecodable server data.
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            let queued = {
                let _order = self.lock_write_order();
                if self.store.has(key) == exists {
                    Some(self.queue(name, args, Some(change))?)
                } else {
                    None
                }
            };
            if let Some((_, changed)) = queued {
                self.queue_watch.written(key);
                return Ok(Some(changed));
            }
        }
    }

    /// Records an app-defined mutation; returns its id.
    pub(crate) fn mutate(&self, name: &str, args: Option<Value>) -> Result<String, Error> {
        self.check_open()?;
        check_mutation_name(name)?;
        self.enqueue(name.to_owned(), args, None)
    }

    fn enqueue(
        &self,
        name: String,
        args: Option<Value>,
        change: Option<EntityChange>,
    ) -> Result<String, Error> {
        let (id, changed) = {
            let _order = self.lock_write_order();
            self.queue(name, args, change)?
        };
        self.announce(&changed);
        Ok(id)
    }

    /// Queues a mutation durably with its optimistic effect; returns its id and what changed.
    fn queue(
        &self,
        name: String,
        args: Option<Value>,
        change: Option<EntityChange>,
    ) -> Result<(String, Changed), Error> {
        let id = self.ids.next_id();
        let mutation = Mutation {
            id: id.clone(),
            scope: self.options.scope.clone(),
            name,
            args,
        };
        let (_, changed) = self.store.enqueue(mutation, change)?;
        Ok((id, changed))
    }

    /// After a write was queued on the app's thread: wakes its readers and the live queries it
    /// changed here (no lock held), publishes the pending count and nudges the engine.
    fn announce(&self, changed: &Changed) {
        let pending = self.store.pending_count();
        let woken = Woken::take(&self.queries);
        self.wake(woken, changed, || self.queue_changed_here(pending));
        let _ = self.command(Command::PendingChanged);
    }

    /// [`announce`](Self::announce) for a write committed off the app's thread: its readers are
    /// woken where deliveries go; the engine is nudged at once.
    fn announce_delivered(self: &Arc<Self>, changed: Changed) {
        let pending = self.store.pending_count();
        let woken = Woken::take(&self.queries);
        let shared = self.clone();
        self.deliver(move || shared.wake(woken, &changed, || shared.queue_changed_here(pending)));
        let _ = self.command(Command::PendingChanged);
    }

    /// After the queue changed on the app's thread (a discard, a clear): wakes the readers of
    /// what changed and of sync states here, and nudges the engine.
    pub(crate) fn after_queue_change(&self, changed: Changed) {
        self.announce(&changed);
    }

    /// After the engine changed the queue (acknowledgements, rejections, settling): as
    /// [`notify`](Self::notify), and the readers of sync states are woken too.
    pub(crate) fn notify_queue(self: &Arc<Self>, changed: Changed) {
        let woken = Woken::take(&self.queries);
        let shared = self.clone();
        self.deliver(move || shared.wake(woken, &changed, || shared.queue_watch.bump()));
    }

    /// Publishes the pending count and wakes the readers of sync states (inside a wake).
    fn queue_changed_here(&self, pending: usize) {
        self.queue_watch.bump();
        self.status.update(|s| SyncStatus {
            pending,
            ..s.clone()
        })
    }

    /// Taken by every write to check its operation and queue it, and by `clear` and `discard`.
    pub(crate) fn lock_write_order(&self) -> MutexGuard<'_, ()> {
        lock(&self.write_order)
    }

    /// Notes (and stores) that a full catch-up completed; whether it is the first.
    pub(crate) fn note_first_sync(&self) -> bool {
        if self.has_synced.swap(true, Ordering::AcqRel) {
            return false;
        }
        if let Err(e) = self.store.meta_set(HAS_SYNCED, Some("1")) {
            self.report(Error::from(e));
        }
        true
    }

    /// Announces the first sync (the status says so by now) and wakes the waiters of
    /// `wait_for_first_sync` (they wait on the `settled` condition and notification).
    pub(crate) fn wake_first_sync_waiters(&self) {
        self.first_sync_announced.store(true, Ordering::Release);
        let _settled = lock(&self.settled);
        self.settled_changed.notify_all();
        self.settled_async.notify_waiters();
    }

    /// Waits until a first full catch-up has completed (at once when one ever has).
    pub(crate) fn wait_for_first_sync(&self, timeout: Duration) -> Result<(), Error> {
        self.wait_until(timeout, ClientCore::first_synced)
    }

    /// [`wait_for_first_sync`](Self::wait_for_first_sync) as a future; dropping it stops the wait.
    pub(crate) fn wait_for_first_sync_async(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let shared = self.clone();
        self.on_runtime(async move {
            shared
                .wait_until_async(timeout, ClientCore::first_synced)
                .await
        })
    }

    /// After the store was wiped (under the write order): a new client id, nothing synced.
    /// Wakes nobody; [`reset_status`](Self::reset_status) does, once the lock is released.
    pub(crate) fn reset_after_wipe(&self) {
        self.has_synced.store(false, Ordering::Release);
        self.first_sync_announced.store(false, Ordering::Release);
        self.ids.reset(self.store.client_id());
        *lock(&self.last_synced) = None;
        self.set_settled(false);
        *lock(&self.queued_status) = None;
    }

    /// Publishes a fresh status (keeping `paused`) after a wipe; its readers run here, so call
    /// it with no lock held.
    pub(crate) fn reset_status(&self) {
        let paused = self.status.with_untracked(|s| s.paused);
        self.status.set(SyncStatus {
            paused,
            ..SyncStatus::default()
        });
    }

    /// After a server-side transaction (on the engine thread): wakes the readers of what
    /// changed and of the live queries it changed, then delivers query diffs and collection
    /// feeds, where deliveries go (no lock held; a panic among them is caught and reported).
    pub(crate) fn notify(self: &Arc<Self>, changed: Changed) {
        if changed.is_empty() && !self.queries.has_dirty() {
            return;
        }
        let woken = Woken::take(&self.queries);
        let shared = self.clone();
        self.deliver(move || shared.wake(woken, &changed, || {}));
    }

    fn wake(&self, woken: Woken, changed: &Changed, also: impl FnOnce()) {
        let exists = |key: &EntityKey| self.store.has(key);
        let panics = woken.wake(&self.triggers, changed, exists, also);
        if panics > 0 {
            self.report_callback_panic("an effect or listener");
        }
    }

    /// Hands an error to `on_error` where deliveries go (a panic there is caught).
    pub(crate) fn report(&self, error: Error) {
        match &error {
            Error::Storage(_) => log_to!(self.logger, Error, targets::STORE, "{error}"),
            // Logged where they are decided (targets::REJECTION).
            Error::Rejected { .. } => {}
            _ => log_to!(self.logger, Warn, targets::ENGINE, "{error}"),
        }
        if let Some(on_error) = self.options.on_error.clone() {
            let _ = self.delivery.deliver(move || on_error(&error));
        }
    }

    pub(crate) fn report_callback_panic(&self, what: &str) {
        self.report(Error::Internal(format!("{what} panicked; syncing goes on")));
    }

    pub(crate) fn status_signal(&self) -> &Signal<SyncStatus> {
        &self.status
    }

    /// Publishes the machine's status (the status signal wakes its readers if it changed).
    pub(crate) fn publish_machine_status(
        self: &Arc<Self>,
        status: &Status,
        pending: usize,
        (download, upload): (Progress, Progress),
    ) {
        let last_synced = *lock(&self.last_synced);
        let next = SyncStatus {
            has_synced: self.has_synced.load(Ordering::Acquire),
            download,
            upload,
            online: status.online,
            syncing: status.syncing,
            pending,
            cursor: status.cursor,
            last_error: status
                .last_error
                .as_ref()
                .map(|e| Error::from(e.clone()).to_string()),
            last_synced,
            paused: status.paused,
        };
        if self.delivery.is_queued() {
            // Coalesced: one queued status task at a time, carrying the newest status.
            let mut queued = lock(&self.queued_status);
            if queued.is_some() {
                *queued = Some(next);
                return;
            }
            if self.status.with_untracked(|current| *current == next) {
                return;
            }
            *queued = Some(next);
            drop(queued);
            let shared = self.clone();
            self.deliver(move || {
                let next = lock(&shared.queued_status).take();
                if let Some(next) = next {
                    shared.status.set(next);
                }
            });
            return;
        }
        if catch_unwind(AssertUnwindSafe(|| self.status.set(next))).is_err() {
            self.report_callback_panic("an effect reading the status");
        }
    }

    pub(crate) fn mark_synced(&self, at: SystemTime) {
        *lock(&self.last_synced) = Some(at);
    }

    pub(crate) fn set_settled(&self, settled: bool) {
        let mut current = lock(&self.settled);
        if *current != settled {
            *current = settled;
            self.settled_changed.notify_all();
        }
    }

    fn machine_options(&self) -> MachineOptions {
        let mut seed = DefaultHasher::new();
        self.store.client_id().hash(&mut seed);
        SystemTime::now().hash(&mut seed);
        machine_options(&self.options, seed.finish())
    }

    fn live_config(&self) -> Option<LiveConfig> {
        let o = &self.options;
        let url = o.live_url.clone()?;
        let mut cfg = LiveConfig::new(url, o.scope.clone());
        cfg.headers = o.headers.clone();
        cfg.auth = o.auth.clone();
        cfg.logger = self.logger.clone();
        cfg.subscribe_message = o.subscribe_message.clone();
        // Opening the live connection is bounded like any request.
        cfg.connect_timeout = o.request_timeout;
        Some(cfg)
    }
}

fn check_mutation_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        Err(Error::InvalidArgument("a mutation needs a name".into()))
    } else {
        Ok(())
    }
}

/// The sync machine's share of `o`.
fn machine_options(o: &Options, jitter_seed: u64) -> MachineOptions {
    MachineOptions {
        scope: o.scope.clone(),
        push_batch_size: o.push_batch_size,
        pull_limit: o.pull_limit,
        push_interval: o.push_interval,
        pull_interval: o.pull_interval,
        backoff_min: o.backoff_min,
        backoff_max: o.backoff_max,
        // A copy of a push that timed out has been on its way for a request timeout already;
        // allow it as long again to arrive.
        doubt_window: o.request_timeout,
        jitter_seed,
        // The machine opens and reopens the live socket, with this same backoff.
        live: o.live_url.is_some(),
    }
}

/// Refuses, at creation, every option that would only fail later: when the engine starts
/// (intervals, batch and page sizes, backoff bounds, the live URL) or on every request (a zero
/// timeout).
fn validate(options: &Options) -> Result<(), Error> {
    machine_options(options, 0)
        .validate()
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    if options.request_timeout.is_zero() {
        return Err(Error::InvalidArgument(
            "request_timeout must be greater than zero".into(),
        ));
    }
    crate::client::options::validate_encryption(options)?;
    if options.max_snapshot_bytes == Some(0) {
        return Err(Error::InvalidArgument(
            "max_snapshot_bytes must be greater than zero".into(),
        ));
    }
    if let Some(url) = &options.live_url {
        crate::client::live::validate_url(url)
            .map_err(|e| Error::InvalidArgument(format!("live connection: {e}")))?;
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
