//! The accept loop and the registry of open connections: one thread per connection, each
//! registered so shutdown (or a simulated outage) can close them all and join every thread.

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::routes::App;

/// How long a response write may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(15);

/// Open connections and their threads.
#[derive(Default)]
pub(crate) struct Connections {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connections {
    /// Shuts down every open connection (their threads then end on their own).
    pub(crate) fn close_all(&self) {
        for stream in lock(&self.open).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Waits for every connection thread to end.
    pub(crate) fn join_all(&self) {
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }

    fn spawn(self: &Arc<Self>, app: &Arc<App>, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let Ok(registered) = stream.try_clone() else {
            return;
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.open).insert(id, registered);
        let conns = Arc::clone(self);
        let app = Arc::clone(app);
        let spawned = thread::Builder::new()
            .name("mizu-sync-conn".into())
            .spawn(move || {
                app.serve_connection(stream);
                lock(&conns.open).remove(&id);
            });
        let mut threads = lock(&self.threads);
        // Reap finished threads so the list stays as long as the open connections.
        let (done, running): (Vec<_>, Vec<_>) = std::mem::take(&mut *threads)
            .into_iter()
            .partition(|t| t.is_finished());
        *threads = running;
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(_) => {
                lock(&self.open).remove(&id);
            }
        }
        drop(threads);
        for t in done {
            let _ = t.join();
        }
    }
}

/// Accepts connections until `stop` is set (the handle then connects once to wake it).
pub(crate) fn accept_loop(
    listener: &TcpListener,
    app: &Arc<App>,
    conns: &Arc<Connections>,
    stop: &AtomicBool,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match stream {
            Ok(stream) => conns.spawn(app, stream),
            // Out of descriptors and the like: back off briefly instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}
