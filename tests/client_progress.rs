//! Sync you can see, against a real server on 127.0.0.1: download and upload progress through
//! a long pull, `has_synced` and `wait_for_first_sync` (persisted, reset by `clear`), and
//! `sync_once` for background tasks, bounded against a server that hangs.

#![cfg(feature = "server")]

mod client_support;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_support::*;
use mizu_sync::reactive::Effect;
use mizu_sync::{ClearOptions, Client, Options, Progress};

const FLUSH: Duration = Duration::from_secs(30);

/// Every (download, upload) progress a status showed, in order.
type Seen = Arc<Mutex<Vec<(Progress, Progress)>>>;

/// Records every download and upload progress the status shows.
fn watch_progress(client: &Client) -> (Effect, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, status) = (seen.clone(), client.status());
    let effect = Effect::new(move || {
        let s = status.get();
        log.lock().unwrap().push((s.download, s.upload));
    });
    (effect, seen)
}

#[test]
fn download_progress_rises_monotonically_to_complete_through_a_long_pull() {
    let server = TestServer::start();
    let scope = scope("progress-pull");
    let writer = started(options(&server.base_url(), &scope));
    // A first change, so the reader's cursor is past 0 and it pulls (a cursor of 0 snapshots).
    let todos = writer.collection::<Todo>("todo");
    todos.create("first", todo("x")).unwrap();
    writer.flush(FLUSH).unwrap();
    let reader = started(options(&server.base_url(), &scope).pull_limit(100));
    reader.sync().unwrap();
    reader.pause();
    let (_effect, seen) = watch_progress(&reader);

    for i in 0..2_000 {
        todos.create(format!("t{i:04}"), todo("x")).unwrap();
    }
    writer.flush(FLUSH).unwrap();
    seen.lock().unwrap().clear();
    reader.resume();
    reader.sync().unwrap();
    assert_eq!(reader.collection::<Todo>("todo").count(), 2_001);

    let downloads: Vec<Progress> = seen.lock().unwrap().iter().map(|(d, _)| *d).collect();
    assert!(downloads.len() > 5, "pages show progress: {downloads:?}");
    for pair in downloads.windows(2) {
        assert!(
            pair[1].done >= pair[0].done,
            "never backwards: {downloads:?}"
        );
        assert!(pair[1].done <= pair[1].total);
    }
    let last = downloads.last().unwrap();
    assert!(
        last.is_complete() && last.total >= 2_000,
        "ends complete: {last:?}"
    );
    assert!(
        downloads.iter().any(|d| d.done > 0 && !d.is_complete()),
        "partway shown: {downloads:?}"
    );
}

#[test]
fn upload_progress_counts_the_queue_since_it_was_empty() {
    let server = TestServer::start();
    let scope = scope("progress-push");
    let client = Client::new(options(&server.base_url(), &scope).push_batch_size(10)).unwrap();
    let (_effect, seen) = watch_progress(&client);
    let todos = client.collection::<Todo>("todo");
    for i in 0..100 {
        todos.create(format!("t{i:03}"), todo("y")).unwrap();
    }
    client.start().unwrap();
    client.flush(FLUSH).unwrap();
    let uploads: Vec<Progress> = seen.lock().unwrap().iter().map(|(_, u)| *u).collect();
    for pair in uploads.windows(2) {
        assert!(
            pair[1].done >= pair[0].done || pair[0].is_complete(),
            "{uploads:?}"
        );
    }
    assert_eq!(
        client.status().get().upload,
        Progress {
            done: 100,
            total: 100
        }
    );
    assert!(
        uploads.iter().any(|u| u.done > 0 && u.done < 100),
        "{uploads:?}"
    );
}

#[test]
fn has_synced_is_persisted_and_wait_for_first_sync_returns() {
    let server = TestServer::start();
    let scope = scope("first-sync");
    let db = temp_db("first-sync");
    let client = Client::new(options(&server.base_url(), &scope).storage_path(&db)).unwrap();
    assert!(!client.status().get().has_synced);
    client.start().unwrap();
    client.wait_for_first_sync(FLUSH).unwrap();
    assert!(client.status().get().has_synced);
    client.close();

    let reopened = Client::new(options(&server.base_url(), &scope).storage_path(&db)).unwrap();
    assert!(reopened.status().get().has_synced, "persisted");
    reopened
        .wait_for_first_sync(Duration::ZERO)
        .expect("at once, even before start");
    reopened.clear(ClearOptions::default()).unwrap();
    assert!(
        !reopened.status().get().has_synced,
        "cleared with the store"
    );
}

#[test]
fn sync_once_catches_up_within_its_deadline_and_stops_again() {
    let server = TestServer::start();
    let scope = scope("sync-once");
    let other = started(options(&server.base_url(), &scope));
    other
        .collection::<Todo>("todo")
        .create("from-other", todo("remote"))
        .unwrap();
    other.flush(FLUSH).unwrap();

    let client = Client::new(options(&server.base_url(), &scope)).unwrap();
    let todos = client.collection::<Todo>("todo");
    for i in 0..5 {
        todos.create(format!("t{i}"), todo("offline")).unwrap();
    }
    let report = client.sync_once(FLUSH).unwrap();
    assert!(report.caught_up, "{report:?}");
    assert_eq!(report.pushed, 5);
    assert!(report.pulled > 0);
    assert!(report.error.is_none());
    assert!(!client.is_started(), "stopped again");
    assert_eq!(todos.get("from-other").get(), Some(todo("remote")));
    assert_eq!(server.snapshot(&scope)["todo"]["t4"]["title"], "offline");
}

#[test]
fn sync_once_returns_at_its_deadline_against_a_hanging_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let client = Client::new(
        Options::new(format!("http://{addr}/_sync"))
            .scope(scope("sync-once-hang"))
            .request_timeout(Duration::from_secs(30)),
    )
    .unwrap();
    client
        .collection::<Todo>("todo")
        .create("t1", todo("waits"))
        .unwrap();
    let started = Instant::now();
    let report = client.sync_once(Duration::from_millis(500)).unwrap();
    let took = started.elapsed();
    assert!(!report.caught_up);
    assert_eq!(report.pushed, 0);
    assert!(
        took < Duration::from_secs(3),
        "returned at its deadline: {took:?}"
    );
    assert!(!client.is_started());
    assert_eq!(
        client.pending_count(),
        1,
        "the write waits for the next chance"
    );
}

#[test]
fn a_100_000_entity_bootstrap_ends_with_download_complete_and_has_synced() {
    let server = TestServer::start();
    let scope = scope("progress-bootstrap");
    let writer = started(options(&server.base_url(), &scope));
    let todos = writer.collection::<Todo>("todo");
    for i in 0..100_000 {
        todos.create(format!("t{i:06}"), todo("bulk")).unwrap();
    }
    writer.flush(Duration::from_secs(120)).unwrap();

    let reader = Client::new(options(&server.base_url(), &scope)).unwrap();
    let (_effect, seen) = watch_progress(&reader);
    reader.start().unwrap();
    reader
        .wait_for_first_sync(Duration::from_secs(120))
        .unwrap();
    assert_eq!(reader.collection::<Todo>("todo").count(), 100_000);
    let downloads: Vec<Progress> = seen.lock().unwrap().iter().map(|(d, _)| *d).collect();
    for pair in downloads.windows(2) {
        assert!(
            pair[1].done >= pair[0].done,
            "never backwards: {downloads:?}"
        );
    }
    let last = reader.status().get();
    assert!(last.has_synced);
    assert!(
        last.download.is_complete() && last.download.done >= 100_000,
        "{last:?}"
    );
}
