//! Snapshot of `n` entities to queryable, with peak and steady memory. Each measurement runs in
//! a child process (this binary, re-executed with `--mizu-child`), so its peaks are its own; the
//! server lives in the parent. The child prints one line `RESULT <json>`.
//!
//! - ours: a fresh client (memory store) from `start()` until `on_sync` fired and the collection
//!   counts `n`; then live heap bytes (counting allocator) and RSS minus the same before the
//!   client existed, divided by `n`.
//! - ours-sqlite: the same with a new SQLite store file (the bootstrap case); its peak RSS
//!   (`VmHWM`) is compared with its RSS once bootstrapped (`VmRSS`), both of the child process
//!   alone (the server runs in the parent).
//! - raw bound: bare ureq POST /snapshot decoded as it streams in (serde_json's reader
//!   deserializer, entity values as `Box<RawValue>`), kept as the smallest useful model, a
//!   `BTreeMap` of id → raw JSON text.
//! - raw-whole: the stricter bound for the time (not the memory): the body read whole into one
//!   buffer, then parsed by serde_json from that slice into the same model.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mizu_sync::{Client, Options};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::alloc;
use crate::records::{Raw, Todo, COLLECTION};

pub const SCOPE: &str = "snapshot";

/// What one child measured.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Measured {
    /// Seconds from the first request to queryable.
    pub secs: f64,
    /// `VmHWM` of the child, bytes.
    pub hwm: usize,
    /// Peak live heap during the load minus live heap before, bytes.
    pub heap_peak: usize,
    /// Live heap after minus before, per entity.
    pub heap_per_entity: f64,
    /// RSS after minus before, per entity.
    pub rss_per_entity: f64,
    /// `VmRSS` of the child once queryable (steady state), bytes.
    #[serde(default)]
    pub rss_after: usize,
}

/// Runs `mode` (`ours` or `raw`) in a child process against `base`.
pub fn in_child(mode: &str, base: &str, n: usize) -> Measured {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .args(["--mizu-child", mode, base, &n.to_string()])
        .output()
        .expect("child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "child {mode} failed: {}\n{stdout}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    serde_json::from_str(line).expect("child result")
}

/// The child's side: measures and prints `RESULT <json>`.
pub fn child(mode: &str, base: &str, n: usize) {
    let live0 = alloc::live();
    let rss0 = alloc::proc_status("VmRSS");
    alloc::reset_peak();
    let (secs, keep) = match mode {
        "ours" => ours(base, n, None),
        "ours-sqlite" => {
            let db = std::env::temp_dir().join(format!("mizu-bootstrap-{}.db", std::process::id()));
            let result = ours(base, n, Some(&db));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            result
        }
        "raw" => raw(base, n),
        "raw-whole" => raw_whole(base, n),
        other => panic!("unknown child mode {other}"),
    };
    let heap = alloc::live().saturating_sub(live0);
    let rss = alloc::proc_status("VmRSS").saturating_sub(rss0);
    let measured = Measured {
        secs,
        hwm: alloc::proc_status("VmHWM"),
        heap_peak: alloc::peak().saturating_sub(live0),
        heap_per_entity: heap as f64 / n as f64,
        rss_per_entity: rss as f64 / n as f64,
        rss_after: alloc::proc_status("VmRSS"),
    };
    println!(
        "RESULT {}",
        serde_json::to_string(&measured).expect("result")
    );
    drop(keep);
}

fn ours(base: &str, n: usize, db: Option<&std::path::Path>) -> (f64, Box<dyn std::any::Any>) {
    let (synced, cursors) = mpsc::channel::<u64>();
    let start = Instant::now();
    let mut options = Options::new(base);
    if let Some(db) = db {
        options = options.storage_path(db);
    }
    let options = options
        .scope(SCOPE)
        .request_timeout(Duration::from_secs(120))
        .on_sync(move |cursor| {
            let _ = synced.send(cursor);
        });
    let client = Client::new(options).expect("client");
    client.start().expect("start");
    cursors
        .recv_timeout(Duration::from_secs(600))
        .expect("snapshot applied");
    let todos = client.collection::<Todo>(COLLECTION);
    assert_eq!(todos.count(), n, "every entity is queryable");
    assert!(todos.get("snap-0").get().is_some());
    let secs = start.elapsed().as_secs_f64();
    // Stop the engine so its threads are idle, but keep the client (and its state) alive.
    client.stop();
    (secs, Box::new(client))
}

/// The snapshot body as the raw bound decodes it.
#[derive(Deserialize)]
struct Streamed {
    data: BTreeMap<String, BTreeMap<String, Box<RawValue>>>,
    #[allow(dead_code)]
    cursor: u64,
}

fn raw(base: &str, n: usize) -> (f64, Box<dyn std::any::Any>) {
    let raw = Raw::new(base);
    let start = Instant::now();
    let reader = raw.post_reader("/snapshot", &format!("{{\"scope\":\"{SCOPE}\"}}"));
    let mut response: Streamed =
        serde_json::from_reader(std::io::BufReader::with_capacity(64 * 1024, reader))
            .expect("snapshot");
    let model = response.data.remove(COLLECTION).unwrap_or_default();
    assert_eq!(model.len(), n);
    (start.elapsed().as_secs_f64(), Box::new(model))
}

fn raw_whole(base: &str, n: usize) -> (f64, Box<dyn std::any::Any>) {
    use std::io::Read;
    let raw = Raw::new(base);
    let start = Instant::now();
    let mut body = Vec::new();
    raw.post_reader("/snapshot", &format!("{{\"scope\":\"{SCOPE}\"}}"))
        .read_to_end(&mut body)
        .expect("snapshot body");
    let mut response: Streamed = serde_json::from_slice(&body).expect("snapshot");
    let model = response.data.remove(COLLECTION).unwrap_or_default();
    assert_eq!(model.len(), n);
    (start.elapsed().as_secs_f64(), Box::new(model))
}
