//! Draining a queue of mutations to the server in batches of 100: a queue built while paused
//! (push throughput) or while the server was down (offline backlog). Two times per run: until
//! the server acknowledged every mutation (the status shows 0 pending), and until `flush`
//! returned (acknowledged and pulled back, so the local state is confirmed). Raw bound: the same
//! number of batch POSTs of the same JSON bodies (fresh ids, same shape) with a bare ureq agent.

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mizu_sync::reactive::Effect;
use mizu_sync::server::{Server, ServerHandle, ServerOptions};
use mizu_sync::{Client, Options};

use crate::records::{push_bodies, todo, Raw, Todo, COLLECTION};

/// One drain: mutations per second until acknowledged and until flushed.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    pub acked_per_sec: f64,
    pub flushed_per_sec: f64,
    /// Local writes per second while the queue was built.
    pub writes_per_sec: f64,
}

fn client(server: &ServerHandle, scope: &str) -> Arc<Client> {
    let options = Options::new(server.base_url())
        .scope(scope)
        .backoff(Duration::from_millis(10), Duration::from_millis(200))
        .request_timeout(Duration::from_secs(60));
    let client = Arc::new(Client::new(options).expect("client"));
    client.start().expect("start");
    client.sync().expect("bootstrap");
    client
}

fn fill(client: &Client, n: usize) -> f64 {
    let todos = client.collection::<Todo>(COLLECTION);
    let start = Instant::now();
    for i in 0..n {
        todos.create(format!("q-{i}"), todo(i)).expect("create");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Flushes in the background and waits (woken by the status) until nothing waits to be
/// acknowledged, then for the flush; closes the client. The rates of the `n` queued mutations,
/// timed from `start`.
fn drained(client: &Arc<Client>, n: usize, writes_per_sec: f64, start: Instant) -> Drain {
    let flusher = {
        let client = client.clone();
        thread::spawn(move || client.flush(Duration::from_secs(600)).expect("flush"))
    };
    // Woken by the status (as an app is), not polling it: a poll every 100 µs took CPU from
    // the two cores the client and the server share.
    let (none_pending, drained) = mpsc::channel();
    let status = client.status();
    let watch = Effect::new(move || {
        if status.get().pending == 0 {
            let _ = none_pending.send(());
        }
    });
    drained
        .recv_timeout(Duration::from_secs(600))
        .expect("every mutation acknowledged");
    let acked = start.elapsed().as_secs_f64();
    drop(watch);
    flusher.join().expect("flush");
    let flushed = start.elapsed().as_secs_f64();
    client.close();
    Drain {
        acked_per_sec: n as f64 / acked,
        flushed_per_sec: n as f64 / flushed,
        writes_per_sec,
    }
}

/// Push throughput: `n` writes queued while paused, then resumed.
pub fn paused_queue(n: usize) -> Drain {
    let server = Server::start(ServerOptions::default()).expect("server");
    let client = client(&server, "push");
    client.pause();
    let writes_per_sec = fill(&client, n);
    let start = Instant::now();
    client.resume();
    drained(&client, n, writes_per_sec, start)
}

/// Offline backlog: `n` writes queued while the server answers 503, then it comes back.
pub fn offline_backlog(n: usize) -> Drain {
    let server = Server::start(ServerOptions::default()).expect("server");
    let client = client(&server, "backlog");
    server.set_unavailable(true);
    let writes_per_sec = fill(&client, n);
    server.set_unavailable(false);
    drained(&client, n, writes_per_sec, Instant::now())
}

/// The raw bound: `n` mutations in batch POSTs of 100 with a bare ureq agent, mutations per
/// second (bodies built before the clock starts).
pub fn raw_bound(n: usize, run: usize) -> f64 {
    let server = Server::start(ServerOptions::default()).expect("server");
    let raw = Raw::new(&server.base_url());
    let bodies = push_bodies("raw", &format!("raw{run}"), n, 100);
    let start = Instant::now();
    raw.push_all(&bodies);
    n as f64 / start.elapsed().as_secs_f64()
}
