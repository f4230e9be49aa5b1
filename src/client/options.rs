//! [`Options`]: everything a [`crate::Client`] can be configured with, with sensible defaults.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::client::Error;
use crate::protocol::codec::{Codec, DefaultCodec};
use crate::protocol::wire::MAX_PUSH_BATCH;
pub use crate::store::Durability;

pub use crate::client::auth::AuthProvider;
pub use crate::client::delivery::ReadyCallback;
use crate::client::logging::{LogLevel, LogRecord, LogSink};

/// Called with the new cursor after each completed pull or snapshot.
pub type SyncCallback = Arc<dyn Fn(u64) + Send + Sync>;
/// Called on a connectivity transition: `true` when the client goes online, `false` offline.
pub type ConnectivityCallback = Arc<dyn Fn(bool) + Send + Sync>;
/// Called with each error the engine surfaces (network trouble, rejected mutations, ...).
pub type ErrorCallback = Arc<dyn Fn(&Error) + Send + Sync>;

/// Configuration of a [`crate::Client`].
///
/// Build it with [`Options::new`] and the chained setters; every field has a default except
/// the base URL.
///
/// ```
/// use std::time::Duration;
/// use mizu_sync::Options;
///
/// let options = Options::new("http://127.0.0.1:8080/_sync")
///     .scope("team-42")
///     .pull_interval(Duration::from_secs(10))
///     .header("X-App-Version", "1.2.3")
///     .on_sync(|cursor| println!("synced up to {cursor}"));
/// assert_eq!(options.scope, "team-42");
/// ```
#[derive(Clone)]
pub struct Options {
    /// Base URL of the sync endpoints, e.g. `https://api.example.com/_sync`.
    pub base_url: String,
    /// Scope of every request; empty means the server's `_default`.
    pub scope: String,
    /// Called with the new cursor after each completed pull or snapshot.
    pub on_sync: Option<SyncCallback>,
    /// Called on each connectivity transition (`true`: online, `false`: offline).
    pub on_connectivity: Option<ConnectivityCallback>,
    /// Called with each surfaced error, including rejected mutations.
    pub on_error: Option<ErrorCallback>,
    /// How often pending mutations are pushed when nothing else triggers a push.
    pub push_interval: Duration,
    /// How often the client pulls when no live notification arrives.
    pub pull_interval: Duration,
    /// Mutations per push request: at most 100 (the server's limit), default 100.
    pub push_batch_size: usize,
    /// Changes per pull page (the server caps it at its own limit, 1000 by default).
    pub pull_limit: u32,
    /// Upper bound of one HTTP request, connect to last byte (except a snapshot's body, which
    /// streams for as long as data keeps coming, each read waiting at most this long); also
    /// bounds opening the live
    /// connection, and how long a rejection that follows a push of unknown outcome waits before
    /// it is believed (see the README's guarantees).
    pub request_timeout: Duration,
    /// First retry delay after a failure; doubled per failure, with jitter. The same bounds
    /// pace the live connection's reconnects (each with its own count of failures).
    pub backoff_min: Duration,
    /// Largest retry delay.
    pub backoff_max: Duration,
    /// Extra HTTP headers sent with every request (and the live handshake).
    pub headers: Vec<(String, String)>,
    /// Supplies a bearer token per request; asked to refresh after a 401 or 403.
    pub auth: Option<Arc<dyn AuthProvider>>,
    /// URL of the live WebSocket (e.g. `ws://host/ws?scope=S`); `None` means polling only.
    pub live_url: Option<String>,
    /// The message sent after the live connection opens.
    pub subscribe_message: Value,
    /// Largest snapshot body accepted, in bytes; `None` (the default) accepts any size. A
    /// larger snapshot is abandoned as it streams in (the local state is kept) and reported as
    /// [`Error::SnapshotTooLarge`] through the status and `on_error`; it is asked for again at
    /// the next pull interval, live notice or `sync()`. Snapshots are decoded and stored as they
    /// arrive, so their size costs no extra memory beyond the data itself. Whatever the limit,
    /// one entity may take at most 64 MiB of the body (it is held whole while it is read); a
    /// larger one is refused the same way, as [`Error::Codec`].
    pub max_snapshot_bytes: Option<u64>,
    /// SQLite file for the durable store; `None` keeps everything in memory.
    pub storage_path: Option<PathBuf>,
    /// How hard each commit to the store file is pushed to disk (see
    /// [`durability`](Self::durability)); [`Durability::Full`] by default. No effect in memory.
    pub durability: Durability,
    /// Encrypts the store file with SQLCipher under this key (see
    /// [`encryption_key`](Self::encryption_key)); `None` keeps it plain SQLite. Never printed by
    /// `Debug`.
    pub encryption_key: Option<String>,
    /// Maps collection writes, server changes and snapshots to and from the wire.
    pub codec: Arc<dyn Codec>,
    /// With a delivery queue: called when deliveries wait for
    /// [`Client::dispatch_pending`](crate::Client::dispatch_pending) (see
    /// [`delivery_queue`](Self::delivery_queue)); `None` runs them where they arise.
    pub delivery_ready: Option<ReadyCallback>,
    /// Receives the engine's log records at or above the level (see
    /// [`log_sink`](Self::log_sink)); `None` sends them to the `log` facade only.
    pub log_sink: Option<(LogLevel, LogSink)>,
}

impl Options {
    /// Options for a server at `base_url` with every other setting at its default.
    pub fn new(base_url: impl Into<String>) -> Self {
        Options {
            base_url: base_url.into(),
            scope: String::new(),
            on_sync: None,
            on_connectivity: None,
            on_error: None,
            push_interval: Duration::from_secs(5),
            pull_interval: Duration::from_secs(30),
            push_batch_size: MAX_PUSH_BATCH,
            pull_limit: 1000,
            request_timeout: Duration::from_secs(30),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            headers: Vec::new(),
            auth: None,
            live_url: None,
            subscribe_message: serde_json::json!({"topic": "subscribe", "data": {}}),
            max_snapshot_bytes: None,
            storage_path: None,
            durability: Durability::Full,
            encryption_key: None,
            codec: Arc::new(DefaultCodec),
            delivery_ready: None,
            log_sink: None,
        }
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Sets the callback run after each completed pull or snapshot.
    pub fn on_sync(mut self, f: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.on_sync = Some(Arc::new(f));
        self
    }

    /// Sets the callback run on each connectivity transition, with `true` when the client goes
    /// online and `false` when it goes offline.
    pub fn on_connectivity(mut self, f: impl Fn(bool) + Send + Sync + 'static) -> Self {
        self.on_connectivity = Some(Arc::new(f));
        self
    }

    /// Queues deliveries for the app instead of running them on library threads: the effects
    /// and listeners woken by server changes and by awaited writes, status changes and client
    /// callbacks (`on_sync`, `on_connectivity`, `on_error`). `ready` is called on a library
    /// thread, with no lock held, when deliveries start waiting; the app then calls
    /// [`Client::dispatch_pending`](crate::Client::dispatch_pending) on the thread where they
    /// should run (its UI thread, an executor). Without it (the default) they run on the
    /// library thread that saw the change.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use mizu_sync::{Client, Options};
    ///
    /// # fn main() -> Result<(), mizu_sync::Error> {
    /// let (wake, woken) = mpsc::channel();
    /// let options = Options::new("http://127.0.0.1:9/_sync").delivery_queue(move || {
    ///     let _ = wake.send(());
    /// });
    /// let client = Client::new(options)?;
    /// // On the app's own thread, whenever `woken` receives:
    /// while woken.try_recv().is_ok() {
    ///     client.dispatch_pending()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn delivery_queue(mut self, ready: impl Fn() + Send + Sync + 'static) -> Self {
        self.delivery_ready = Some(Arc::new(ready));
        self
    }

    /// Sets the callback run with each surfaced error.
    pub fn on_error(mut self, f: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(f));
        self
    }

    /// Sets the push interval.
    pub fn push_interval(mut self, interval: Duration) -> Self {
        self.push_interval = interval;
        self
    }

    /// Sets the pull interval.
    pub fn pull_interval(mut self, interval: Duration) -> Self {
        self.pull_interval = interval;
        self
    }

    /// Sets the push batch size (clamped to 1..=100).
    pub fn push_batch_size(mut self, size: usize) -> Self {
        self.push_batch_size = size.clamp(1, MAX_PUSH_BATCH);
        self
    }

    /// Sets the pull page size.
    pub fn pull_limit(mut self, limit: u32) -> Self {
        self.pull_limit = limit;
        self
    }

    /// Sets the per-request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the retry backoff bounds.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// Adds an HTTP header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the bearer-token provider.
    pub fn auth(mut self, provider: impl AuthProvider + 'static) -> Self {
        self.auth = Some(Arc::new(provider));
        self
    }

    /// Enables the live WebSocket at `url`.
    pub fn live_url(mut self, url: impl Into<String>) -> Self {
        self.live_url = Some(url.into());
        self
    }

    /// Replaces the message sent after the live connection opens.
    pub fn subscribe_message(mut self, message: Value) -> Self {
        self.subscribe_message = message;
        self
    }

    /// Stores everything in the SQLite file at `path` (created when missing).
    pub fn storage_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.storage_path = Some(path.into());
        self
    }

    /// Sets the store file's [`Durability`]. The default, [`Durability::Full`]
    /// (`synchronous = FULL`), fsyncs every commit: a write that returned survives a process kill
    /// and a power loss. [`Durability::Normal`] (`synchronous = NORMAL`) skips that fsync: writes
    /// are faster and still survive a process kill (a crash, the OS killing the app), but the last
    /// commits before a power loss or an OS crash may be lost, with their queued mutations (the
    /// file stays consistent). No effect without a [`storage_path`](Self::storage_path).
    ///
    /// ```
    /// use mizu_sync::{Durability, Options};
    ///
    /// let options = Options::new("http://127.0.0.1:8080/_sync")
    ///     .storage_path("/tmp/app.db")
    ///     .durability(Durability::Normal);
    /// assert_eq!(options.durability, Durability::Normal);
    /// ```
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Encrypts the store file (and its WAL) at rest with SQLCipher under `key`: a passphrase
    /// (stretched with PBKDF2-HMAC-SHA512, 256,000 iterations, at each open) or a raw 256-bit key
    /// written `x'<64 hex digits>'`. Needs a [`storage_path`](Self::storage_path). The same key
    /// must be given at every open; [`Client::rekey`](crate::Client::rekey) changes it. The key is
    /// the app's to keep (the iOS Keychain, the Android Keystore): a lost key is lost data.
    ///
    /// ```
    /// use mizu_sync::Options;
    ///
    /// let options = Options::new("http://127.0.0.1:8080/_sync")
    ///     .storage_path("/tmp/app.db")
    ///     .encryption_key("a passphrase from the keychain");
    /// assert!(!format!("{options:?}").contains("passphrase"));
    /// ```
    pub fn encryption_key(mut self, key: impl Into<String>) -> Self {
        self.encryption_key = Some(key.into());
        self
    }

    /// Sends the engine's decisions at `min_level` or above to `sink`: pushes and their outcome,
    /// pull pages, snapshots, backoff delays, rejections, auth refreshes, the live connection,
    /// store errors (see [`LogRecord`] and [`targets`](crate::log_targets)). The same records
    /// also go to the [`log`] crate's logger, when the app installed one, under targets
    /// `mizu_sync::…`. Records never hold a bearer token, a header value or a key, and are
    /// formatted only when someone listens at their level.
    ///
    /// # Threading
    /// `sink` runs on the library's threads with no lock of the library held; a panic in it is
    /// caught and the record dropped.
    ///
    /// ```
    /// use mizu_sync::{LogLevel, Options};
    ///
    /// let options = Options::new("http://127.0.0.1:8080/_sync").log_sink(LogLevel::Info, |r| {
    ///     eprintln!("[{}] {}: {}", r.level, r.target, r.message)
    /// });
    /// # assert!(options.log_sink.is_some());
    /// ```
    pub fn log_sink(
        mut self,
        min_level: LogLevel,
        sink: impl Fn(&LogRecord) + Send + Sync + 'static,
    ) -> Self {
        self.log_sink = Some((min_level, std::sync::Arc::new(sink)));
        self
    }

    /// Sets [`max_snapshot_bytes`](Self::max_snapshot_bytes): the largest snapshot accepted.
    pub fn max_snapshot_bytes(mut self, limit: u64) -> Self {
        self.max_snapshot_bytes = Some(limit);
        self
    }

    /// Replaces the data codec.
    pub fn codec(mut self, codec: impl Codec) -> Self {
        self.codec = Arc::new(codec);
        self
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("base_url", &self.base_url)
            .field("max_snapshot_bytes", &self.max_snapshot_bytes)
            .field("scope", &self.scope)
            .field("push_interval", &self.push_interval)
            .field("pull_interval", &self.pull_interval)
            .field("push_batch_size", &self.push_batch_size)
            .field("pull_limit", &self.pull_limit)
            .field("request_timeout", &self.request_timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("live_url", &self.live_url)
            .field("storage_path", &self.storage_path)
            .field("durability", &self.durability)
            .field("encrypted", &self.encryption_key.is_some())
            .field("log_level", &self.log_sink.as_ref().map(|(level, _)| level))
            .finish_non_exhaustive()
    }
}

/// Checks the encryption settings: a key is not empty (SQLCipher would take an empty key for no
/// encryption) and comes with a storage path.
pub(crate) fn validate_encryption(options: &Options) -> Result<(), Error> {
    match &options.encryption_key {
        Some(key) if key.is_empty() => Err(Error::InvalidArgument(
            "encryption_key must not be empty".into(),
        )),
        Some(_) if options.storage_path.is_none() => Err(Error::InvalidArgument(
            "encryption_key needs a storage_path (an in-memory store has no file to encrypt)"
                .into(),
        )),
        _ => Ok(()),
    }
}
