//! The async surface and delivery queues, against a real server on 127.0.0.1 and real SQLite
//! files: awaited sync / flush / writes polled by executors that are not the library's (a
//! hand-written one, a tokio current-thread runtime standing for a UI loop), cancellation
//! against a server that hangs, and deliveries that wait for the app's thread.

#![cfg(feature = "server")]

mod client_support;
mod executor_support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use client_support::*;
use executor_support::block_on;
use mizu_sync::reactive::Effect;
use mizu_sync::{Client, Error, Options};

/// A single-threaded tokio runtime: the stand-in for an app's UI loop.
fn ui_loop() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// A server that accepts connections and never answers.
fn hanging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}/_sync")
}

const FLUSH: Duration = Duration::from_secs(20);

#[test]
fn awaited_sync_flush_and_writes_complete_on_a_foreign_executor() {
    let server = TestServer::start();
    let scope = scope("async-basics");
    let a = started(options(&server.base_url(), &scope));
    let b = started(options(&server.base_url(), &scope));
    let (ta, tb) = (a.collection::<Todo>("todo"), b.collection::<Todo>("todo"));

    let created = block_on(ta.create_async("t1", todo("milk"))).unwrap();
    assert_eq!(
        created.get(),
        Some(todo("milk")),
        "durable and visible after the await"
    );
    block_on(ta.get("t2").set_async(todo("eggs"))).unwrap();
    block_on(ta.get("t1").delete_async()).unwrap();
    let id = block_on(a.mutate_async("todo.archive_done", None)).unwrap();
    assert!(id.starts_with(&a.client_id()));
    block_on(a.flush_async(FLUSH)).unwrap();
    assert_eq!(a.pending_count(), 0);

    block_on(b.sync_async()).unwrap();
    assert_eq!(tb.entries(), vec![("t2".to_string(), todo("eggs"))]);
}

#[test]
fn dropping_an_awaited_sync_or_flush_against_a_hanging_server_returns_at_once() {
    let options = Options::new(hanging_server())
        .scope(scope("hang"))
        .request_timeout(Duration::from_secs(20));
    let client = Client::new(options).unwrap();
    client.start().unwrap();
    client
        .collection::<Todo>("todo")
        .create("t1", todo("stuck"))
        .unwrap();
    let rt = ui_loop();
    for which in ["sync", "flush"] {
        let started = Instant::now();
        let outcome = rt.block_on(async {
            let wait = Duration::from_millis(200);
            match which {
                "sync" => tokio::time::timeout(wait, client.sync_async()).await,
                _ => tokio::time::timeout(wait, client.flush_async(FLUSH)).await,
            }
        });
        let took = started.elapsed();
        assert!(
            outcome.is_err(),
            "{which} cannot finish against a hanging server"
        );
        // The cancelled wait ends with the timeout, not with the 20 s request timeout.
        assert!(
            took < Duration::from_secs(2),
            "{which} took {took:?} to cancel"
        );
    }
    let started = Instant::now();
    client.close();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "close waits for no request"
    );
    assert!(matches!(block_on(client.sync_async()), Err(Error::Closed)));
}

#[test]
fn awaited_writes_commit_off_the_ui_loop_while_it_keeps_running() {
    let client =
        Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(temp_db("ui"))).unwrap();
    let todos = client.collection::<Todo>("todo");
    let rt = ui_loop();
    let loop_thread = rt.block_on(async { thread::current().id() });
    // The write's listeners run on the thread that commits it. This one waits for a tick of the
    // UI loop: were the commit on the loop's thread, the loop could not tick and the test would
    // hang instead of passing.
    let (tick, ticked) = mpsc::channel::<()>();
    let ticked = Mutex::new(ticked);
    let committers = Arc::new(Mutex::new(Vec::<ThreadId>::new()));
    let seen = committers.clone();
    let subscription = todos.subscribe(move |change| {
        if change.changed.iter().any(|(id, _)| id == "waits") {
            seen.lock().unwrap().push(thread::current().id());
            ticked
                .lock()
                .unwrap()
                .recv_timeout(WAIT)
                .expect("the UI loop ticked while the write was committing");
        }
    });
    let ticks = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let counter = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = tick.send(());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        todos.get("waits").set_async(todo("x")).await.unwrap();
        for i in 0..200 {
            todos
                .get(format!("t{i}"))
                .set_async(todo("y"))
                .await
                .unwrap();
        }
        ticker.abort();
    });
    let committers = committers.lock().unwrap();
    assert_eq!(committers.len(), 1);
    assert_ne!(committers[0], loop_thread, "committed off the UI loop");
    assert!(ticks.load(Ordering::SeqCst) > 1);
    assert_eq!(todos.count(), 201);
    drop(subscription);
}

#[test]
fn awaited_writes_commit_in_call_order() {
    let client =
        Client::new(Options::new("http://127.0.0.1:9/_sync").storage_path(temp_db("order")))
            .unwrap();
    let todos = client.collection::<Todo>("todo");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let entity = todos.get("t");
    let watched = entity.clone();
    let _effect = Effect::new(move || {
        if let Some(t) = watched.get() {
            log.lock().unwrap().push(t.title);
        }
    });
    let writes: Vec<_> = (0..100)
        .map(|i| entity.set_async(todo(&i.to_string())))
        .collect();
    for write in writes {
        block_on(write).unwrap();
    }
    assert_eq!(entity.get(), Some(todo("99")));
    let seen = seen.lock().unwrap();
    let numbers: Vec<u32> = seen.iter().map(|t| t.parse().unwrap()).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "in call order: {numbers:?}"
    );
    assert_eq!(numbers.last(), Some(&99));
}

#[test]
fn a_dropped_awaited_write_is_still_committed() {
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap();
    let todos = client.collection::<Todo>("todo");
    drop(todos.get("kept").set_async(todo("queued by the call")));
    block_on(todos.get("after").set_async(todo("later"))).unwrap();
    assert_eq!(todos.get("kept").get(), Some(todo("queued by the call")));
}

/// Records which thread ran each callback, with the value it saw.
#[derive(Default, Clone)]
struct Calls(Arc<Mutex<Vec<(&'static str, ThreadId)>>>);

impl Calls {
    fn record(&self, what: &'static str) {
        self.0.lock().unwrap().push((what, thread::current().id()));
    }
    fn take(&self) -> Vec<(&'static str, ThreadId)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[test]
fn with_a_delivery_queue_server_changes_wait_for_the_apps_thread() {
    let server = TestServer::start();
    let scope = scope("delivery");
    let a = started(options(&server.base_url(), &scope));
    let calls = Calls::default();
    let readies = Arc::new(AtomicUsize::new(0));
    let (on_sync, on_connectivity, on_ready) = (calls.clone(), calls.clone(), readies.clone());
    let b = started(
        options(&server.base_url(), &scope)
            .on_sync(move |_| on_sync.record("on_sync"))
            .on_connectivity(move |_| on_connectivity.record("on_connectivity"))
            .delivery_queue(move || {
                on_ready.fetch_add(1, Ordering::SeqCst);
            }),
    );
    let tb = b.collection::<Todo>("todo");
    let (feed, effect_calls) = (calls.clone(), calls.clone());
    let _subscription = tb.subscribe(move |change| {
        if change.changed.iter().any(|(id, _)| id == "t1") {
            feed.record("collection");
        }
    });
    let watched = tb.get("t1");
    let _effect = Effect::new(move || {
        if watched.get().is_some() {
            effect_calls.record("effect");
        }
    });

    a.collection::<Todo>("todo")
        .create("t1", todo("from a"))
        .unwrap();
    a.flush(FLUSH).unwrap();
    b.sync().unwrap();
    assert!(tb.has("t1"), "the store has it");
    assert!(
        calls.take().is_empty(),
        "nothing runs before the app dispatches"
    );
    assert!(readies.load(Ordering::SeqCst) >= 1, "the app was told");

    let ui = thread::spawn(move || {
        let ran = b.dispatch_pending().unwrap();
        (ran, thread::current().id(), b)
    });
    let (ran, ui_thread, b) = ui.join().unwrap();
    assert!(ran >= 3);
    let calls = calls.take();
    for what in ["collection", "effect", "on_sync", "on_connectivity"] {
        assert!(
            calls.iter().any(|(w, _)| *w == what),
            "{what} was delivered: {calls:?}"
        );
    }
    assert!(
        calls.iter().all(|(_, t)| *t == ui_thread),
        "every delivery ran on the dispatching thread"
    );
    assert!(b.status().get().online, "the status arrived too");
    b.close();
    assert!(matches!(b.dispatch_pending(), Err(Error::Closed)));
}

#[test]
fn with_a_delivery_queue_awaited_writes_wake_listeners_on_the_apps_thread() {
    let (ready, woken) = mpsc::channel();
    let client = Client::new(
        Options::new("http://127.0.0.1:9/_sync").delivery_queue(move || {
            let _ = ready.send(());
        }),
    )
    .unwrap();
    let todos = client.collection::<Todo>("todo");
    let calls = Calls::default();
    let feed = calls.clone();
    let _subscription = todos.subscribe(move |change| {
        if !change.changed.is_empty() {
            feed.record("collection");
        }
    });

    // A synchronous write still runs its listeners here, before it returns.
    todos.create("now", todo("sync")).unwrap();
    assert_eq!(calls.take(), vec![("collection", thread::current().id())]);

    block_on(todos.get("later").set_async(todo("async"))).unwrap();
    assert!(calls.take().is_empty(), "waits for the dispatch");
    woken.recv_timeout(WAIT).expect("ready was called");
    assert!(client.dispatch_pending().unwrap() >= 1);
    assert_eq!(calls.take(), vec![("collection", thread::current().id())]);
    assert_eq!(client.dispatch_pending().unwrap(), 0, "nothing left");
}

#[test]
fn awaited_operations_on_a_closed_client_fail_as_closed() {
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap();
    let todos = client.collection::<Todo>("todo");
    block_on(client.close_async()).unwrap();
    assert!(matches!(block_on(client.sync_async()), Err(Error::Closed)));
    assert!(matches!(
        block_on(client.flush_async(FLUSH)),
        Err(Error::Closed)
    ));
    assert!(matches!(
        block_on(todos.get("x").set_async(todo("x"))),
        Err(Error::Closed)
    ));
    assert!(matches!(
        block_on(client.mutate_async("x", None)),
        Err(Error::Closed)
    ));
}

#[test]
fn awaited_sync_before_start_says_not_started() {
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap();
    assert!(matches!(
        block_on(client.sync_async()),
        Err(Error::NotStarted)
    ));
    assert!(matches!(
        block_on(client.flush_async(FLUSH)),
        Err(Error::NotStarted)
    ));
}
