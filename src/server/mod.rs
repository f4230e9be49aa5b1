//! The reference sync server (cargo feature `server`): speaks PROTOCOL.md exactly as the mizu
//! server (`sync`, `sync/http`, `sync/memory`, `live`, v0.5.26) does, so a client that passes
//! against it passes against mizu's.
//!
//! - `POST {prefix}/push|pull|snapshot` (prefix `/_sync` by default), strict JSON decoding,
//!   mizu's body limits, batch limit, error bodies and texts.
//! - Mutations applied one by one by an [`ApplyFn`] (by default [`convention_apply`], the
//!   project's data convention); dedupe by (scope, id); one cursor counter for all scopes.
//! - Live WebSocket at `/ws?scope=S` publishing `{"topic":"sync:S","data":{"cursor":N}}`.
//! - Storage in memory or in SQLite (survives restarts).
//! - An optional admin API (`/_admin/trim`, `/_admin/reject`) and embedded equivalents.
//!
//! # Threading
//! Each server owns a small multi-thread tokio runtime (two workers, threads named
//! `mizu-sync-server`), apart from the client's runtime: axum routes on hyper's HTTP/1.1
//! connections, tokio-tungstenite for live sessions. Apply and scope hooks run on the runtime's
//! blocking pool with no server lock held. [`ServerHandle::shutdown`] (or dropping the handle)
//! closes every connection and stops the runtime, waiting for running hooks.
//!
//! ```no_run
//! use mizu_sync::server::{Server, ServerOptions};
//! let server = Server::start(ServerOptions::default())?;
//! println!("sync at {}", server.base_url());
//! # Ok::<(), mizu_sync::server::Error>(())
//! ```

mod admin;
mod apply;
mod connections;
mod engine;
mod error;
mod live;
mod request;
mod routes;
mod scope_log;
mod scope_state;
mod storage;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use apply::{
    convention_apply, ApplyFn, ScopeFn, ScopeRequest, ERR_CONFLICT, ERR_INVALID_MUTATION,
    ERR_NOT_FOUND,
};
pub use engine::RejectRule;
pub use error::Error;
pub use scope_state::ScopeState;

use crate::protocol::wire::{DEFAULT_PREFIX, MAX_PUSH_BATCH};
use connections::{accept_loop, Connections};
use engine::Engine;
use live::Hub;
use routes::{check_paths, router, App};
use storage::Db;

/// Where the server keeps its log, state and seen mutation ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Storage {
    /// In memory: lost when the server stops.
    #[default]
    Memory,
    /// In a SQLite database file (WAL), created if missing and reloaded on start.
    Sqlite(PathBuf),
}

/// Configuration of [`Server::start`].
#[derive(Clone)]
pub struct ServerOptions {
    /// Address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: String,
    /// Path prefix of the sync endpoints. Default `/_sync`.
    pub prefix: String,
    /// Path of the live WebSocket (outside the prefix). Default `/ws`.
    pub live_path: String,
    /// Storage. Default in memory.
    pub storage: Storage,
    /// Most mutations per push (mizu's `MaxPushBatch`); 0 means 100.
    pub max_push_batch: usize,
    /// Cap of a pull's `limit` (mizu's `MaxPullLimit`); 0 means 1000.
    pub pull_limit: usize,
    /// Serve the admin API under `/_admin/`. Default off.
    pub admin: bool,
    /// The apply function; `None` means [`convention_apply`].
    pub apply: Option<ApplyFn>,
    /// The scope hook (mizu's `ScopeFunc`); `None` trusts the claimed scope.
    pub scope: Option<ScopeFn>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            addr: "127.0.0.1:0".to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            live_path: "/ws".to_owned(),
            storage: Storage::Memory,
            max_push_batch: MAX_PUSH_BATCH,
            pull_limit: 1000,
            admin: false,
            apply: None,
            scope: None,
        }
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerOptions")
            .field("addr", &self.addr)
            .field("prefix", &self.prefix)
            .field("live_path", &self.live_path)
            .field("storage", &self.storage)
            .field("max_push_batch", &self.max_push_batch)
            .field("pull_limit", &self.pull_limit)
            .field("admin", &self.admin)
            .field("apply", &self.apply.as_ref().map(|_| "custom"))
            .field("scope", &self.scope.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// Starts reference servers.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds, loads storage and starts serving on the server's own runtime.
    ///
    /// # Errors
    /// [`Error::Io`] when the address cannot be bound, [`Error::Storage`] when the SQLite file
    /// cannot be opened or loaded, [`Error::InvalidOption`] for a prefix or live path that does
    /// not start with `/`.
    pub fn start(opts: ServerOptions) -> Result<ServerHandle, Error> {
        let prefix = opts.prefix.trim_end_matches('/').to_owned();
        if !prefix.is_empty() && !prefix.starts_with('/') {
            return Err(Error::InvalidOption(format!(
                "prefix {:?} must start with /",
                opts.prefix
            )));
        }
        if !opts.live_path.starts_with('/') {
            return Err(Error::InvalidOption(format!(
                "live path {:?} must start with /",
                opts.live_path
            )));
        }
        check_paths(&prefix, &opts.live_path)?;
        let db = match &opts.storage {
            Storage::Memory => None,
            Storage::Sqlite(path) => Some(Db::open(path)?),
        };
        let listener = TcpListener::bind(opts.addr.as_str())?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(64)
            .thread_name("mizu-sync-server")
            .enable_io()
            .enable_time()
            .build()?;
        let apply = opts
            .apply
            .unwrap_or_else(|| Arc::new(convention_apply) as ApplyFn);
        let app = Arc::new(App {
            engine: Engine::new(apply, db),
            hub: Hub::default(),
            prefix,
            live_path: opts.live_path,
            max_push_batch: if opts.max_push_batch == 0 {
                MAX_PUSH_BATCH
            } else {
                opts.max_push_batch
            },
            pull_limit: if opts.pull_limit == 0 {
                1000
            } else {
                opts.pull_limit
            },
            admin: opts.admin,
            scope_fn: opts.scope,
            unavailable: AtomicBool::new(false),
        });
        let conns = Arc::new(Connections::default());
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        runtime.spawn(accept_loop(
            listener,
            router(Arc::clone(&app)),
            Arc::clone(&conns),
        ));
        Ok(ServerHandle {
            addr,
            app,
            conns,
            runtime: Some(runtime),
        })
    }
}

/// A running server; dropping it shuts the server down.
pub struct ServerHandle {
    addr: SocketAddr,
    app: Arc<App>,
    conns: Arc<Connections>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The sync base URL, e.g. `http://127.0.0.1:PORT/_sync`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.app.prefix)
    }

    /// The live WebSocket URL for `scope`, e.g. `ws://127.0.0.1:PORT/ws?scope=S`.
    pub fn ws_url(&self, scope: &str) -> String {
        let mut encoded = String::new();
        for b in scope.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        format!("ws://{}{}?scope={encoded}", self.addr, self.app.live_path)
    }

    /// Trims `scope`'s log up to its head (empty scope means `_default`): afterwards, pulling
    /// from any `0 < cursor < head` gives 410 (when anything was trimmed). Returns the head.
    ///
    /// # Errors
    /// [`Error::Storage`] when the SQLite write fails.
    pub fn trim(&self, scope: &str) -> Result<u64, Error> {
        self.app.engine.trim(scope)
    }

    /// Makes later matching mutations fail with the rule's error text.
    pub fn add_reject_rule(&self, rule: RejectRule) {
        self.app.engine.add_reject_rule(rule);
    }

    /// Removes every reject rule.
    pub fn clear_reject_rules(&self) {
        self.app.engine.clear_reject_rules();
    }

    /// Simulates an outage: while set, every sync request and live handshake gets 503
    /// `{"code":"internal_error","error":"server unavailable"}`, and setting it closes all
    /// open connections (live sessions included). The admin API keeps working.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.app.unavailable.store(unavailable, Ordering::SeqCst);
        if unavailable {
            self.disconnect_all();
        }
    }

    /// Closes every open connection (HTTP keep-alive and live sessions); the server keeps
    /// accepting new ones.
    pub fn disconnect_all(&self) {
        self.app.hub.close_all();
        self.conns.close_all();
    }

    /// Number of live sessions subscribed to `scope`'s topic (empty scope means `_default`).
    pub fn live_subscribers(&self, scope: &str) -> usize {
        let scope = engine::resolve_scope(scope);
        self.app.hub.subscribers(&format!("sync:{scope}"))
    }

    /// Stops accepting, closes every connection and stops the server's runtime, waiting
    /// (up to 10 s) for hooks still running. Idempotent. Called from inside an async context,
    /// it does not wait for running hooks (blocking there is not allowed).
    pub fn shutdown(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        self.disconnect_all();
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
        }
    }
}

/// How long [`ServerHandle::shutdown`] waits for hooks still running.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
