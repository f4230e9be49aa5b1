//! Sync scenarios of the client against a real server on 127.0.0.1: the reference server, or
//! the real mizu server with `MIZU_SYNC_TEST_SERVER=mizu` (see tests/client_support).

#![cfg(feature = "server")]

mod client_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use mizu_sync::{Client, Collection, Error, Options};
use serde_json::json;

const FLUSH: Duration = Duration::from_secs(20);

fn titles(todos: &Collection<Todo>) -> Vec<(String, String)> {
    todos
        .entries()
        .into_iter()
        .map(|(id, t)| (id, t.title))
        .collect()
}

#[test]
fn two_clients_converge_on_create_update_delete() {
    let server = TestServer::start();
    let scope = scope("converge");
    let a = started(options(&server.base_url(), &scope));
    let b = started(options(&server.base_url(), &scope));
    let (ta, tb) = (a.collection::<Todo>("todo"), b.collection::<Todo>("todo"));

    ta.create("t1", todo("milk")).unwrap();
    ta.create("t2", todo("eggs")).unwrap();
    a.flush(FLUSH).unwrap();
    b.sync().unwrap();
    assert_eq!(
        titles(&tb),
        vec![("t1".into(), "milk".into()), ("t2".into(), "eggs".into())]
    );

    tb.get("t1")
        .set(Todo {
            title: "oat milk".into(),
            completed: true,
        })
        .unwrap();
    ta.get("t2").delete().unwrap();
    b.flush(FLUSH).unwrap();
    a.flush(FLUSH).unwrap();
    a.sync().unwrap();
    b.sync().unwrap();

    let expected = vec![("t1".to_string(), "oat milk".to_string())];
    assert_eq!(titles(&ta), expected);
    assert_eq!(titles(&tb), expected);
    assert_eq!(
        server.snapshot(&scope),
        json!({"todo": {"t1": {"title": "oat milk", "completed": true}}})
    );
    assert_eq!(a.cursor(), b.cursor());
}

#[test]
fn offline_queue_survives_an_outage_and_drains_on_reconnect() {
    let server = TestServer::start();
    let proxy = Proxy::start(server.addr());
    let scope = scope("outage");
    let (online, offline) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (on, off) = (online.clone(), offline.clone());
    let client = started(
        options(&proxy.base_url(), &scope).on_connectivity(move |online| {
            let counter = if online { &on } else { &off };
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    );
    client.sync().unwrap();
    assert!(client.is_online());
    assert_eq!(online.load(Ordering::SeqCst), 1);

    proxy.set_down(true);
    let todos = client.collection::<Todo>("todo");
    for i in 0..5 {
        todos
            .create(format!("t{i}"), todo(&format!("offline {i}")))
            .unwrap();
    }
    assert_eq!(todos.count(), 5, "writes are visible while offline");
    assert!(matches!(
        client.sync(),
        Err(Error::Network(_) | Error::Timeout)
    ));
    wait_until("the client reports offline", || !client.is_online());
    assert_eq!(
        offline.load(Ordering::SeqCst),
        1,
        "on_connectivity(false) fires once per transition"
    );
    assert_eq!(client.pending_count(), 5);

    proxy.set_down(false);
    client.flush(FLUSH).unwrap();
    assert!(client.is_online());
    assert_eq!(online.load(Ordering::SeqCst), 2);
    assert_eq!(client.pending_count(), 0);
    assert_eq!(
        server.snapshot(&scope)["todo"].as_object().unwrap().len(),
        5
    );
}

#[test]
fn pushes_a_250_mutation_backlog_in_batches_within_the_limit() {
    let server = TestServer::start();
    let scope = scope("backlog");
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let client = Client::new(
        options(&server.base_url(), &scope)
            .on_error(move |e| seen.lock().unwrap().push(e.to_string())),
    )
    .unwrap();
    let todos = client.collection::<Todo>("todo");
    for i in 0..250 {
        todos
            .create(format!("t{i:03}"), todo(&format!("task {i}")))
            .unwrap();
    }
    assert_eq!(client.pending_count(), 250);
    client.start().unwrap();
    client.flush(FLUSH).unwrap();
    assert_eq!(client.pending_count(), 0);
    assert_eq!(
        server.snapshot(&scope)["todo"].as_object().unwrap().len(),
        250
    );
    assert!(
        errors.lock().unwrap().is_empty(),
        "no batch was refused: {:?}",
        errors.lock().unwrap()
    );
}

#[test]
fn a_rejected_mutation_rolls_back_and_the_queue_keeps_flowing() {
    let server = TestServer::start();
    let scope = scope("reject");
    server.reject("todo.update", "reject-me", "sync: conflict");
    let rejections = Arc::new(Mutex::new(Vec::new()));
    let seen = rejections.clone();
    let client = started(options(&server.base_url(), &scope).on_error(move |e| {
        if let Error::Rejected { name, reason, .. } = e {
            seen.lock().unwrap().push((name.clone(), reason.clone()));
        }
    }));
    let todos = client.collection::<Todo>("todo");
    let a = todos.create("a", todo("original")).unwrap();
    client.flush(FLUSH).unwrap();

    // Paused, nothing is pushed: the optimistic value is what the app sees meanwhile.
    client.pause();
    a.set(todo("reject-me")).unwrap();
    assert_eq!(
        a.get().unwrap().title,
        "reject-me",
        "optimistic until the server answers"
    );
    todos.create("b", todo("after")).unwrap();
    client.resume();
    client.flush(FLUSH).unwrap();

    assert_eq!(
        a.get().unwrap().title,
        "original",
        "the rejected write was rolled back"
    );
    assert!(todos.has("b"), "the queue kept flowing");
    assert_eq!(
        *rejections.lock().unwrap(),
        vec![("todo.update".to_string(), "sync: conflict".to_string())]
    );
    assert_eq!(server.snapshot(&scope)["todo"]["a"]["title"], "original");
    assert_eq!(server.snapshot(&scope)["todo"]["b"]["title"], "after");
}

#[test]
fn recovers_from_a_trimmed_log_by_snapshot_keeping_pending_writes() {
    let server = TestServer::start();
    let scope = scope("gone");
    let a = started(options(&server.base_url(), &scope));
    let ta = a.collection::<Todo>("todo");
    ta.create("a1", todo("from a")).unwrap();
    a.flush(FLUSH).unwrap();
    let old_cursor = a.cursor();
    a.pause();

    let b = started(options(&server.base_url(), &scope));
    let tb = b.collection::<Todo>("todo");
    tb.create("b1", todo("from b")).unwrap();
    tb.create("b2", todo("also from b")).unwrap();
    b.flush(FLUSH).unwrap();
    let head = server.trim(&scope);
    assert!(head > old_cursor);

    ta.create("a2", todo("pending through the snapshot"))
        .unwrap();
    a.resume();
    a.sync().unwrap();
    a.flush(FLUSH).unwrap();

    assert_eq!(
        titles(&ta)
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        vec!["a1", "a2", "b1", "b2"]
    );
    assert!(a.cursor() >= head);
    assert_eq!(
        server.snapshot(&scope)["todo"]["a2"]["title"],
        "pending through the snapshot"
    );
}

#[test]
fn a_client_that_bootstrapped_an_empty_scope_still_gets_changes_trimmed_from_the_log() {
    // The server never answers a pull from cursor 0 with 410, even after trimming its log: a
    // client whose snapshot said 0 must take another snapshot, not pull from 0 past the gap.
    let server = TestServer::start();
    let scope = scope("empty-then-trimmed");
    let a = started(options(&server.base_url(), &scope));
    a.sync().unwrap();
    assert_eq!(a.cursor(), 0, "bootstrapped from an empty scope");
    a.pause();

    let b = started(options(&server.base_url(), &scope));
    let tb = b.collection::<Todo>("todo");
    tb.create("b1", todo("trimmed away")).unwrap();
    tb.create("b2", todo("kept")).unwrap();
    b.flush(FLUSH).unwrap();
    server.trim(&scope);

    a.resume();
    a.sync().unwrap();
    let ta = a.collection::<Todo>("todo");
    assert_eq!(
        titles(&ta),
        vec![
            ("b1".to_owned(), "trimmed away".to_owned()),
            ("b2".to_owned(), "kept".to_owned())
        ]
    );
    assert!(a.cursor() > 0);
}

#[test]
fn pulls_with_nothing_new_when_the_server_answers_changes_null() {
    let server = TestServer::start();
    let scope = scope("null");
    let synced = Arc::new(Mutex::new(Vec::new()));
    let seen = synced.clone();
    let client =
        started(options(&server.base_url(), &scope).on_sync(move |c| seen.lock().unwrap().push(c)));
    client.sync().unwrap();
    client.sync().unwrap();
    assert_eq!(client.cursor(), 0);
    assert!(client.is_online());
    assert!(
        !synced.lock().unwrap().is_empty(),
        "on_sync reports completed pulls"
    );
    assert_eq!(client.collection::<Todo>("todo").count(), 0);
}

#[test]
fn a_live_notification_triggers_a_pull_long_before_the_pull_interval() {
    let server = TestServer::start();
    let scope = scope("live");
    let listener = started(
        options(&server.base_url(), &scope)
            .pull_interval(Duration::from_secs(600))
            .live_url(server.ws_url(&scope)),
    );
    listener.sync().unwrap();
    let writer = started(options(&server.base_url(), &scope));
    // The live connection subscribes in the background: keep writing until one notice lands.
    let todos = listener.collection::<Todo>("todo");
    let mut n = 0;
    wait_until("a live notice made the listener pull", || {
        writer
            .collection::<Todo>("todo")
            .create(format!("w{n}"), todo("live"))
            .unwrap();
        writer.flush(FLUSH).unwrap();
        n += 1;
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            if todos.count() > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    });
}

#[test]
fn restarting_from_the_sqlite_file_restores_everything() {
    let server = TestServer::start();
    let proxy = Proxy::start(server.addr());
    let scope = scope("restart");
    let path = temp_db("restart");
    let seeder = started(options(&server.base_url(), &scope));
    seeder
        .collection::<Todo>("todo")
        .create("s1", todo("synced"))
        .unwrap();
    seeder.flush(FLUSH).unwrap();

    let (cursor, client_id) = {
        let client = started(options(&proxy.base_url(), &scope).storage_path(&path));
        client.sync().unwrap();
        proxy.set_down(true);
        let todos = client.collection::<Todo>("todo");
        todos.create("p1", todo("pending one")).unwrap();
        todos
            .get("s1")
            .set(Todo {
                title: "synced, edited offline".into(),
                completed: true,
            })
            .unwrap();
        (client.cursor(), client.client_id())
    };

    let client = Client::new(options(&proxy.base_url(), &scope).storage_path(&path)).unwrap();
    let todos = client.collection::<Todo>("todo");
    assert_eq!(client.cursor(), cursor);
    assert_eq!(client.client_id(), client_id);
    assert_eq!(client.pending_count(), 2);
    assert_eq!(
        titles(&todos),
        vec![
            ("p1".into(), "pending one".into()),
            ("s1".into(), "synced, edited offline".into())
        ]
    );

    proxy.set_down(false);
    client.start().unwrap();
    client.flush(FLUSH).unwrap();
    assert_eq!(
        server.snapshot(&scope)["todo"]["s1"]["title"],
        "synced, edited offline"
    );
    assert_eq!(
        server.snapshot(&scope)["todo"]["p1"]["title"],
        "pending one"
    );
}

#[test]
fn app_defined_mutations_reach_the_server_and_rejections_name_them() {
    let server = TestServer::start();
    let scope = scope("mutate");
    let rejected = Arc::new(Mutex::new(None));
    let seen = rejected.clone();
    let client = started(options(&server.base_url(), &scope).on_error(move |e| {
        if let Error::Rejected {
            mutation_id,
            reason,
            ..
        } = e
        {
            *seen.lock().unwrap() = Some((mutation_id.clone(), reason.clone()));
        }
    }));
    // The convention's apply function refuses names it does not know: the rejection is
    // reported with the id `mutate` returned, and nothing is left in the queue.
    let id = client
        .mutate("todo.archive_all", Some(json!({"before": 10})))
        .unwrap();
    client.flush(FLUSH).unwrap();
    let (rejected_id, reason) = rejected.lock().unwrap().clone().expect("a rejection event");
    assert_eq!(rejected_id, id);
    assert_eq!(reason, "sync: invalid mutation");
    assert_eq!(client.pending_count(), 0);
}

#[test]
fn sync_called_from_a_sync_callback_returns_an_error_instead_of_deadlocking() {
    let server = TestServer::start();
    let scope = scope("reentrant");
    let answer = Arc::new(Mutex::new(None));
    let slot = answer.clone();
    let me = Arc::new(Mutex::new(std::sync::Weak::<Client>::new()));
    let me_in_callback = me.clone();
    let client = Arc::new(
        Client::new(options(&server.base_url(), &scope).on_sync(move |_| {
            if let Some(c) = me_in_callback.lock().unwrap().upgrade() {
                slot.lock().unwrap().get_or_insert(c.sync());
            }
        }))
        .unwrap(),
    );
    *me.lock().unwrap() = Arc::downgrade(&client);
    assert!(matches!(client.sync(), Err(Error::NotStarted)));
    client.start().unwrap();
    client.sync().unwrap();
    let answer = answer.lock().unwrap().clone();
    assert!(
        matches!(answer, Some(Err(Error::InvalidArgument(_)))),
        "got {answer:?}"
    );
}

#[test]
fn the_echo_of_our_own_write_wakes_nobody() {
    let server = TestServer::start();
    let scope = scope("echo");
    let client = started(options(&server.base_url(), &scope));
    // Field order differs from the server's (sorted) re-serialization on purpose.
    let t = client
        .collection::<Todo>("todo")
        .create("t", todo("zebra"))
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let (seen, reader) = (runs.clone(), t.clone());
    let _effect = mizu_sync::reactive::Effect::new(move || {
        let _ = reader.get();
        seen.fetch_add(1, Ordering::SeqCst);
    });
    client.flush(FLUSH).unwrap();
    client.sync().unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "acknowledging and pulling our own write changed nothing visible"
    );
}

#[test]
fn a_closed_client_refuses_operations_and_releases_its_file() {
    let path = temp_db("closed");
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(&path)).unwrap();
    let todos = client.collection::<Todo>("todo");
    todos.create("x", todo("kept")).unwrap();
    client.close();
    assert_eq!(
        todos.create("y", todo("refused")).unwrap_err(),
        Error::Closed
    );
    assert_eq!(client.start().unwrap_err(), Error::Closed);
    let reopened =
        Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(&path)).unwrap();
    assert_eq!(
        reopened.collection::<Todo>("todo").get("x").get(),
        Some(todo("kept"))
    );
}
