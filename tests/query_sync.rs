//! Live queries fed by sync against a real server (the reference server by default, the real
//! mizu server with `MIZU_SYNC_TEST_SERVER=mizu`): pulled pages, rejections rolled back, and a
//! store reopened from disk, each reaching a subscriber as diffs that rebuild the result.

mod client_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use client_support::{options, scope, started, temp_db, todo, wait_until, TestServer, Todo};
use mizu_sync::query::{apply_diff, field, Order, QueryEvent};
use mizu_sync::reactive::Effect;
use mizu_sync::{Client, Collection, Query, Subscription};

type Rows = Arc<Mutex<Vec<(String, Todo)>>>;

fn open_titles(todos: &Collection<Todo>) -> Query<Todo> {
    todos
        .query()
        .filter(field("completed").eq(false))
        .order_by("title", Order::Asc)
        .limit(3)
}

fn mirror(query: &Query<Todo>) -> (Rows, Subscription) {
    let rows: Rows = Arc::default();
    let r = rows.clone();
    let sub = query
        .subscribe(move |event| match event.unwrap() {
            QueryEvent::Result(all) => *r.lock().unwrap() = all,
            QueryEvent::Diff(ops) => apply_diff(&mut r.lock().unwrap(), &ops),
        })
        .unwrap();
    (rows, sub)
}

fn titles(rows: &Rows) -> Vec<String> {
    rows.lock()
        .unwrap()
        .iter()
        .map(|(_, t)| t.title.clone())
        .collect()
}

fn done(title: &str) -> Todo {
    Todo {
        completed: true,
        ..todo(title)
    }
}

#[test]
fn pulled_changes_reach_a_live_query_as_diffs() {
    let server = TestServer::start();
    let scope = scope("query-pull");
    let alice = started(options(&server.base_url(), &scope));
    let bob = started(options(&server.base_url(), &scope));
    let alice_todos = alice.collection::<Todo>("todo");
    let bob_todos = bob.collection::<Todo>("todo");
    let query = open_titles(&bob_todos);
    let (rows, _sub) = mirror(&query);
    assert!(rows.lock().unwrap().is_empty());

    for title in ["d", "b", "e", "a", "c"] {
        alice_todos.create(title, todo(title)).unwrap();
    }
    alice_todos.get("a").set(done("a")).unwrap();
    alice.flush(client_support::WAIT).unwrap();
    bob.sync().unwrap();
    wait_until("bob's query shows b, c, d", || {
        titles(&rows) == ["b", "c", "d"]
    });
    assert_eq!(*rows.lock().unwrap(), query.get().unwrap());
    assert_eq!(query.count().unwrap(), 4);

    alice_todos.get("b").delete().unwrap();
    alice_todos.get("a").set(todo("a")).unwrap();
    alice.flush(client_support::WAIT).unwrap();
    bob.sync().unwrap();
    wait_until("bob's query shows a, c, d", || {
        titles(&rows) == ["a", "c", "d"]
    });
    assert_eq!(*rows.lock().unwrap(), query.get().unwrap());
}

#[test]
fn a_rejected_write_rolls_back_out_of_the_result() {
    let server = TestServer::start();
    let scope = scope("query-reject");
    server.reject("todo.create", "forbidden", "titles may not say forbidden");
    let client = started(options(&server.base_url(), &scope));
    let todos = client.collection::<Todo>("todo");
    let query = open_titles(&todos);
    let (rows, _sub) = mirror(&query);
    client.pause(); // so that the optimistic state can be seen before the server answers
    todos.create("x", todo("allowed")).unwrap();
    todos.create("y", todo("a forbidden one")).unwrap();
    assert_eq!(titles(&rows), ["a forbidden one", "allowed"]);
    client.resume();
    wait_until("the rejection rolls it back", || {
        titles(&rows) == ["allowed"]
    });
    assert_eq!(*rows.lock().unwrap(), query.get().unwrap());
}

#[test]
fn a_reopened_store_gives_the_same_result() {
    let server = TestServer::start();
    let scope = scope("query-reopen");
    let path = temp_db("query-reopen");
    let first: Vec<(String, Todo)> = {
        let client: Client = started(options(&server.base_url(), &scope).storage_path(&path));
        let todos = client.collection::<Todo>("todo");
        for title in ["q", "p", "r", "s"] {
            todos.create(title, todo(title)).unwrap();
        }
        todos.get("s").set(done("s")).unwrap();
        client.flush(client_support::WAIT).unwrap();
        open_titles(&todos).get().unwrap()
    };
    let client = Client::new(options(&server.base_url(), &scope).storage_path(&path)).unwrap();
    let todos = client.collection::<Todo>("todo");
    todos.ensure_index("title").unwrap();
    assert_eq!(open_titles(&todos).get().unwrap(), first);
    assert_eq!(titles(&Arc::new(Mutex::new(first))), ["p", "q", "r"]);
}

/// A fresh client bootstraps a collection of a few hundred entities from a snapshot (told of
/// as one arrival, not key by key): its live query, change feed, count and entity readers
/// all follow, and a reader of an entity the snapshot does not hold stays asleep.
#[test]
fn a_bootstrapped_collection_reaches_queries_feeds_and_exactly_its_readers() {
    const N: usize = 300;
    let server = TestServer::start();
    let scope = scope("query-arrival");
    let alice = started(options(&server.base_url(), &scope).push_batch_size(100));
    let alice_todos = alice.collection::<Todo>("todo");
    for i in 0..N {
        let todo = Todo {
            completed: i % 2 == 1,
            ..todo(&format!("title {i:03}"))
        };
        alice_todos.create(format!("t{i:03}"), todo).unwrap();
    }
    alice.flush(client_support::WAIT).unwrap();

    let bob = Client::new(options(&server.base_url(), &scope)).unwrap();
    let todos = bob.collection::<Todo>("todo");
    todos.ensure_index("title").unwrap();
    let query = open_titles(&todos);
    let (rows, _query_sub) = mirror(&query);
    let fed: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let f = fed.clone();
    let _feed_sub = todos
        .subscribe(move |changes| {
            let mut fed = f.lock().unwrap();
            fed.extend(changes.changed.into_iter().map(|(id, _)| id));
            assert!(changes.removed.is_empty());
        })
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, entity) = (seen.clone(), todos.get("t007"));
    let _entity_effect = Effect::new(move || s.lock().unwrap().push(entity.get()));
    let missing_runs = Arc::new(AtomicUsize::new(0));
    let (m, missing) = (missing_runs.clone(), todos.get("absent"));
    let _missing_effect = Effect::new(move || {
        missing.get();
        m.fetch_add(1, Ordering::SeqCst);
    });
    let counted = Arc::new(AtomicUsize::new(usize::MAX));
    let (c, counting) = (counted.clone(), todos.clone());
    let _count_effect = Effect::new(move || c.store(counting.count(), Ordering::SeqCst));

    bob.start().unwrap();
    wait_until("bob counts every todo", || {
        counted.load(Ordering::SeqCst) == N
    });
    // The feed and the query's subscriber are called on the delivery thread, after the commit
    // that the count's effect saw.
    wait_until("the feed told of every todo", || {
        fed.lock().unwrap().len() == N
    });
    wait_until("the query's subscriber has the result", || {
        *rows.lock().unwrap() == query.get().unwrap()
    });
    assert_eq!(titles(&rows), ["title 000", "title 002", "title 004"]);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            None,
            Some(Todo {
                completed: true,
                ..todo("title 007")
            })
        ]
    );
    assert_eq!(missing_runs.load(Ordering::SeqCst), 1, "woken for nothing");
}
