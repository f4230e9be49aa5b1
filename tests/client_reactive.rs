//! Collections and entities are reactive and fine-grained: effects re-run for what they read,
//! and only for that. No server needed: local writes are visible before any sync.

mod client_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use client_support::{todo, Todo};
use mizu_sync::reactive::{Computed, Effect};
use mizu_sync::{Client, Error, Options};

fn offline_client() -> Client {
    Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap()
}

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    (n.clone(), n)
}

#[test]
fn writing_one_entity_does_not_wake_readers_of_another() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let a = todos.create("a", todo("a")).unwrap();
    let b = todos.create("b", todo("b")).unwrap();
    let (runs, seen) = counter();
    let reader = b.clone();
    let _effect = Effect::new(move || {
        let _ = reader.get();
        seen.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    a.set(todo("a2")).unwrap();
    a.delete().unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "writes to a do not re-run b's reader"
    );
    b.set(todo("b2")).unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn count_follows_membership_and_not_updates() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let counted = todos.clone();
    let count = Computed::new(move || counted.count());
    let (runs, seen) = counter();
    let c = count.clone();
    let _effect = Effect::new(move || {
        let _ = c.get();
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let t = todos.create("t", todo("x")).unwrap();
    assert_eq!(count.get(), 1);
    t.set(todo("y")).unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "an update leaves the count alone"
    );
    t.delete().unwrap();
    assert_eq!(count.get(), 0);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[test]
fn find_and_entries_follow_every_change_in_the_collection_in_id_order() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let source = todos.clone();
    let open = Computed::new(move || {
        source
            .find(|t| !t.completed)
            .into_iter()
            .map(|e| e.id().to_string())
            .collect::<Vec<_>>()
    });
    todos.create("b", todo("b")).unwrap();
    todos.create("a", todo("a")).unwrap();
    todos.create("c", todo("c")).unwrap();
    assert_eq!(open.get(), vec!["a", "b", "c"]);
    todos
        .get("b")
        .set(Todo {
            title: "b".into(),
            completed: true,
        })
        .unwrap();
    assert_eq!(open.get(), vec!["a", "c"]);
    let ids: Vec<String> = todos
        .all()
        .into_iter()
        .map(|e| e.id().to_string())
        .collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
}

#[test]
fn the_seed_quick_example_prints_on_creation_and_each_set() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    let t = todos.create("todo-1", todo("Learn sync")).unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = lines.clone();
    let reader = t.clone();
    let effect = Effect::new(move || {
        let t = reader.get().unwrap_or_else(|| todo("(deleted)"));
        let status = if t.completed { "done" } else { "pending" };
        out.lock()
            .unwrap()
            .push(format!("Todo: {} [{status}]", t.title));
    });
    t.set(Todo {
        title: "Learn sync".into(),
        completed: true,
    })
    .unwrap();
    effect.stop();
    t.set(todo("after stop")).unwrap();
    assert_eq!(
        *lines.lock().unwrap(),
        vec!["Todo: Learn sync [pending]", "Todo: Learn sync [done]"]
    );
}

#[test]
fn the_status_signal_follows_the_pending_count() {
    let client = offline_client();
    let status = client.status();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let s = status.clone();
    let _effect = Effect::new(move || out.lock().unwrap().push(s.get().pending));
    client
        .collection::<Todo>("todo")
        .create("a", todo("a"))
        .unwrap();
    client.mutate("custom.op", None).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
}

#[test]
fn bad_input_gives_typed_errors() {
    let client = offline_client();
    let todos = client.collection::<Todo>("todo");
    assert!(matches!(
        todos.create("", todo("x")),
        Err(Error::InvalidArgument(_))
    ));
    todos.create("dup", todo("x")).unwrap();
    assert!(matches!(
        todos.create("dup", todo("y")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        client.mutate("", None),
        Err(Error::InvalidArgument(_))
    ));
    // A value stored by another type does not decode: an error, never a panic.
    let numbers = client.collection::<u32>("todo");
    assert!(matches!(
        numbers.get("dup").try_get(),
        Err(Error::Serialization(_))
    ));
    assert_eq!(numbers.get("dup").get(), None);
    assert!(matches!(
        Client::new(Options::new("not a url")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(client.sync(), Err(Error::NotStarted)));
    assert!(matches!(
        client.flush(std::time::Duration::from_millis(10)),
        Err(Error::NotStarted)
    ));
}
