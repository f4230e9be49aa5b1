//! Account lifecycle against a real server on 127.0.0.1 and real SQLite files: clearing the
//! store at logout (checked on disk), refusing to drop writes without consent, each entity's
//! sync state as a tracked read, the queued mutations, and discarding one.

#![cfg(feature = "server")]

mod client_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use mizu_sync::reactive::Effect;
use mizu_sync::{ClearOptions, Client, Error, Options, SyncState};

const FLUSH: Duration = Duration::from_secs(20);

/// The bytes of the store file and its WAL, as found on disk.
fn bytes_on_disk(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", db.display())) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn clear_deletes_the_files_and_starts_afresh_with_a_new_client_id() {
    let server = TestServer::start();
    let scope = scope("clear");
    let db = temp_db("clear");
    let client = started(options(&server.base_url(), &scope).storage_path(&db));
    let todos = client.collection::<Todo>("todo");
    todos.create("t1", todo("secret-groceries-7f3a")).unwrap();
    client.flush(FLUSH).unwrap();
    assert!(contains(&bytes_on_disk(&db), "secret-groceries-7f3a"));
    let old_id = client.client_id();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, reader) = (seen.clone(), todos.clone());
    let _effect = Effect::new(move || log.lock().unwrap().push(reader.count()));

    client.clear(ClearOptions::default()).unwrap();
    assert!(
        !contains(&bytes_on_disk(&db), "secret-groceries-7f3a"),
        "the old file and its WAL are gone"
    );
    assert_ne!(client.client_id(), old_id, "a new client id");
    assert_eq!(todos.count(), 0);
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&0),
        "readers woke to the empty store"
    );
    assert_eq!(client.cursor(), 0);
    assert!(client.is_started(), "syncing again, as before");

    // It catches up from the server as a new installation, and writes with the new id.
    client.sync().unwrap();
    assert_eq!(todos.get("t1").get(), Some(todo("secret-groceries-7f3a")));
    let id = client.mutate("todo.noop", None).unwrap();
    assert!(id.starts_with(&client.client_id()));
    client.close();

    // The new id is the file's: a reopened client has it.
    let reopened = Client::new(options(&server.base_url(), &scope).storage_path(&db)).unwrap();
    assert_ne!(reopened.client_id(), old_id);
}

#[test]
fn clear_with_pending_writes_refuses_without_consent_and_keeps_everything() {
    let db = temp_db("clear-refuse");
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(&db)).unwrap();
    let todos = client.collection::<Todo>("todo");
    todos.create("t1", todo("typed offline")).unwrap();
    todos.create("t2", todo("also offline")).unwrap();
    let id = client.client_id();

    let refused = client.clear(ClearOptions::default());
    assert_eq!(refused, Err(Error::PendingWrites { count: 2 }));
    assert_eq!(todos.count(), 2);
    assert_eq!(client.pending_count(), 2);
    assert_eq!(client.client_id(), id);
    assert!(contains(&bytes_on_disk(&db), "typed offline"));

    client
        .clear(ClearOptions {
            discard_pending: true,
            ..ClearOptions::default()
        })
        .unwrap();
    assert_eq!(todos.count(), 0);
    assert_eq!(client.pending_count(), 0);
    assert_ne!(client.client_id(), id);
}

#[test]
fn clear_can_flush_first_and_then_needs_no_consent() {
    let server = TestServer::start();
    let scope = scope("clear-flush");
    let client = started(options(&server.base_url(), &scope).storage_path(temp_db("clear-flush")));
    client
        .collection::<Todo>("todo")
        .create("t1", todo("pushed before the wipe"))
        .unwrap();
    client
        .clear(ClearOptions {
            flush_within: Some(FLUSH),
            discard_pending: false,
        })
        .unwrap();
    assert_eq!(
        server.snapshot(&scope)["todo"]["t1"]["title"],
        "pushed before the wipe"
    );
}

#[test]
fn sync_state_goes_pending_then_synced_and_an_effect_follows_it() {
    let server = TestServer::start();
    let scope = scope("state");
    let client = started(options(&server.base_url(), &scope));
    let todos = client.collection::<Todo>("todo");
    let entity = todos.get("t1");
    assert_eq!(entity.sync_state(), SyncState::Synced);

    let states = Arc::new(Mutex::new(Vec::new()));
    let (log, watched) = (states.clone(), entity.clone());
    let _effect = Effect::new(move || log.lock().unwrap().push(watched.sync_state()));

    client.pause();
    entity.set(todo("first")).unwrap();
    entity.set(todo("second")).unwrap();
    assert_eq!(entity.sync_state(), SyncState::Pending { mutations: 2 });
    assert_eq!(
        states.lock().unwrap().last(),
        Some(&SyncState::Pending { mutations: 2 })
    );
    client.resume();
    client.flush(FLUSH).unwrap();
    wait_until("the effect sees Synced", || {
        states.lock().unwrap().last() == Some(&SyncState::Synced)
    });
    assert_eq!(entity.sync_state(), SyncState::Synced);
}

#[test]
fn a_rejected_write_shows_as_rejected_until_written_again() {
    let server = TestServer::start();
    let scope = scope("state-rejected");
    server.reject("todo.create", "reject-me", "sync: not allowed");
    let client = started(options(&server.base_url(), &scope));
    let entity = client.collection::<Todo>("todo").get("t1");
    entity.set(todo("reject-me")).unwrap();
    wait_until("the write is rejected", || {
        matches!(entity.sync_state(), SyncState::Rejected { .. })
    });
    let SyncState::Rejected { reason } = entity.sync_state() else {
        unreachable!()
    };
    assert!(reason.contains("not allowed"), "{reason}");
    assert_eq!(entity.get(), None, "rolled back");

    server.clear_rejects();
    entity.set(todo("fine")).unwrap();
    assert_eq!(entity.sync_state(), SyncState::Pending { mutations: 1 });
    client.flush(FLUSH).unwrap();
    assert_eq!(entity.sync_state(), SyncState::Synced);
}

#[test]
fn pending_lists_the_queue_and_discard_rolls_one_back_like_a_rejection() {
    let server = TestServer::start();
    let scope = scope("discard");
    let db = temp_db("discard");
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    // Nothing listens there: every push fails before reaching any server.
    let unreachable = Options::new("http://127.0.0.1:9/_sync")
        .scope(scope.as_str())
        .storage_path(&db)
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .on_error(move |e| seen.lock().unwrap().push(e.clone()));
    let client = started(unreachable);
    let todos = client.collection::<Todo>("todo");
    todos.create("t1", todo("stuck")).unwrap();
    todos.create("t2", todo("kept")).unwrap();
    wait_until("a push was attempted", || {
        client.pending().iter().all(|m| m.attempts >= 1)
    });

    let queued = client.pending();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0].name, "todo.create");
    assert_eq!(queued[0].scope, scope);
    assert!(queued[0].age < Duration::from_secs(60));
    assert!(queued[0].id.starts_with(&client.client_id()));

    client.discard(&queued[0].id).unwrap();
    assert_eq!(todos.get("t1").get(), None, "rolled back");
    assert_eq!(
        todos.get("t1").sync_state(),
        SyncState::Rejected {
            reason: "discarded by the app".into()
        }
    );
    assert_eq!(client.pending_count(), 1);
    wait_until("on_error is told", || {
        errors.lock().unwrap().iter().any(
            |e| matches!(e, Error::Rejected { mutation_id, .. } if *mutation_id == queued[0].id),
        )
    });
    assert!(matches!(
        client.discard(&queued[0].id),
        Err(Error::InvalidArgument(_))
    ));
    client.close();

    // The same store against the real server: only the kept write ever reaches it.
    let reopened = started(options(&server.base_url(), &scope).storage_path(&db));
    reopened.flush(FLUSH).unwrap();
    let on_server = server.snapshot(&scope);
    assert!(on_server["todo"].get("t1").is_none());
    assert_eq!(on_server["todo"]["t2"]["title"], "kept");
}

#[test]
fn clearing_an_encrypted_store_keeps_it_encrypted_with_its_key() {
    let db = temp_db("clear-encrypted");
    let options = || {
        Options::new("http://127.0.0.1:9/_sync")
            .storage_path(&db)
            .encryption_key("correct horse battery staple")
    };
    let client = Client::new(options()).unwrap();
    client
        .clear(ClearOptions {
            discard_pending: true,
            ..ClearOptions::default()
        })
        .unwrap();
    let todos = client.collection::<Todo>("todo");
    todos.create("t1", todo("written-after-clear-5e1")).unwrap();
    assert!(!contains(&bytes_on_disk(&db), "written-after-clear-5e1"));
    let id = client.client_id();
    client.close();

    let reopened = Client::new(options()).unwrap();
    assert_eq!(reopened.client_id(), id);
    assert_eq!(
        reopened.collection::<Todo>("todo").get("t1").get(),
        Some(todo("written-after-clear-5e1"))
    );
    drop(reopened);
    let without_key = Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(&db));
    assert!(
        matches!(without_key, Err(Error::WrongKey(_))),
        "{without_key:?}"
    );
}

#[test]
fn an_effect_reading_the_status_may_write_while_clear_runs() {
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap();
    let todos = client.collection::<Todo>("todo");
    let (status, writer) = (client.status(), todos.clone());
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fire = armed.clone();
    let _effect = Effect::new(move || {
        let _ = status.get();
        // A write from inside the status's wake-up: it would deadlock on clear's write lock.
        if fire.swap(false, std::sync::atomic::Ordering::SeqCst) {
            writer
                .get("after")
                .set(todo("written by an effect"))
                .unwrap();
        }
    });
    todos.create("before", todo("x")).unwrap();
    armed.store(true, std::sync::atomic::Ordering::SeqCst);
    client
        .clear(ClearOptions {
            discard_pending: true,
            ..ClearOptions::default()
        })
        .unwrap();
    assert_eq!(todos.get("before").get(), None);
    assert_eq!(todos.get("after").get(), Some(todo("written by an effect")));
}
