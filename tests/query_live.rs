//! Live queries through the public API: reads, tracking, subscriptions with keyed diffs, the
//! collection change stream, indexes and bad input.

use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use mizu_sync::query::{apply_diff, field, Order, QueryEvent, QuerySpec};
use mizu_sync::reactive::{Computed, Effect};
use mizu_sync::{Client, Error, Options};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Todo {
    title: String,
    completed: bool,
    priority: i64,
}

fn todo(title: &str, completed: bool, priority: i64) -> Todo {
    Todo {
        title: title.into(),
        completed,
        priority,
    }
}

fn offline_client() -> Client {
    Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap()
}

type Rows = Arc<Mutex<Vec<(String, Todo)>>>;

/// Subscribes and keeps a list up to date by applying diffs, as a list UI would.
fn mirror(query: &mizu_sync::Query<Todo>) -> (Rows, Arc<AtomicUsize>, mizu_sync::Subscription) {
    let rows: Rows = Arc::default();
    let diffs = Arc::new(AtomicUsize::new(0));
    let (r, d) = (rows.clone(), diffs.clone());
    let sub = query
        .subscribe(move |event| match event.unwrap() {
            QueryEvent::Result(all) => *r.lock().unwrap() = all,
            QueryEvent::Diff(ops) => {
                d.fetch_add(1, AtomicOrdering::SeqCst);
                apply_diff(&mut r.lock().unwrap(), &ops);
            }
        })
        .unwrap();
    (rows, diffs, sub)
}

#[test]
fn a_windowed_query_follows_writes_with_one_diff_each() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for i in 0..20 {
        todos
            .create(
                format!("t{i:02}"),
                todo(&format!("task {i}"), i % 3 == 0, i % 7),
            )
            .unwrap();
    }
    let open = todos
        .query()
        .filter(field("completed").eq(false))
        .order_by("priority", Order::Desc)
        .limit(5);
    let (rows, diffs, _sub) = mirror(&open);
    assert_eq!(*rows.lock().unwrap(), open.get().unwrap());
    assert_eq!(open.count().unwrap(), 13);

    todos.get("t01").set(todo("urgent", false, 99)).unwrap();
    todos.get("t13").delete().unwrap(); // priority 6: in the window
    todos.get("t00").set(todo("reopened", false, 50)).unwrap();
    todos.create("t99", todo("done", true, 100)).unwrap(); // outside the result: no diff
    assert_eq!(diffs.load(AtomicOrdering::SeqCst), 3);
    assert_eq!(*rows.lock().unwrap(), open.get().unwrap());
    let ids = open.ids().unwrap();
    assert_eq!(&ids[..2], ["t01", "t00"]);
}

#[test]
fn an_unwindowed_query_reports_moves_and_updates() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for i in 0..10 {
        todos.create(format!("t{i}"), todo("x", false, i)).unwrap();
    }
    let all = todos.query().order_by("priority", Order::Asc);
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    let _sub = all
        .subscribe(move |event| e.lock().unwrap().push(event.unwrap()))
        .unwrap();
    todos.get("t0").set(todo("x", false, 100)).unwrap();
    let events = events.lock().unwrap();
    match &events[1] {
        QueryEvent::Diff(ops) => {
            assert!(matches!(
                ops[0],
                mizu_sync::query::DiffOp::Moved { from: 0, to: 9, .. }
            ));
            assert!(matches!(
                ops[1],
                mizu_sync::query::DiffOp::Updated { index: 9, .. }
            ));
        }
        other => panic!("expected a diff, got {other:?}"),
    }
}

#[test]
fn a_query_read_in_a_computed_wakes_only_when_its_result_changes() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for i in 0..10 {
        todos.create(format!("t{i}"), todo("x", i >= 5, i)).unwrap();
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let (t, r) = (todos.clone(), runs.clone());
    let open_titles = Computed::new(move || {
        r.fetch_add(1, AtomicOrdering::SeqCst);
        t.query()
            .filter(field("completed").eq(false))
            .order_by("priority", Order::Asc)
            .limit(3)
            .ids()
            .unwrap()
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, s) = (open_titles.clone(), seen.clone());
    let _effect = Effect::new(move || s.lock().unwrap().push(c.get()));
    assert_eq!(runs.load(AtomicOrdering::SeqCst), 1);
    // Outside the result, and not entering it: nobody wakes.
    todos.get("t7").set(todo("y", true, 7)).unwrap();
    todos.get("t4").set(todo("y", false, 4)).unwrap(); // matches, beyond the limit
    assert_eq!(runs.load(AtomicOrdering::SeqCst), 1);
    // Entering the window wakes it.
    todos.get("t9").set(todo("y", false, -1)).unwrap();
    assert_eq!(runs.load(AtomicOrdering::SeqCst), 2);
    assert_eq!(seen.lock().unwrap().last().unwrap(), &["t9", "t0", "t1"]);
}

#[test]
fn the_collection_stream_delivers_only_what_changed() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for i in 0..100 {
        todos.create(format!("t{i}"), todo("x", false, i)).unwrap();
    }
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    let _sub = todos
        .subscribe(move |change| {
            c.lock()
                .unwrap()
                .push((change.changed.len(), change.removed))
        })
        .unwrap();
    todos.get("t5").set(todo("y", true, 5)).unwrap();
    todos.get("t6").delete().unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls[0], (100, vec![]));
    assert_eq!(calls[1], (1, vec![]));
    assert_eq!(calls[2], (0, vec!["t6".to_string()]));
}

#[test]
fn an_index_serves_queries_and_stays_in_step() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    todos.ensure_index("priority").unwrap();
    todos.ensure_index("completed").unwrap();
    for i in 0..50 {
        todos
            .create(format!("t{i:02}"), todo("x", i % 2 == 0, i % 5))
            .unwrap();
    }
    let q = todos
        .query()
        .filter(field("completed").eq(true))
        .order_by("priority", Order::Desc);
    let brute: Vec<String> = {
        let mut all: Vec<(String, Todo)> = todos
            .entries()
            .into_iter()
            .filter(|(_, t)| t.completed)
            .collect();
        all.sort_by(|a, b| b.1.priority.cmp(&a.1.priority).then(a.0.cmp(&b.0)));
        all.into_iter().map(|(id, _)| id).collect()
    };
    assert_eq!(q.ids().unwrap(), brute);
    assert_eq!(todos.index_stats("priority").unwrap().0, 50);
}

#[test]
fn bad_queries_are_typed_errors() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for bad in ["", "a..b", ".a"] {
        assert!(matches!(
            todos.query().filter(field(bad).eq(1)).get(),
            Err(Error::InvalidQuery(_))
        ));
        assert!(matches!(
            todos.ensure_index(bad),
            Err(Error::InvalidQuery(_))
        ));
    }
    assert!(matches!(
        todos.query().order_by("", Order::Asc).count(),
        Err(Error::InvalidQuery(_))
    ));
    assert!(QuerySpec::from_json(r#"{"filter":{"field":"a","op":"regex","value":1}}"#).is_err());
    client.close();
    assert!(matches!(todos.query().get(), Err(Error::Closed)));
}

#[test]
fn a_slow_subscriber_gets_a_bounded_backlog_and_still_ends_right() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    for i in 0..100 {
        todos
            .create(format!("t{i:03}"), todo("x", false, i))
            .unwrap();
    }
    let query = todos.query().order_by("priority", Order::Desc).limit(10);
    let rows: Arc<Mutex<Vec<(String, Todo)>>> = Arc::default();
    let events = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel::<()>();
    let gate = Mutex::new(Some((gate_rx, blocked_tx)));
    let (r, e) = (rows.clone(), events.clone());
    let _sub = query
        .subscribe(move |event| {
            if matches!(event, Ok(QueryEvent::Diff(_))) {
                if let Some((gate, blocked)) = gate.lock().unwrap().take() {
                    blocked.send(()).unwrap();
                    gate.recv().unwrap(); // a slow UI thread, once
                }
            }
            e.fetch_add(1, AtomicOrdering::SeqCst);
            match event.unwrap() {
                QueryEvent::Result(all) => *r.lock().unwrap() = all,
                QueryEvent::Diff(ops) => apply_diff(&mut r.lock().unwrap(), &ops),
            }
        })
        .unwrap();
    // Another thread's write makes it the deliverer, held up in the listener.
    let writer = {
        let todos = todos.clone();
        std::thread::spawn(move || todos.get("t000").set(todo("x", false, 1_000)).unwrap())
    };
    blocked_rx.recv().unwrap();
    for k in 0..10_000 {
        let i = k % 100;
        todos
            .get(format!("t{i:03}"))
            .set(todo("x", false, (k * 7919) % 5_000))
            .unwrap();
    }
    gate_tx.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(*rows.lock().unwrap(), query.get().unwrap());
    let delivered = events.load(AtomicOrdering::SeqCst);
    assert!(
        delivered <= 2 + 64 + 1,
        "{delivered} events reached the slow subscriber"
    );
}

#[test]
fn a_slow_collection_subscriber_gets_merged_changes_that_still_add_up() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let mirror: Arc<Mutex<std::collections::BTreeMap<String, Todo>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel::<()>();
    let gate = Mutex::new(Some((gate_rx, blocked_tx)));
    let (m, c) = (mirror.clone(), calls.clone());
    let _sub = todos
        .subscribe(move |change| {
            if c.fetch_add(1, AtomicOrdering::SeqCst) == 1 {
                let (gate, blocked) = gate.lock().unwrap().take().unwrap();
                blocked.send(()).unwrap();
                gate.recv().unwrap();
            }
            let mut m = m.lock().unwrap();
            for (id, value) in change.changed {
                m.insert(id, value);
            }
            for id in change.removed {
                m.remove(&id);
            }
        })
        .unwrap();
    let writer = {
        let todos = todos.clone();
        std::thread::spawn(move || todos.get("first").set(todo("x", false, 0)).unwrap())
    };
    blocked_rx.recv().unwrap();
    for k in 0..5_000 {
        let id = format!("t{}", k % 50);
        if k % 7 == 0 {
            todos.get(id).delete().unwrap();
        } else {
            todos.get(id).set(todo("x", k % 2 == 0, k as i64)).unwrap();
        }
    }
    gate_tx.send(()).unwrap();
    writer.join().unwrap();
    let expected: std::collections::BTreeMap<String, Todo> = todos.entries().into_iter().collect();
    assert_eq!(*mirror.lock().unwrap(), expected);
    assert!(calls.load(AtomicOrdering::SeqCst) <= 2 + 64 + 1);
}
