#![cfg(feature = "server")]
//! Push, dedupe, pull paging and snapshots of the reference server.

mod server_support;

use serde_json::{json, Value};
use server_support::*;

fn pull(server: &mizu_sync::server::ServerHandle, scope: &str, cursor: u64, limit: i64) -> Value {
    ok(
        server,
        "/pull",
        json!({"scope":scope,"cursor":cursor,"limit":limit}),
    )
}

#[test]
fn applies_the_data_convention_and_reports_changes() {
    let server = start();
    let r = push_one(
        &server,
        "m1",
        "",
        "todo.create",
        json!({"id":"a","data":{"title":"x"}}),
    );
    assert_eq!(r["ok"], true);
    assert_eq!(r["cursor"], 1);
    let change = &r["changes"][0];
    assert_eq!(change["cursor"], 1);
    assert_eq!(change["scope"], "_default");
    assert_eq!(
        change["data"],
        json!({"entity":"todo","id":"a","op":"create","data":{"title":"x"}})
    );
    let time = change["time"].as_str().unwrap_or("");
    assert!(time.ends_with('Z') && time.len() >= 20, "{time}");
    let r = push_one(&server, "m2", "", "todo.delete", json!({"id":"a"}));
    assert_eq!(
        r["changes"][0]["data"],
        json!({"entity":"todo","id":"a","op":"delete"})
    );
}

#[test]
fn returns_library_error_texts_inside_http_200() {
    let server = start();
    push_one(
        &server,
        "m1",
        "s",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    let cases = [
        ("todo.create", json!({"id":"a","data":2}), "sync: conflict"),
        ("todo.update", json!({"id":"b","data":2}), "sync: not found"),
        ("todo.delete", json!({"id":"b"}), "sync: not found"),
        ("todo.archive", json!({"id":"a"}), "sync: invalid mutation"),
        ("todo.create", json!({"data":2}), "sync: invalid mutation"),
    ];
    for (i, (name, args, text)) in cases.into_iter().enumerate() {
        let r = push_one(&server, &format!("f{i}"), "s", name, args);
        assert_eq!(r, json!({"ok":false,"error":text}), "{name}");
    }
}

#[test]
fn applies_each_mutation_of_a_batch_even_after_a_failure() {
    let server = start();
    let body = json!({"mutations":[
        {"id":"m1","scope":"s","name":"todo.update","args":{"id":"a","data":1}},
        {"id":"m2","scope":"s","name":"todo.create","args":{"id":"a","data":1}}
    ]});
    let results = ok(&server, "/push", body)["results"].clone();
    assert_eq!(results[0]["ok"], false);
    assert_eq!(results[1]["ok"], true);
}

#[test]
fn dedupes_a_seen_mutation_id_per_scope() {
    let server = start();
    push_one(
        &server,
        "m1",
        "s",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    push_one(
        &server,
        "x",
        "other",
        "todo.create",
        json!({"id":"z","data":1}),
    );
    let again = push_one(
        &server,
        "m1",
        "s",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    assert_eq!(
        again,
        json!({"ok":true,"cursor":1}),
        "seen: current cursor, no changes"
    );
    let other_scope = push_one(
        &server,
        "m1",
        "t",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    assert_eq!(other_scope["ok"], true);
    assert_eq!(
        other_scope["cursor"], 3,
        "the same id in another scope is new"
    );
}

#[test]
fn does_not_mark_a_failed_mutation_seen() {
    let server = start();
    let first = push_one(
        &server,
        "u1",
        "s",
        "todo.update",
        json!({"id":"a","data":2}),
    );
    assert_eq!(first["error"], "sync: not found");
    push_one(
        &server,
        "c1",
        "s",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    let retry = push_one(
        &server,
        "u1",
        "s",
        "todo.update",
        json!({"id":"a","data":2}),
    );
    assert_eq!(retry["ok"], true, "the failed id runs again: {retry}");
    assert_eq!(retry["changes"][0]["data"]["op"], "update");
}

#[test]
fn shares_one_cursor_counter_across_scopes() {
    let server = start();
    push_one(&server, "1", "a", "n.create", json!({"id":"1","data":1}));
    push_one(&server, "2", "b", "n.create", json!({"id":"2","data":1}));
    push_one(&server, "3", "a", "n.create", json!({"id":"3","data":1}));
    let page = pull(&server, "a", 0, 0);
    let cursors: Vec<u64> = page["changes"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["cursor"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(cursors, vec![1, 3]);
    assert_eq!(page["next_cursor"], 3);
    let page = pull(&server, "a", 1, 0);
    assert_eq!(page["changes"][0]["cursor"], 3, "pull is exclusive");
    assert_eq!(pull(&server, "b", 0, 0)["next_cursor"], 2);
}

#[test]
fn pages_pulls_with_has_more_and_next_cursor() {
    let server = start();
    let mutations: Vec<_> = (0..5)
        .map(|i| json!({"id":format!("m{i}"),"name":"n.create","args":{"id":format!("{i}"),"data":i}}))
        .collect();
    ok(&server, "/push", json!({ "mutations": mutations }));
    let page = pull(&server, "", 0, 2);
    assert_eq!(page["changes"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["has_more"], true);
    assert_eq!(page["next_cursor"], 2);
    let page = pull(&server, "", 4, 2);
    assert_eq!(page["changes"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["has_more"], false);
    assert_eq!(page["next_cursor"], 5);
    let reply = post(&server, "/pull", r#"{"cursor":5}"#);
    assert_eq!(reply.body, "{\"changes\":null,\"has_more\":false}\n");
    let unknown = pull(&server, "never", 0, 0);
    assert_eq!(unknown, json!({"changes":null,"has_more":false}));
}

#[test]
fn defaults_and_caps_the_pull_limit() {
    let server = mizu_sync::server::Server::start(mizu_sync::server::ServerOptions {
        pull_limit: 3,
        ..Default::default()
    })
    .expect("starts");
    let mutations: Vec<_> = (0..5)
        .map(|i| json!({"id":format!("m{i}"),"name":"n.create","args":{"id":format!("{i}"),"data":i}}))
        .collect();
    ok(&server, "/push", json!({ "mutations": mutations }));
    for limit in [-1, 0, 50] {
        let page = pull(&server, "", 0, limit);
        assert_eq!(page["changes"].as_array().map(Vec::len), Some(3), "{limit}");
        assert_eq!(page["has_more"], true);
    }
}

#[test]
fn snapshots_collections_with_the_scope_cursor() {
    let server = start();
    push_one(
        &server,
        "1",
        "s",
        "todo.create",
        json!({"id":"a","data":{"t":1}}),
    );
    push_one(
        &server,
        "2",
        "s",
        "todo.create",
        json!({"id":"b","data":{"t":2}}),
    );
    push_one(
        &server,
        "3",
        "s",
        "note.create",
        json!({"id":"n","data":"x"}),
    );
    push_one(&server, "4", "s", "todo.delete", json!({"id":"a"}));
    push_one(
        &server,
        "5",
        "other",
        "todo.create",
        json!({"id":"z","data":0}),
    );
    let snap = ok(&server, "/snapshot", json!({"scope":"s"}));
    assert_eq!(
        snap,
        json!({"data":{"note":{"n":"x"},"todo":{"b":{"t":2}}},"cursor":4})
    );
    assert_eq!(
        ok(&server, "/snapshot", json!({})),
        json!({"data":{},"cursor":0})
    );
}

#[test]
fn runs_a_custom_apply_function_for_app_defined_names() {
    use mizu_sync::server::{convention_apply, ApplyFn, Server, ServerOptions};
    use std::sync::Arc;
    let apply: ApplyFn = Arc::new(|m, state| match m.name.as_str() {
        "counter.bump" => {
            let n = state
                .get("counter", "c")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            state.insert("counter", "c", json!(n));
            Ok(vec![json!({"bumped":n})])
        }
        "counter.fail_after_write" => {
            state.insert("counter", "c", json!(-1));
            Err("app: nope".to_owned())
        }
        _ => convention_apply(m, state),
    });
    let server = Server::start(ServerOptions {
        apply: Some(apply),
        ..ServerOptions::default()
    })
    .expect("starts");
    push_one(&server, "1", "", "counter.bump", Value::Null);
    let failed = push_one(&server, "2", "", "counter.fail_after_write", Value::Null);
    assert_eq!(failed, json!({"ok":false,"error":"app: nope"}));
    let r = push_one(&server, "3", "", "counter.bump", Value::Null);
    assert_eq!(r["changes"][0]["data"], json!({"bumped":2}));
    let snap = ok(&server, "/snapshot", json!({}));
    assert_eq!(
        snap["data"],
        json!({"counter":{"c":2}}),
        "the failed write was undone"
    );
}

#[test]
fn streams_a_large_snapshot_in_chunks_and_sends_a_small_one_with_its_length() {
    let server = start();
    let request = "POST /_sync/snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\
                   Connection: close\r\n\r\n{}";
    let small = raw(server.addr(), request.as_bytes());
    assert!(small.contains("\r\nContent-Length: 23\r\n"), "{small}");
    // 200 entities of 1 KiB each: about 200 KiB of JSON, more than one 64 KiB chunk.
    let text = "x".repeat(1024);
    for batch in 0..2 {
        let mutations: Vec<Value> = (0..100)
            .map(|i| {
                let id = format!("t{batch}-{i}");
                json!({"id":id,"name":"todo.create","args":{"id":id,"data":text}})
            })
            .collect();
        ok(&server, "/push", json!({ "mutations": mutations }));
    }
    let large = raw(server.addr(), request.as_bytes());
    let head = large.split("\r\n\r\n").next().unwrap_or_default();
    assert!(head.contains("\r\nTransfer-Encoding: chunked"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    let snap = ok(&server, "/snapshot", json!({}));
    assert_eq!(snap["cursor"], 200);
    let todos = snap["data"]["todo"].as_object().expect("todo collection");
    assert_eq!(todos.len(), 200);
    assert!(todos.values().all(|v| v.as_str() == Some(text.as_str())));
}
