//! Lifecycle misuse: every public method on a client that was never started, stopped, or
//! closed; start / stop cycles; double close; closing or dropping a client while a `sync()`
//! waits on a server that never answers. Typed errors, never a panic or a hang.

mod client_support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use client_support::{options, scope, started, todo, wait_until, TestServer, Todo};
use mizu_sync::reactive::Effect;
use mizu_sync::{Client, Error, Options};
use mizu_test_support::http_server::{Answer, HttpServer};

/// A server that reads every request and never answers.
fn silent_server() -> HttpServer {
    HttpServer::start(|_| Answer::Silent)
}

fn offline_client() -> Client {
    Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap()
}

#[test]
fn a_client_never_started_works_locally_and_refuses_to_wait_on_the_network() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let entity = todos.create("a", todo("local")).unwrap();
    entity.set(todo("changed")).unwrap();
    let id = client.mutate("todo.archive", None).unwrap();
    assert!(!id.is_empty());
    assert_eq!(client.pending_count(), 3);
    assert_eq!(client.sync(), Err(Error::NotStarted));
    assert_eq!(
        client.flush(Duration::from_millis(50)),
        Err(Error::NotStarted)
    );
    client.pause();
    client.resume();
    client.notify_live(42);
    client.stop();
    assert!(!client.is_started());
    assert_eq!(client.cursor(), 0);
    assert!(!client.is_online());
    assert_eq!(client.status().get().pending, 3);
    entity.delete().unwrap();
    assert_eq!(todos.count(), 0);
}

#[test]
fn a_stopped_client_refuses_sync_and_flush_and_keeps_its_queue() {
    let client = offline_client();
    client.start().unwrap();
    client.stop();
    client.stop();
    let todos = client.collection::<Todo>("todo");
    todos.create("a", todo("queued")).unwrap();
    assert_eq!(client.sync(), Err(Error::NotStarted));
    assert_eq!(
        client.flush(Duration::from_millis(50)),
        Err(Error::NotStarted)
    );
    assert_eq!(client.pending_count(), 1);
    assert!(!client.is_started());
}

#[test]
fn a_closed_client_refuses_every_operation_with_closed() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let existing = todos.create("a", todo("before close")).unwrap();
    let missing = todos.get("b");
    client.start().unwrap();
    client.close();

    assert_eq!(client.start(), Err(Error::Closed));
    assert_eq!(client.sync(), Err(Error::Closed));
    assert_eq!(client.flush(Duration::from_millis(50)), Err(Error::Closed));
    assert_eq!(client.mutate("todo.archive", None), Err(Error::Closed));
    assert_eq!(
        todos.create("b", todo("after close")).unwrap_err(),
        Error::Closed
    );
    assert_eq!(
        todos.create("a", todo("existing id")).unwrap_err(),
        Error::Closed,
        "closed wins over the id already existing"
    );
    assert_eq!(existing.set(todo("after close")), Err(Error::Closed));
    assert_eq!(existing.delete(), Err(Error::Closed));
    assert_eq!(missing.set(todo("after close")), Err(Error::Closed));
    assert_eq!(missing.delete(), Err(Error::Closed));
    // Methods without a result are harmless no-ops.
    client.stop();
    client.pause();
    client.resume();
    client.notify_live(7);
    assert!(!client.is_started());
    // Reads answer from the last state.
    assert_eq!(existing.get(), Some(todo("before close")));
    assert_eq!(existing.try_get(), Ok(Some(todo("before close"))));
    assert!(existing.exists() && !missing.exists());
    assert_eq!(todos.count(), 1);
    assert_eq!(todos.all().len(), 1);
    assert_eq!(todos.entries().len(), 1);
    assert_eq!(todos.find(|t| !t.completed).len(), 1);
    assert!(todos.has("a"));
    assert_eq!(client.pending_count(), 1);
    assert_eq!(client.cursor(), 0);
    assert!(!client.is_online());
    assert!(!client.status().get().syncing);
    assert!(!client.client_id().is_empty());
}

#[test]
fn closing_twice_and_dropping_after_close_are_harmless() {
    let client = offline_client();
    client.start().unwrap();
    client.close();
    client.close();
    assert_eq!(client.start(), Err(Error::Closed));
    drop(client);
}

#[test]
fn start_stop_cycles_keep_syncing() {
    let server = TestServer::start();
    let scope = scope("cycles");
    let client = Client::new(options(&server.base_url(), &scope)).unwrap();
    let todos = client.collection::<Todo>("todo");
    for round in 0..5 {
        client.start().unwrap();
        client.start().unwrap();
        assert!(client.is_started());
        todos.create(format!("t{round}"), todo("cycle")).unwrap();
        client.flush(client_support::WAIT).unwrap();
        client.stop();
        assert!(!client.is_started());
    }
    assert_eq!(
        server.snapshot(&scope)["todo"].as_object().unwrap().len(),
        5
    );
}

#[test]
fn close_while_a_sync_waits_on_a_silent_server_ends_the_sync_promptly() {
    let server = silent_server();
    let client = Arc::new(
        Client::new(Options::new(server.url("/_sync")).request_timeout(Duration::from_secs(60)))
            .unwrap(),
    );
    client.start().unwrap();
    client
        .collection::<Todo>("todo")
        .create("a", todo("stuck"))
        .unwrap();
    let waiting = {
        let client = client.clone();
        thread::spawn(move || client.sync())
    };
    wait_until("the sync request is in flight", || {
        client.status().get().syncing
    });
    let begun = Instant::now();
    client.close();
    let result = waiting.join().expect("sync does not panic");
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "sync ended {:?} after close",
        begun.elapsed()
    );
    assert_eq!(result, Err(Error::Closed));
}

#[test]
fn dropping_a_client_while_a_request_hangs_returns_promptly() {
    let server = silent_server();
    let client =
        Client::new(Options::new(server.url("/_sync")).request_timeout(Duration::from_secs(60)))
            .unwrap();
    client.start().unwrap();
    client
        .collection::<Todo>("todo")
        .create("a", todo("stuck"))
        .unwrap();
    wait_until("the push is in flight", || client.status().get().syncing);
    let begun = Instant::now();
    drop(client);
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "drop took {:?}",
        begun.elapsed()
    );
}

#[test]
fn an_effect_that_outlives_its_client_reads_without_panicking() {
    let server = TestServer::start();
    let client = started(options(&server.base_url(), &scope("outlive")));
    let entity = client
        .collection::<Todo>("todo")
        .create("a", todo("kept"))
        .unwrap();
    let reader = entity.clone();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let effect = Effect::new(move || log.lock().unwrap().push(reader.get()));
    drop(client);
    assert_eq!(entity.set(todo("after drop")), Err(Error::Closed));
    assert_eq!(entity.get(), Some(todo("kept")));
    drop(effect);
    assert_eq!(*seen.lock().unwrap(), vec![Some(todo("kept"))]);
}

#[test]
fn sync_from_an_on_sync_callback_is_refused_instead_of_deadlocking() {
    let server = TestServer::start();
    let scope = scope("reentrant");
    let slot: Arc<std::sync::Mutex<Option<Arc<Client>>>> = Arc::default();
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (inner, log) = (slot.clone(), answers.clone());
    let client = Arc::new(
        Client::new(options(&server.base_url(), &scope).on_sync(move |_| {
            let client = inner.lock().unwrap().clone();
            if let Some(client) = client {
                log.lock().unwrap().push(client.sync());
            }
        }))
        .unwrap(),
    );
    *slot.lock().unwrap() = Some(client.clone());
    client.start().unwrap();
    wait_until("on_sync ran", || !answers.lock().unwrap().is_empty());
    let first = answers.lock().unwrap()[0].clone();
    assert!(matches!(first, Err(Error::InvalidArgument(_))), "{first:?}");
    *slot.lock().unwrap() = None;
    client.close();
}
