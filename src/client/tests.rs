//! Client behaviour that needs a scripted server: answers the reference server cannot be made
//! to give on cue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use mizu_test_support::http_server::{Answer, HttpServer, Recorded};
use mizu_test_support::{temp_dir, wait_until};

use crate::{Client, Options};

fn count(server: &HttpServer, endpoint: &str) -> usize {
    let path = format!("/_sync/{endpoint}");
    server.requests().iter().filter(|r| r.path == path).count()
}

/// Acknowledges every push (mutation `i` of a batch at cursor `100 + i`); fails pulls until
/// `pulls_work`, then answers with the changes of every mutation pushed so far.
fn server(pulls_work: Arc<AtomicBool>) -> HttpServer {
    let pushed: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
    HttpServer::start(move |request: &Recorded| match request.path.as_str() {
        "/_sync/snapshot" => Answer::json(200, r#"{"data":{},"cursor":5}"#),
        "/_sync/push" => {
            let mutations = request.json()["mutations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut log = pushed.lock().unwrap();
            let results: Vec<Value> = mutations
                .iter()
                .map(|m| {
                    if !log.iter().any(|seen| seen["id"] == m["id"]) {
                        log.push(m.clone());
                    }
                    let at = 100 + log.iter().position(|seen| seen["id"] == m["id"]).unwrap();
                    json!({"ok": true, "cursor": at})
                })
                .collect();
            Answer::json(200, &json!({ "results": results }).to_string())
        }
        "/_sync/pull" if pulls_work.load(Ordering::SeqCst) => {
            let changes: Vec<Value> = pushed
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let args = &m["args"];
                    json!({
                        "cursor": 100 + i,
                        "scope": "",
                        "time": "2026-01-01T00:00:00.000000001Z",
                        "data": {"entity": "todo", "id": args["id"], "op": "create", "data": args["data"]},
                    })
                })
                .collect();
            let body = json!({ "changes": changes, "has_more": false });
            Answer::json(200, &body.to_string())
        }
        _ => Answer::json(503, r#"{"code":"internal_error","error":"down"}"#),
    })
}

fn client(server: &HttpServer, db: &std::path::Path) -> Client {
    let options = Options::new(server.url("/_sync"))
        .storage_path(db)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .request_timeout(Duration::from_secs(5));
    let client = Client::new(options).expect("the client opens");
    client.start().expect("the client starts");
    client
}

#[test]
fn acknowledged_writes_awaiting_their_pull_are_not_pushed_again_after_a_restart() {
    let pulls_work = Arc::new(AtomicBool::new(false));
    let server = server(pulls_work.clone());
    let dir = temp_dir("acked-restart");
    let db = dir.path().join("client.db");

    let first = client(&server, &db);
    let todos = first.collection::<Value>("todo");
    todos.create("a", json!({"title": "mine"})).unwrap();
    wait_until("the write is acknowledged", || {
        count(&server, "push") == 1 && first.status().get().pending == 0
    });
    assert_eq!(first.pending_count(), 1, "queued until its pull");
    first.close();

    let second = client(&server, &db);
    let pulls_before = count(&server, "pull");
    wait_until("the restarted client has tried to pull twice", || {
        count(&server, "pull") >= pulls_before + 2
    });
    assert_eq!(
        count(&server, "push"),
        1,
        "the acknowledged write was not pushed again"
    );
    let todos = second.collection::<Value>("todo");
    assert_eq!(
        todos.get("a").get(),
        Some(json!({"title": "mine"})),
        "still shown"
    );

    pulls_work.store(true, Ordering::SeqCst);
    second
        .flush(Duration::from_secs(20))
        .expect("the pull settles it");
    assert_eq!(second.pending_count(), 0);
    assert_eq!(todos.get("a").get(), Some(json!({"title": "mine"})));
    assert_eq!(count(&server, "push"), 1);
}

/// A pulled page the local store could not take (a write that fails, here through a trigger
/// on the client's SQLite file) is reported, and pulled again once the store works: the client
/// never moves past changes it does not hold.
#[cfg(feature = "server")]
#[test]
fn a_page_the_store_could_not_take_is_pulled_again() {
    use std::sync::Mutex;

    use crate::server::{Server, ServerOptions};
    use crate::Error;

    let server = Server::start(ServerOptions::default()).unwrap();
    let options = || {
        Options::new(server.base_url())
            .pull_interval(Duration::from_millis(100))
            .backoff(Duration::from_millis(10), Duration::from_millis(100))
    };
    let alice = Client::new(options()).unwrap();
    alice.start().unwrap();
    let alice_todos = alice.collection::<Value>("todo");
    alice_todos.create("first", json!({ "n": 0 })).unwrap();
    alice.flush(Duration::from_secs(20)).unwrap();

    let dir = temp_dir("apply-failure");
    let errors: Arc<Mutex<Vec<Error>>> = Arc::default();
    let seen = errors.clone();
    let bob = Client::new(
        options()
            .storage_path(dir.path().join("bob.db"))
            .on_error(move |e| seen.lock().unwrap().push(e.clone())),
    )
    .unwrap();
    bob.start().unwrap();
    bob.sync().unwrap();
    let bob_todos = bob.collection::<Value>("todo");
    assert_eq!(bob_todos.count(), 1);
    let store = &bob.shared.store;
    store.execute_for_test(
        "CREATE TRIGGER fail_boom BEFORE INSERT ON base WHEN NEW.id = 'boom'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    );

    for id in ["x1", "boom", "x2"] {
        alice_todos.create(id, json!({ "id": id })).unwrap();
    }
    alice.flush(Duration::from_secs(20)).unwrap();
    wait_until("bob reports the failed write", || {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Error::Storage(_)))
    });
    assert_eq!(bob_todos.count(), 1, "a page is stored whole or not at all");
    assert!(bob.cursor() < alice.cursor());

    store.execute_for_test("DROP TRIGGER fail_boom");
    bob.sync().unwrap();
    let ids: Vec<String> = bob_todos.entries().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["boom", "first", "x1", "x2"]);
}
