#![cfg(feature = "server")]
//! Trim, reject rules, scope denial and simulated outages of the reference server.

mod server_support;

use std::sync::Arc;

use mizu_sync::server::{RejectRule, ScopeFn, Server, ServerOptions};
use serde_json::json;
use server_support::*;

fn create(server: &mizu_sync::server::ServerHandle, id: &str, scope: &str) {
    let r = push_one(server, id, scope, "todo.create", json!({"id":id,"data":1}));
    assert_eq!(r["ok"], true, "{r}");
}

#[test]
fn trim_makes_older_cursors_too_old_but_not_cursor_zero() {
    let server = start();
    create(&server, "a", "s"); // 1
    create(&server, "x", "other"); // 2
    create(&server, "b", "s"); // 3
    create(&server, "c", "s"); // 4
    let reply = admin(&server, "trim", json!({"scope":"s"}));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"cursor":4}));
    for cursor in [1, 2, 3] {
        let reply = post(
            &server,
            "/pull",
            &json!({"scope":"s","cursor":cursor}).to_string(),
        );
        assert_eq!(reply.status, 410, "cursor {cursor}");
        assert_eq!(
            reply.body,
            "{\"code\":\"cursor_too_old\",\"error\":\"sync: cursor too old\"}\n"
        );
    }
    let from_zero = ok(&server, "/pull", json!({"scope":"s","cursor":0}));
    assert_eq!(from_zero["next_cursor"], 4, "only the head is retained");
    let from_head = ok(&server, "/pull", json!({"scope":"s","cursor":4}));
    assert_eq!(from_head["changes"], json!(null));
    let other = ok(&server, "/pull", json!({"scope":"other","cursor":1}));
    assert_eq!(other["next_cursor"], 2, "other scopes are untouched");
}

#[test]
fn trims_the_default_scope_from_the_embedded_handle() {
    let server = start();
    create(&server, "a", "");
    create(&server, "b", "");
    assert_eq!(server.trim("").expect("trims"), 2);
    assert_eq!(post(&server, "/pull", r#"{"cursor":1}"#).status, 410);
}

#[test]
fn reject_rules_fail_matching_mutations_until_cleared() {
    let server = start();
    let reply = admin(
        &server,
        "reject",
        json!({"name":"todo.create","arg_contains":"\"bad\"","error":"app: rejected"}),
    );
    assert_eq!((reply.status, reply.json()), (200, json!({})));
    let r = push_one(
        &server,
        "m1",
        "",
        "todo.create",
        json!({"id":"bad","data":1}),
    );
    assert_eq!(r, json!({"ok":false,"error":"app: rejected"}));
    create(&server, "good", "");
    let r = push_one(
        &server,
        "m2",
        "",
        "todo.update",
        json!({"id":"good","data":"bad"}),
    );
    assert_eq!(r["ok"], true, "another name does not match");
    assert_eq!(admin(&server, "reject", json!({"clear":true})).status, 200);
    let r = push_one(
        &server,
        "m1",
        "",
        "todo.create",
        json!({"id":"bad","data":1}),
    );
    assert_eq!(r["ok"], true, "the rejected id was not marked seen");
}

#[test]
fn embedded_reject_rules_match_any_name_when_none_is_given() {
    let server = start();
    server.add_reject_rule(RejectRule {
        name: None,
        arg_contains: None,
        error: "down for maintenance".into(),
    });
    let r = push_one(&server, "m1", "", "todo.create", json!({"id":"a","data":1}));
    assert_eq!(r["error"], "down for maintenance");
    server.clear_reject_rules();
    create(&server, "a", "");
}

#[test]
fn admin_api_is_absent_unless_enabled() {
    let server = Server::start(ServerOptions::default()).expect("starts");
    let reply = admin(&server, "trim", json!({}));
    assert_eq!(reply.status, 404);
    let server = start();
    assert_eq!(admin(&server, "trim", json!({"bogus":1})).status, 400);
    assert_eq!(admin(&server, "reject", json!({"name":"x"})).status, 400);
}

#[test]
fn scope_hook_denial_gives_403_internal_error() {
    let scope: ScopeFn = Arc::new(|req| match req.header("authorization") {
        Some("Bearer alice") if req.claimed == "alice" || req.claimed == "_default" => {
            Ok("alice".to_owned())
        }
        _ => Err(format!("forbidden scope {}", req.claimed)),
    });
    let server = Server::start(ServerOptions {
        scope: Some(scope),
        ..ServerOptions::default()
    })
    .expect("starts");
    let denied = [
        (
            "/push",
            r#"{"mutations":[{"id":"m","scope":"bob","name":"x.create"}]}"#,
        ),
        ("/pull", r#"{"scope":"bob"}"#),
        ("/snapshot", r#"{"scope":"bob"}"#),
    ];
    for (path, body) in denied {
        let reply = post(&server, path, body);
        assert_eq!(reply.status, 403, "{path}");
        assert_eq!(
            reply.json(),
            json!({"code":"internal_error","error":"forbidden scope bob"})
        );
    }
    let url = format!("{}/push", server.base_url());
    let response = agent()
        .post(&url)
        .header("Authorization", "Bearer alice")
        .send(r#"{"mutations":[{"id":"m","name":"todo.create","args":{"id":"a","data":1}}]}"#)
        .expect("push");
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().read_to_string().expect("body");
    assert!(
        body.contains("\"scope\":\"alice\""),
        "the hook's scope wins: {body}"
    );
}

#[test]
fn an_outage_answers_503_and_recovers() {
    let server = start();
    create(&server, "a", "");
    server.set_unavailable(true);
    let reply = post(&server, "/pull", "{}");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["code"], "internal_error");
    assert_eq!(
        admin(&server, "trim", json!({})).status,
        200,
        "admin still works"
    );
    server.set_unavailable(false);
    let page = ok(&server, "/pull", json!({"cursor":0}));
    assert_eq!(page["next_cursor"], 1);
}
