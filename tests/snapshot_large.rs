//! Large snapshots through the reference server on 127.0.0.1, into real SQLite files: a
//! snapshot over 64 MiB (the old whole-body cap) bootstraps; a configured size limit gives the
//! typed error through the status and `on_error`, and the client stays online; a SIGKILL of a
//! real child process in the middle of a large snapshot download loses no pending write and
//! leaves the old state, and the restarted client then bootstraps in full.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mizu_sync::server::{Server, ServerHandle, ServerOptions};
use mizu_sync::{Client, Error, Options};
use mizu_test_support::proxy::{Policy, Proxy, Step};
use mizu_test_support::{temp_dir, wait_until_within};
use serde_json::{json, Value};

/// Longest a test waits for something that should happen (a debug build on a loaded machine).
const WAIT: Duration = Duration::from_secs(120);
/// Size of each big value: just below the server's 1 MiB push body limit.
const BLOB_BYTES: usize = 900 * 1024;
/// Entities of the over-64-MiB snapshot: about 70 MiB of values.
const BIG_BLOBS: usize = 80;
/// Todos the killed child writes before its snapshot starts.
const CHILD_TODOS: usize = 5;
/// The child's entry point, as the test harness knows it.
const CHILD_TEST: &str = "child_bootstraps_until_killed";
const CHILD_DB_ENV: &str = "MIZU_SNAPSHOT_CHILD_DB";
const CHILD_URL_ENV: &str = "MIZU_SNAPSHOT_CHILD_URL";

fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    wait_until_within(WAIT, what, condition)
}

/// A reference server whose scope holds `blobs` values of [`BLOB_BYTES`] in collection `blob`,
/// pushed by a seeding client.
fn seeded_server(blobs: usize) -> ServerHandle {
    let server = Server::start(ServerOptions::default()).expect("the server starts");
    let seeder = Client::new(
        Options::new(server.base_url())
            .push_batch_size(1)
            .push_interval(Duration::from_millis(10))
            .request_timeout(Duration::from_secs(60)),
    )
    .unwrap();
    seeder.start().unwrap();
    let collection = seeder.collection::<Value>("blob");
    for i in 0..blobs {
        collection.create(format!("b{i:04}"), blob(i)).unwrap();
    }
    seeder
        .flush(WAIT)
        .expect("the seeding client pushed everything");
    seeder.close();
    server
}

/// The `i`th big value.
fn blob(i: usize) -> Value {
    let fill = char::from(b'a' + (i % 26) as u8);
    json!({"n": i, "fill": fill.to_string().repeat(BLOB_BYTES)})
}

fn client_options(url: &str, db: &Path) -> Options {
    Options::new(url)
        .storage_path(db)
        .backoff(Duration::from_millis(10), Duration::from_millis(200))
        .request_timeout(Duration::from_secs(110))
}

#[test]
fn a_snapshot_over_64_mib_bootstraps_into_sqlite() {
    let server = seeded_server(BIG_BLOBS);
    let dir = temp_dir("big-snapshot");
    let db = dir.path().join("client.db");
    let client = Client::new(client_options(&server.base_url(), &db)).unwrap();
    client.start().unwrap();
    client
        .wait_for_first_sync(WAIT)
        .expect("the client bootstraps");
    let blobs = client.collection::<Value>("blob");
    assert_eq!(blobs.count(), BIG_BLOBS);
    for i in [0, BIG_BLOBS / 2, BIG_BLOBS - 1] {
        assert_eq!(blobs.get(format!("b{i:04}")).get(), Some(blob(i)));
    }
    client.close();

    // The file holds it all: reopened without a server.
    let reopened = Client::new(client_options("http://127.0.0.1:9/_sync", &db)).unwrap();
    assert_eq!(reopened.collection::<Value>("blob").count(), BIG_BLOBS);
    assert_eq!(
        reopened.collection::<Value>("blob").get("b0003").get(),
        Some(blob(3))
    );
}

#[test]
fn a_snapshot_over_the_configured_limit_is_a_typed_error_and_the_client_stays_online() {
    let server = seeded_server(3);
    let dir = temp_dir("limited-snapshot");
    let errors: Arc<Mutex<Vec<Error>>> = Arc::default();
    let seen = errors.clone();
    let client = Client::new(
        client_options(&server.base_url(), &dir.path().join("client.db"))
            .max_snapshot_bytes(BLOB_BYTES as u64)
            .on_error(move |e| seen.lock().unwrap().push(e.clone())),
    )
    .unwrap();
    client.start().unwrap();
    wait_until("on_error reports the limit", || {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Error::SnapshotTooLarge { limit } if *limit == BLOB_BYTES as u64))
    });
    let status = client.status().get();
    assert!(status.online, "the server answered: online, not offline");
    let limit_text = format!("larger than the configured limit of {BLOB_BYTES} bytes");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(&limit_text)),
        "{status:?}"
    );
    assert!(!status.has_synced);
    assert_eq!(client.collection::<Value>("blob").count(), 0);
    // Local writes keep working meanwhile.
    client
        .collection::<Value>("todo")
        .create("t", json!({"title": "local"}))
        .unwrap();
    assert_eq!(client.collection::<Value>("todo").count(), 1);
    match client.sync() {
        Err(Error::SnapshotTooLarge { .. }) => {}
        other => panic!("sync() reports the limit, got {other:?}"),
    }
}

/// The child's side: writes [`CHILD_TODOS`] todos while stopped, says so, starts syncing
/// (through the stalling proxy) and waits to be killed.
#[test]
#[ignore = "the child process of the large-snapshot SIGKILL test, started by it"]
fn child_bootstraps_until_killed() {
    let (Ok(db), Ok(url)) = (std::env::var(CHILD_DB_ENV), std::env::var(CHILD_URL_ENV)) else {
        eprintln!("{CHILD_TEST} is started by the large-snapshot SIGKILL test");
        return;
    };
    let client = Client::new(client_options(&url, Path::new(&db))).unwrap();
    let todos = client.collection::<Value>("todo");
    for i in 0..CHILD_TODOS {
        todos
            .create(format!("t{i}"), json!({"title": format!("todo {i}")}))
            .unwrap();
    }
    println!("written");
    std::io::stdout().flush().unwrap();
    client.start().unwrap();
    thread::sleep(WAIT);
    panic!("nobody killed this child");
}

#[test]
fn a_sigkill_during_a_large_snapshot_keeps_the_old_state_and_every_pending_write() {
    let blobs = 48;
    let server = seeded_server(blobs);
    // Answers flow until 24 MiB went to the client, then stall: the kill lands mid-snapshot.
    let proxy = Proxy::start(server.addr(), Stall::after(24 * 1024 * 1024));
    let dir = temp_dir("killed-snapshot");
    let db = dir.path().join("client.db");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
        .env(CHILD_DB_ENV, &db)
        .env(CHILD_URL_ENV, proxy.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let mut out = child.stdout.take().unwrap();
    let mut said = Vec::new();
    let mut byte = [0u8];
    while !said.ends_with(b"written\n") {
        assert_eq!(out.read(&mut byte).unwrap(), 1, "the child wrote its todos");
        said.push(byte[0]);
    }
    wait_until("the snapshot stalls mid-body", || {
        proxy.policy().stalled.load(Ordering::SeqCst)
    });
    // Staging transactions reached the file: the kill lands inside the staged download.
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    wait_until("the child staged part of the snapshot", || {
        size(&db) + size(&wal) > 8 * 1024 * 1024
    });
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    // The old state: no part of the snapshot, every write still there.
    {
        let reopened = Client::new(client_options("http://127.0.0.1:9/_sync", &db)).unwrap();
        assert_eq!(
            reopened.collection::<Value>("blob").count(),
            0,
            "no part of the interrupted snapshot is visible"
        );
        let todos = reopened.collection::<Value>("todo");
        for i in 0..CHILD_TODOS {
            assert_eq!(
                todos.get(format!("t{i}")).get(),
                Some(json!({"title": format!("todo {i}")})),
                "write {i} survived"
            );
        }
        reopened.close();
    }

    // Restarted against the server: the whole snapshot, and each write once on the server.
    let restarted = Client::new(client_options(&server.base_url(), &db)).unwrap();
    restarted.start().unwrap();
    restarted.flush(WAIT).expect("the restarted client syncs");
    assert_eq!(restarted.collection::<Value>("blob").count(), blobs);
    assert_eq!(restarted.pending_count(), 0);
    let todos = restarted.collection::<Value>("todo");
    assert_eq!(todos.count(), CHILD_TODOS);
    restarted.close();
    let fresh_dir = temp_dir("killed-snapshot-fresh");
    let fresh = Client::new(client_options(
        &server.base_url(),
        &fresh_dir.path().join("fresh.db"),
    ))
    .unwrap();
    fresh.start().unwrap();
    fresh.wait_for_first_sync(WAIT).unwrap();
    assert_eq!(fresh.collection::<Value>("todo").count(), CHILD_TODOS);
    assert_eq!(fresh.collection::<Value>("blob").count(), blobs);
}

/// A proxy policy: forwards both ways until `budget` bytes went from the server to clients
/// (over all connections), then drops what the server sends (and says so), closing nothing.
struct Stall {
    budget: u64,
    sent: AtomicU64,
    stalled: AtomicBool,
}

impl Stall {
    fn after(budget: u64) -> Stall {
        Stall {
            budget,
            sent: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
        }
    }
}

impl Policy for Stall {
    type Connection = ();

    fn accept(&self, _id: u64) -> Option<()> {
        Some(())
    }

    fn chunk(&self, _conn: &mut (), upstream: bool, bytes: &[u8]) -> Step {
        if upstream {
            return Step::FORWARD;
        }
        let before = self.sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        if before + bytes.len() as u64 >= self.budget {
            self.stalled.store(true, Ordering::SeqCst);
            return Step::Discard;
        }
        Step::FORWARD
    }
}
