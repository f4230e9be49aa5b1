//! The local store's throughput through the public API, printed (no goals: the sync benchmarks
//! hold those): a durable client bootstrapping from a snapshot, applying a pull of updates to
//! every entity, queueing writes offline (synchronous=FULL: one fsync each), reopening with
//! them pending, reading everything, and pushing and settling them. Formerly the ignored test
//! `store::tests::throughput`.
//!
//! `cargo bench -p mizu-sync-benches --bench store`; `MIZU_BENCH_QUICK=1` for a short run,
//! `MIZU_BENCH_ENTITIES=N` for another entity count (default 100 000).

use std::time::{Duration, Instant};

use mizu_sync::server::{Server, ServerOptions};
use mizu_sync::{Client, Options};
use mizu_test_support::temp_dir;
use serde_json::{json, Value};

const ENQUEUES: usize = 1_000;
const WAIT: Duration = Duration::from_secs(600);

fn entity(i: usize) -> Value {
    json!({"id": format!("{i:06}"), "title": format!("todo number {i}"), "done": i.is_multiple_of(3), "rank": i})
}

fn timed<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let started = Instant::now();
    let result = f();
    println!("{what}: {:?}", started.elapsed());
    result
}

fn main() {
    let quick = std::env::var("MIZU_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let entities = std::env::var("MIZU_BENCH_ENTITIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 5_000 } else { 100_000 });
    let server = Server::start(ServerOptions::default()).expect("server");
    let options = || {
        Options::new(server.base_url())
            .scope("store-bench")
            .push_batch_size(500)
            .pull_limit(1_000)
    };

    // The server's data: written by an in-memory client.
    let writer = Client::new(options()).expect("writer");
    writer.start().expect("start");
    let todos = writer.collection::<Value>("todo");
    for i in 0..entities {
        todos.create(format!("{i:06}"), entity(i)).expect("create");
    }
    writer.flush(WAIT).expect("seed the server");

    let dir = temp_dir("store-bench");
    let path = dir.path().join("store.db");
    let client = Client::new(options().storage_path(&path)).expect("client");
    client.start().expect("start");
    timed(
        &format!("bootstrap of {entities} entities (snapshot into SQLite)"),
        || client.wait_for_first_sync(WAIT).expect("first sync"),
    );

    for i in 0..entities {
        todos
            .get(format!("{i:06}"))
            .set(json!({"rank": i + 1}))
            .expect("update");
    }
    writer.flush(WAIT).expect("push the updates");
    timed(&format!("pull of {entities} updates"), || {
        client.sync().expect("sync")
    });

    client.pause();
    let local = client.collection::<Value>("todo");
    let started = Instant::now();
    for i in 0..ENQUEUES {
        local
            .get(format!("{i:06}"))
            .set(json!({"local": i}))
            .expect("write");
    }
    let elapsed = started.elapsed();
    println!(
        "enqueue (synchronous=FULL, one fsync each): {ENQUEUES} in {elapsed:?}, {:?} per enqueue",
        elapsed / ENQUEUES as u32
    );
    client.close();
    drop(client);

    let client = timed("reopen", || {
        Client::new(options().storage_path(&path)).expect("reopen")
    });
    let local = client.collection::<Value>("todo");
    println!(
        "  with {} entities and {} pending",
        local.count(),
        client.pending_count()
    );
    let all = timed("entries() of every entity", || local.entries());
    assert_eq!(all.len(), entities);

    client.start().expect("start");
    timed(&format!("push and settle of {ENQUEUES} writes"), || {
        client.flush(WAIT).expect("flush")
    });
    client.close();
    writer.close();
}
