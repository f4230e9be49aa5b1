//! The calling thread's share of a durable write: what a UI thread pays per write to a SQLite
//! store. Ours, blocking (`Entity::set`: the commit and its fsync on the caller) and awaited
//! (`Entity::set_async`: the caller only queues the write; the library's writer commits it),
//! next to the peer a blocking SQLite-backed store is (a bare rusqlite insert + commit, WAL,
//! synchronous=FULL, on the caller) and the raw bound of any handoff (a std channel send to a
//! worker thread). Also the awaited write's end-to-end time (call to durable).

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use futures_executor::block_on;
use mizu_sync::{Client, Options};

use crate::latency::BareSqlite;
use crate::records::{todo, Todo, COLLECTION};
use crate::report::Samples;

/// Caller times of `iterations` writes each way, in milliseconds.
pub struct CallerTimes {
    pub blocking: Samples,
    pub awaited_caller: Samples,
    pub awaited_end_to_end: Samples,
    pub peer: Samples,
    pub handoff: Samples,
}

pub fn caller_times(dir: &Path, iterations: usize) -> CallerTimes {
    let db = dir.join("awaited.db");
    // Not started: no engine commits compete with the writes.
    let client =
        Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(&db)).expect("client");
    let todos = client.collection::<Todo>(COLLECTION);
    let bare = dir.join("awaited-bare.db");
    let peer_store = BareSqlite::open(&bare, "FULL");
    let (jobs, worker) = handoff_worker();

    let mut times = CallerTimes {
        blocking: Samples::default(),
        awaited_caller: Samples::default(),
        awaited_end_to_end: Samples::default(),
        peer: Samples::default(),
        handoff: Samples::default(),
    };
    for i in 0..iterations {
        let entity = todos.get(format!("w-{i}"));
        let start = Instant::now();
        entity.set(todo(i)).expect("set");
        times.blocking.push(start.elapsed());

        let start = Instant::now();
        let write = entity.set_async(todo(i + 1));
        times.awaited_caller.push(start.elapsed());
        block_on(write).expect("set_async");
        times.awaited_end_to_end.push(start.elapsed());

        times.peer.push(peer_store.insert(i));

        let (done, finished) = mpsc::channel();
        let start = Instant::now();
        jobs.send(done).expect("send");
        times.handoff.push(start.elapsed());
        finished.recv().expect("worker");
    }
    drop(jobs);
    worker.join().expect("worker");
    client.close();
    drop(peer_store);
    for path in [&db, &bare] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    times
}

fn handoff_worker() -> (mpsc::Sender<mpsc::Sender<()>>, thread::JoinHandle<()>) {
    let (jobs, inbox) = mpsc::channel::<mpsc::Sender<()>>();
    let worker = thread::spawn(move || {
        for done in inbox {
            let _ = done.send(());
        }
    });
    (jobs, worker)
}
