//! Throughput figures, printed, never asserted (speed goals live in the benchmarks). Run with
//! `cargo test --release --lib store::tests::throughput -- --ignored --nocapture`.

use std::time::Instant;

use serde_json::json;

use super::*;
use crate::protocol::entity::SnapshotData;

const ENTITIES: usize = 100_000;
const ENQUEUES: usize = 1_000;

fn entity(i: usize) -> serde_json::Value {
    json!({"id": format!("{i:06}"), "title": format!("todo number {i}"), "done": i.is_multiple_of(3), "rank": i})
}

#[test]
#[ignore = "prints timings; run explicitly in release mode"]
fn prints_store_throughput() {
    let dir = TempDir::new("throughput");
    let (path, store) = file_of(&dir);

    let mut snapshot = SnapshotData::new();
    let todos = snapshot.entry("todo".into()).or_default();
    for i in 0..ENTITIES {
        todos.insert(format!("{i:06}"), text(entity(i)));
    }
    let started = Instant::now();
    let changed = store.replace_base(snapshot, 1).unwrap();
    println!(
        "replace_base of {ENTITIES} entities: {:?} ({} keys changed)",
        started.elapsed(),
        changed.keys.len()
    );

    let changes: Vec<_> = (0..ENTITIES)
        .map(|i| upsert("todo", &format!("{i:06}"), json!({"rank": i + 1})))
        .collect();
    let started = Instant::now();
    store.apply_remote(&changes, 2).unwrap();
    println!(
        "apply_remote of {ENTITIES} updates: {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    for i in 0..ENQUEUES {
        write(
            &store,
            &format!("m{i}"),
            upsert("todo", &format!("{i:06}"), json!({"local": i})),
        );
    }
    let elapsed = started.elapsed();
    println!(
        "enqueue (synchronous=FULL, one fsync each): {ENQUEUES} in {elapsed:?}, {:?} per enqueue",
        elapsed / ENQUEUES as u32
    );

    let started = Instant::now();
    let store = reopen(&path, store);
    println!(
        "reopen with {} entities and {} pending: {:?}",
        store.count("todo"),
        store.pending_count(),
        started.elapsed()
    );
    let started = Instant::now();
    let all = store.all("todo");
    println!("all() of {} entities: {:?}", all.len(), started.elapsed());
    let ids: Vec<String> = store.pending_ids();
    let started = Instant::now();
    for chunk in ids.chunks(100) {
        store.settle(chunk, &[]).unwrap();
    }
    println!(
        "settle of {} mutations in batches of 100: {:?}",
        ids.len(),
        started.elapsed()
    );
}
