//! The accept loop: each connection is served by hyper's HTTP/1.1 server (keep-alive,
//! chunked bodies, `Expect: 100-continue`, upgrades, the header deadline) on its own task,
//! registered so a simulated outage can close them all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

/// Largest request head accepted (request line and headers); beyond it: 431.
const MAX_HEAD: usize = 64 * 1024;
/// How long a client may take to send a request head, counted from the end of the previous
/// response on a kept-alive connection (hyper's header read timeout).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The open HTTP connections (upgraded live sessions leave it for the hub).
#[derive(Default)]
pub(crate) struct Connections {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, AbortHandle>>,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, AbortHandle>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes every open connection (their tasks are aborted, dropping the sockets).
    pub(crate) fn close_all(&self) {
        for task in self.lock().values() {
            task.abort();
        }
    }
}

/// Accepts connections until the runtime stops, serving each with `router`.
pub(crate) async fn accept_loop(listener: TcpListener, router: Router, conns: Arc<Connections>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD)
        // Header names on the wire as Go's net/http canonicalizes them (`Content-Type`).
        .title_case_headers(true);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors and the like: back off briefly instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = http
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(router.clone()),
            )
            .with_upgrades();
        let id = conns.next_id.fetch_add(1, Ordering::Relaxed);
        let registry = Arc::clone(&conns);
        // Registered under the lock, so the task's own removal cannot come first.
        let mut open = conns.lock();
        let task = tokio::spawn(async move {
            let _ = connection.await;
            registry.lock().remove(&id);
        });
        open.insert(id, task.abort_handle());
    }
}
