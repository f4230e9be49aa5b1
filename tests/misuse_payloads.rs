//! Payloads past the server's limits: a value larger than the push body limit (1 MiB) is
//! refused by the server with 400; the client bisects its batch down to that one mutation,
//! rejects it with `Error::Rejected` (rolling back its optimistic effect), and the rest of the
//! queue keeps flowing.

mod client_support;

use std::sync::{Arc, Mutex};

use client_support::{options, scope, started, todo, wait_until, TestServer, Todo};
use mizu_sync::Error;
use serde_json::{json, Value};

#[test]
fn a_value_over_the_push_limit_is_rejected_alone_and_the_queue_keeps_flowing() {
    let server = TestServer::start();
    let scope = scope("huge");
    let errors = Arc::new(Mutex::new(Vec::new()));
    let log = errors.clone();
    let client = started(
        options(&server.base_url(), &scope).on_error(move |e| log.lock().unwrap().push(e.clone())),
    );
    let todos = client.collection::<Todo>("todo");
    let blobs = client.collection::<Value>("blob");
    todos.create("before", todo("small")).unwrap();
    blobs
        .create("huge", json!({ "bytes": "x".repeat(5 * 1024 * 1024) }))
        .unwrap();
    todos.create("after", todo("small")).unwrap();
    assert!(
        blobs.get("huge").exists(),
        "visible at once, optimistically"
    );

    wait_until("the huge write was rejected", || {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Error::Rejected { .. }))
    });
    client.flush(client_support::WAIT).unwrap();

    let rejected: Vec<Error> = errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Error::Rejected { .. }))
        .cloned()
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let Error::Rejected { name, reason, .. } = &rejected[0] else {
        unreachable!()
    };
    assert_eq!(name, "blob.create");
    assert!(!reason.is_empty());
    assert!(
        !blobs.get("huge").exists(),
        "the rejected write was rolled back"
    );
    assert_eq!(client.pending_count(), 0);
    let snapshot = server.snapshot(&scope);
    assert!(snapshot["todo"]["before"].is_object(), "{snapshot}");
    assert!(snapshot["todo"]["after"].is_object(), "{snapshot}");
    assert!(
        snapshot.get("blob").is_none_or(Value::is_null),
        "{snapshot}"
    );

    todos.create("later", todo("still flowing")).unwrap();
    client.flush(client_support::WAIT).unwrap();
    assert!(server.snapshot(&scope)["todo"]["later"].is_object());
}

#[test]
fn a_batch_that_only_together_exceeds_the_limit_is_split_and_fully_synced() {
    let server = TestServer::start();
    let scope = scope("split");
    let errors = Arc::new(Mutex::new(Vec::new()));
    let log = errors.clone();
    let client = started(
        options(&server.base_url(), &scope).on_error(move |e| log.lock().unwrap().push(e.clone())),
    );
    client.pause();
    let blobs = client.collection::<Value>("blob");
    // Eight values of 300 KiB: 2.4 MiB in one batch, each alone well under 1 MiB.
    for i in 0..8 {
        blobs
            .create(format!("b{i}"), json!("y".repeat(300 * 1024)))
            .unwrap();
    }
    client.resume();
    client.flush(client_support::WAIT).unwrap();
    assert_eq!(client.pending_count(), 0);
    let rejected = errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Error::Rejected { .. }))
        .count();
    assert_eq!(rejected, 0, "nothing was rejected");
    assert_eq!(
        server.snapshot(&scope)["blob"].as_object().unwrap().len(),
        8
    );
}
