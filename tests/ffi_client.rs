//! The FFI's client surface against the reference server: collections and entities as JSON,
//! change events, convergence, rejections, failing listeners on the engine thread, closing.

mod client_support;
mod executor_support;
mod ffi_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use client_support::{scope, temp_db, wait_until, TestServer};
use executor_support::block_on;
use ffi_support::{host_failure, Func, Recorder};
use mizu_sync::ffi::{
    Client, ClientOptions, CollectionChange, CollectionListener, Computed, EntityRecord, MizuError,
    RejectedMutation, Signal,
};

fn options(server: &TestServer, scope: &str) -> ClientOptions {
    ClientOptions {
        base_url: server.base_url(),
        scope: scope.into(),
        storage_path: None,
        encryption_key: None,
        durability: None,
        live_url: None,
        push_interval_ms: 200,
        pull_interval_ms: 300,
        request_timeout_ms: 5000,
        backoff_min_ms: 20,
        backoff_max_ms: 200,
        push_batch_size: 100,
        pull_limit: 1000,
        headers: HashMap::new(),
        max_snapshot_bytes: None,
        subscribe_message_json: None,
    }
}

fn started(options: ClientOptions) -> Arc<Client> {
    let client = Client::new(options, None, None, None, None).unwrap();
    client.start().unwrap();
    client
}

fn record(id: &str, value_json: &str) -> EntityRecord {
    EntityRecord {
        id: id.into(),
        value_json: value_json.into(),
    }
}

#[test]
fn collection_reads_and_writes_json_values_in_bulk() {
    let client = Client::new(
        ClientOptions {
            base_url: "http://127.0.0.1:9/_sync".into(),
            ..ClientOptions::defaults_for_test()
        },
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let todos = client.collection("todo".into()).unwrap();
    let a = todos
        .create("a".into(), r#"{"title":"A","completed":false}"#.into())
        .unwrap();
    todos.set("b".into(), r#"{"title":"B"}"#.into()).unwrap();
    assert_eq!(todos.count().unwrap(), 2);
    assert_eq!(todos.ids().unwrap(), ["a", "b"]);
    assert_eq!(
        todos.entries().unwrap(),
        [
            record("a", r#"{"completed":false,"title":"A"}"#),
            record("b", r#"{"title":"B"}"#)
        ]
    );
    a.set(r#"{"title":"A","completed":true}"#.into()).unwrap();
    assert_eq!(
        todos.value("a".into()).unwrap().as_deref(),
        Some(r#"{"completed":true,"title":"A"}"#)
    );
    todos.delete("b".into()).unwrap();
    assert!(!todos.has("b".into()).unwrap());
    assert_eq!(todos.value("b".into()).unwrap(), None);
    assert_eq!(client.pending_count().unwrap(), 4);
}

#[test]
fn bad_inputs_fail_with_clear_errors() {
    let client = Client::new(ClientOptions::defaults_for_test(), None, None, None, None).unwrap();
    let todos = client.collection("todo".into()).unwrap();
    assert!(matches!(
        todos.create("a".into(), "{".into()),
        Err(MizuError::InvalidJson { .. })
    ));
    todos.create("a".into(), "1".into()).unwrap();
    assert!(matches!(
        todos.create("a".into(), "2".into()),
        Err(MizuError::InvalidArgument { .. })
    ));
    assert!(matches!(
        todos.create(String::new(), "2".into()),
        Err(MizuError::InvalidArgument { .. })
    ));
    assert_eq!(
        todos.update("missing".into(), "2".into()),
        Err(MizuError::NotFound {
            what: "todo/missing".into()
        })
    );
    assert!(matches!(
        client.collection(String::new()),
        Err(MizuError::InvalidArgument { .. })
    ));
    assert!(matches!(
        client.mutate("todo.archive".into(), Some("[".into())),
        Err(MizuError::InvalidJson { .. })
    ));
    assert!(matches!(client.flush(10), Err(MizuError::Offline { .. })));
    assert!(matches!(
        Client::new(
            ClientOptions {
                base_url: "not a url".into(),
                ..ClientOptions::defaults_for_test()
            },
            None,
            None,
            None,
            None
        ),
        Err(MizuError::InvalidArgument { .. })
    ));
}

#[test]
fn a_closed_client_fails_with_closed_and_drops_its_listeners() {
    let client = Client::new(ClientOptions::defaults_for_test(), None, None, None, None).unwrap();
    let todos = client.collection("todo".into()).unwrap();
    let (errors, _) = Recorder::<MizuError>::new();
    let subscription = client.on_error(errors.clone());
    let (listener, _) = Recorder::<CollectionChange>::new();
    let _watching = todos.subscribe(listener).unwrap();
    client.close();
    client.close();
    assert!(client.is_closed());
    assert!(matches!(client.start(), Err(MizuError::Closed { .. })));
    assert!(matches!(
        client.collection("todo".into()),
        Err(MizuError::Closed { .. })
    ));
    assert!(matches!(
        todos.set("a".into(), "1".into()),
        Err(MizuError::Closed { .. })
    ));
    drop(subscription);
    assert_eq!(Arc::strong_count(&errors), 1);
}

#[test]
fn two_clients_converge_and_change_events_carry_what_changed() {
    let server = TestServer::start();
    let scope = scope("ffi-converge");
    let alice = started(options(&server, &scope));
    let bob = started(options(&server, &scope));
    let bob_todos = bob.collection("todo".into()).unwrap();
    let (listener, changes) = Recorder::<CollectionChange>::new();
    let _watching = bob_todos.subscribe(listener).unwrap();
    assert_eq!(
        changes.all(),
        [CollectionChange {
            changed: vec![],
            removed: vec![]
        }]
    );

    let alice_todos = alice.collection("todo".into()).unwrap();
    alice_todos
        .create("t1".into(), r#"{"title":"Learn sync"}"#.into())
        .unwrap();
    alice.flush(20_000).unwrap();
    bob.sync().unwrap();
    wait_until("bob sees t1", || {
        bob_todos.value("t1".into()).unwrap().is_some()
    });
    alice_todos.delete("t1".into()).unwrap();
    alice_todos
        .set("t2".into(), r#"{"title":"Two"}"#.into())
        .unwrap();
    alice.flush(20_000).unwrap();
    bob.sync().unwrap();
    wait_until("bob sees t2 and not t1", || {
        bob_todos.ids().unwrap() == ["t2"]
    });
    let all = changes.all();
    // The changes, applied in order, rebuild the collection; none carries it whole.
    let mut mirror = std::collections::BTreeMap::new();
    for change in &all {
        for r in &change.changed {
            mirror.insert(r.id.clone(), r.value_json.clone());
        }
        for id in &change.removed {
            mirror.remove(id);
        }
        assert!(
            change.changed.len() + change.removed.len() <= 2,
            "{change:?}"
        );
    }
    assert_eq!(
        mirror.into_iter().collect::<Vec<_>>(),
        [("t2".to_string(), r#"{"title":"Two"}"#.to_string())]
    );
    let added: Vec<_> = all.iter().flat_map(|c| c.changed.clone()).collect();
    assert!(added.contains(&record("t1", r#"{"title":"Learn sync"}"#)));
    let removed: Vec<_> = all.iter().flat_map(|c| c.removed.clone()).collect();
    assert_eq!(removed, ["t1"]);
}

#[test]
fn rejected_mutation_reaches_rejection_and_error_listeners_and_rolls_back() {
    let server = TestServer::start();
    let scope = scope("ffi-reject");
    server.reject("todo.create", "forbidden", "titles may not say forbidden");
    let client = started(options(&server, &scope));
    let (rejections, rejected) = Recorder::<RejectedMutation>::new();
    let (errors, reported) = Recorder::<MizuError>::new();
    let _r = client.on_rejected(rejections);
    let _e = client.on_error(errors);
    let todos = client.collection("todo".into()).unwrap();
    todos
        .create("bad".into(), r#"{"title":"forbidden"}"#.into())
        .unwrap();
    wait_until("the rejection arrives", || rejected.len() == 1);
    let mutation = rejected.all().remove(0);
    assert_eq!(mutation.name, "todo.create");
    assert!(mutation.reason.contains("titles may not say forbidden"));
    wait_until("the error listener has it too", || {
        reported.all().iter().any(|e| {
            matches!(e, MizuError::Rejected { mutation_id, .. } if *mutation_id == mutation.mutation_id)
        })
    });
    wait_until("the write is rolled back", || {
        todos.value("bad".into()).unwrap().is_none()
    });
}

#[test]
fn a_failing_sync_listener_is_reported_and_syncing_goes_on() {
    let server = TestServer::start();
    let scope = scope("ffi-failing-listener");
    let client = started(options(&server, &scope));
    let (failing, calls) = Recorder::<u64>::failing(host_failure("on_sync raised"));
    let (errors, reported) = Recorder::<MizuError>::new();
    let _s = client.on_sync(failing);
    let _e = client.on_error(errors);
    let todos = client.collection("todo".into()).unwrap();
    for i in 0..3 {
        todos.set(format!("t{i}"), i.to_string()).unwrap();
        client.flush(20_000).unwrap();
    }
    wait_until("several syncs", || calls.len() >= 2);
    assert!(reported.all().contains(&host_failure("on_sync raised")));
    assert_eq!(client.pending_count().unwrap(), 0);
    assert!(client.status().unwrap().online);
}

/// Calls back into the client from a listener running on the engine thread.
#[derive(Debug)]
struct Reentrant {
    client: Arc<Client>,
    seen: Mutex<Vec<(u64, u64)>>,
}

impl CollectionListener for Reentrant {
    fn on_change(&self, change: CollectionChange) -> Result<(), MizuError> {
        let todos = self.client.collection("todo".into())?;
        let count = todos.count()?;
        let pending = self.client.status()?.pending;
        assert!(change.changed.len() as u64 <= count.max(1) + 1);
        self.seen.lock().unwrap().push((count, pending));
        Ok(())
    }
}

#[test]
fn listeners_on_the_engine_thread_may_call_back_into_the_client() {
    let server = TestServer::start();
    let scope = scope("ffi-reentrant");
    let writer = started(options(&server, &scope));
    let reader = started(options(&server, &scope));
    let listener = Arc::new(Reentrant {
        client: reader.clone(),
        seen: Mutex::new(Vec::new()),
    });
    let _watching = reader
        .collection("todo".into())
        .unwrap()
        .subscribe(listener.clone())
        .unwrap();
    let todos = writer.collection("todo".into()).unwrap();
    for i in 0..5 {
        todos.set(format!("t{i}"), "true".into()).unwrap();
    }
    writer.flush(20_000).unwrap();
    wait_until("the reader sees all five", || {
        listener.seen.lock().unwrap().last().map(|s| s.0) == Some(5)
    });
    // Meanwhile this thread calls in too.
    assert_eq!(
        reader.collection("todo".into()).unwrap().count().unwrap(),
        5
    );
}

#[test]
fn one_graph_spans_foreign_computeds_collection_counts_and_signals() {
    let client = Client::new(ClientOptions::defaults_for_test(), None, None, None, None).unwrap();
    let todos = client.collection("todo".into()).unwrap();
    let factor = Signal::new("10".into()).unwrap();
    let (t, f) = (todos.clone(), factor.clone());
    let scaled = Computed::new(Arc::new(Func(move || {
        let factor: u64 = f.get()?.parse().unwrap();
        Ok((t.count()? * factor).to_string())
    })));
    let (listener, seen) = Recorder::<String>::new();
    let _watching = scaled.subscribe(listener).unwrap();
    todos.set("a".into(), "1".into()).unwrap();
    todos.set("a".into(), "2".into()).unwrap(); // not a membership change
    factor.set("3".into()).unwrap();
    todos.delete("a".into()).unwrap();
    assert_eq!(seen.all(), ["0", "10", "3", "0"]);
}

#[test]
fn entity_listener_sees_the_value_first_then_changes_and_deletion() {
    let path = temp_db("ffi-entity");
    let client = Client::new(
        ClientOptions {
            storage_path: Some(path.to_string_lossy().into_owned()),
            ..ClientOptions::defaults_for_test()
        },
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let todos = client.collection("todo".into()).unwrap();
    let entity = todos.get("a".into()).unwrap();
    let (listener, seen) = Recorder::<Option<String>>::new();
    let subscription = entity.subscribe(listener).unwrap();
    entity.set(r#"{"n":1}"#.into()).unwrap();
    entity.delete().unwrap();
    entity.close();
    assert!(subscription.is_cancelled());
    assert!(matches!(entity.get(), Err(MizuError::Closed { .. })));
    assert_eq!(seen.all(), [None, Some(r#"{"n":1}"#.into()), None]);
    client.close();
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_encrypted_store_maps_a_wrong_key_to_wrong_key_and_rekeys() {
    let path = temp_db("ffi-encrypted");
    let open = |key: Option<&str>| {
        Client::new(
            ClientOptions {
                storage_path: Some(path.to_string_lossy().into_owned()),
                encryption_key: key.map(str::to_owned),
                ..ClientOptions::defaults_for_test()
            },
            None,
            None,
            None,
            None,
        )
    };
    let client = open(Some("first key")).unwrap();
    let todos = client.collection("todo".into()).unwrap();
    todos
        .create("a".into(), r#"{"title":"ffi-secret-6d2c1"}"#.into())
        .unwrap();
    client.rekey("second key".into()).unwrap();
    assert!(matches!(
        client.rekey(String::new()),
        Err(MizuError::InvalidArgument { .. })
    ));
    client.close();
    assert!(matches!(
        client.rekey("k".into()),
        Err(MizuError::Closed { .. })
    ));
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes
        .windows(b"ffi-secret-6d2c1".len())
        .any(|w| w == b"ffi-secret-6d2c1"));

    for key in [Some("first key"), None] {
        match open(key) {
            Err(MizuError::WrongKey { reason }) => assert!(!reason.is_empty()),
            other => panic!("expected WrongKey for {key:?}, got {other:?}"),
        }
    }
    let reopened = open(Some("second key")).unwrap();
    let todos = reopened.collection("todo".into()).unwrap();
    assert_eq!(todos.count().unwrap(), 1);
    reopened.close();
    let printed = format!(
        "{:?}",
        ClientOptions {
            encryption_key: Some("second key".into()),
            ..ClientOptions::defaults_for_test()
        }
    );
    assert!(!printed.contains("second key"), "{printed}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_durability_option_sets_the_store_files_synchronous_mode() {
    use mizu_sync::ffi::Durability;
    let path = temp_db("ffi-durability");
    let open = |durability: Option<Durability>| {
        Client::new(
            ClientOptions {
                storage_path: Some(path.to_string_lossy().into_owned()),
                durability,
                ..ClientOptions::defaults_for_test()
            },
            None,
            None,
            None,
            None,
        )
        .unwrap()
    };
    for (asked, expected) in [
        (None, Durability::Full),
        (Some(Durability::Normal), Durability::Normal),
        (Some(Durability::Full), Durability::Full),
    ] {
        let client = open(asked);
        assert_eq!(client.durability().unwrap(), Some(expected), "{asked:?}");
        client.close();
        assert!(matches!(client.durability(), Err(MizuError::Closed { .. })));
    }
    let in_memory =
        Client::new(ClientOptions::defaults_for_test(), None, None, None, None).unwrap();
    assert_eq!(in_memory.durability().unwrap(), None);
    in_memory.close();
    let _ = std::fs::remove_file(path);
}

trait TestDefaults {
    fn defaults_for_test() -> Self;
}

impl TestDefaults for ClientOptions {
    /// Options for a client that never reaches a server (port 9, discard).
    fn defaults_for_test() -> Self {
        ClientOptions {
            base_url: "http://127.0.0.1:9/_sync".into(),
            scope: String::new(),
            storage_path: None,
            encryption_key: None,
            durability: None,
            live_url: None,
            push_interval_ms: 5000,
            pull_interval_ms: 30000,
            request_timeout_ms: 1000,
            backoff_min_ms: 500,
            backoff_max_ms: 60000,
            push_batch_size: 100,
            pull_limit: 1000,
            headers: HashMap::new(),
            max_snapshot_bytes: None,
            subscribe_message_json: None,
        }
    }
}

/// Counts `on_pending` calls.
#[derive(Debug, Default)]
struct Pending(std::sync::atomic::AtomicUsize);

impl mizu_sync::ffi::listener::PendingListener for Pending {
    fn on_pending(&self) -> Result<(), MizuError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn async_exports_complete_and_a_pending_listener_holds_deliveries_for_dispatch() {
    let server = TestServer::start();
    let scope = scope("ffi-async");
    let writer = started(options(&server, &scope));
    let pending = Arc::new(Pending::default());
    let reader = Client::new(
        options(&server, &scope),
        None,
        Some(pending.clone()),
        None,
        None,
    )
    .unwrap();
    reader.start().unwrap();

    let todos = writer.collection("todo".into()).unwrap();
    let entity = block_on(todos.create_async("t1".into(), r#"{"v":1}"#.into())).unwrap();
    block_on(entity.set_async(r#"{"v":2}"#.into())).unwrap();
    block_on(todos.set_async("t2".into(), r#"{"v":3}"#.into())).unwrap();
    block_on(todos.delete_async("t2".into())).unwrap();
    block_on(writer.mutate_async("todo.noop".into(), None)).unwrap();
    block_on(writer.flush_async(20_000)).unwrap();

    let (syncs, seen) = Recorder::<u64>::new();
    let _s = reader.on_sync(syncs);
    let (changes, changed) = Recorder::<CollectionChange>::new();
    let _c = reader
        .collection("todo".into())
        .unwrap()
        .subscribe(changes)
        .unwrap();
    let before = changed.len();
    block_on(reader.sync_async()).unwrap();
    assert_eq!(changed.len(), before, "held until dispatched");
    assert!(pending.0.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(reader.dispatch_pending().unwrap() >= 1);
    assert!(changed.all().iter().any(|c| c
        .changed
        .iter()
        .any(|r| r.id == "t1" && r.value_json == r#"{"v":2}"#)));
    assert!(
        !seen.all().is_empty(),
        "on_sync was delivered by the dispatch"
    );

    block_on(reader.close_async());
    assert!(reader.is_closed());
    assert!(matches!(
        block_on(reader.sync_async()),
        Err(MizuError::Closed { .. })
    ));
}

#[derive(Debug, Default)]
struct LogLines(Mutex<Vec<(mizu_sync::ffi::LogLevel, String, String)>>);

impl mizu_sync::ffi::LogListener for LogLines {
    fn on_log(
        &self,
        level: mizu_sync::ffi::LogLevel,
        target: String,
        message: String,
    ) -> Result<(), MizuError> {
        self.0.lock().unwrap().push((level, target, message));
        Ok(())
    }
}

#[derive(Debug)]
struct FixedToken;

impl mizu_sync::ffi::TokenProvider for FixedToken {
    fn token(&self, _refresh: bool) -> Result<Option<String>, MizuError> {
        Ok(Some("ffi-token-marker-61b2".into()))
    }
}

#[test]
fn a_log_listener_receives_the_engine_decisions_at_its_level_without_secrets() {
    use mizu_sync::ffi::LogLevel;
    let server = TestServer::start();
    let scope = scope("ffi-log");
    let mut with_header = options(&server, &scope);
    with_header
        .headers
        .insert("X-App-Secret".into(), "ffi-header-marker-0c4d".into());
    let debug = Arc::new(LogLines::default());
    let info = Arc::new(LogLines::default());
    let client = Client::new(
        with_header.clone(),
        Some(Arc::new(FixedToken)),
        None,
        Some(debug.clone()),
        Some(LogLevel::Debug),
    )
    .unwrap();
    let quiet = Client::new(
        with_header,
        Some(Arc::new(FixedToken)),
        None,
        Some(info.clone()),
        None,
    )
    .unwrap();
    client.start().unwrap();
    quiet.start().unwrap();
    client
        .collection("todo".into())
        .unwrap()
        .create("a".into(), r#"{"title":"logged"}"#.into())
        .unwrap();
    client.flush(20_000).unwrap();
    quiet.flush(20_000).unwrap();
    client.close();
    quiet.close();

    let debug = debug.0.lock().unwrap();
    let has = |target: &str, text: &str| {
        debug
            .iter()
            .any(|(_, t, m)| t == target && m.contains(text))
    };
    assert!(has("mizu_sync::push", "pushed 1 mutations: 1 acknowledged"));
    assert!(has("mizu_sync::pull", "pulled from cursor"));
    assert!(has("mizu_sync::snapshot", "applying a snapshot"));
    assert!(debug.iter().all(|(level, _, _)| *level <= LogLevel::Debug));
    let info = info.0.lock().unwrap();
    assert!(!info.is_empty());
    assert!(info.iter().all(|(level, _, _)| *level <= LogLevel::Info));
    for (_, target, message) in debug.iter().chain(info.iter()) {
        for secret in ["ffi-token-marker-61b2", "ffi-header-marker-0c4d"] {
            assert!(!message.contains(secret) && !target.contains(secret));
        }
    }
}
