#![cfg(feature = "server")]
//! Request decoding and HTTP shape of the reference server, as mizu's `sync/http` does it.

mod server_support;

use serde_json::json;
use server_support::*;

const INVALID_BODY: &str = r#"{"code":"invalid_mutation","error":"invalid request body"}"#;

fn assert_invalid_body(reply: &Reply) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body, format!("{INVALID_BODY}\n"));
}

#[test]
fn rejects_the_whole_batch_when_one_mutation_has_an_unknown_field() {
    let server = start();
    let body = json!({"mutations":[
        {"id":"m1","name":"todo.create","args":{"id":"a","data":1}},
        {"id":"m2","name":"todo.create","args":{"id":"b","data":2},"client":"c1"}
    ]});
    assert_invalid_body(&post(&server, "/push", &body.to_string()));
    let snap = ok(&server, "/snapshot", json!({}));
    assert_eq!(snap, json!({"data":{},"cursor":0}), "nothing was applied");
}

#[test]
fn rejects_unknown_fields_trailing_data_and_empty_bodies_on_every_endpoint() {
    let server = start();
    for path in ["/push", "/pull", "/snapshot"] {
        assert_invalid_body(&post(&server, path, r#"{"bogus":1}"#));
        assert_invalid_body(&post(&server, path, ""));
        assert_invalid_body(&post(&server, path, "  \n"));
        assert_invalid_body(&post(&server, path, "{} {}"));
        assert_invalid_body(&post(&server, path, "{}x"));
        assert_invalid_body(&post(&server, path, "[]"));
    }
    assert_invalid_body(&post(&server, "/pull", r#"{"cursor":-1}"#));
    assert_invalid_body(&post(&server, "/pull", r#"{"cursor":"1"}"#));
    assert_invalid_body(&post(&server, "/push", r#"{"mutations":[["m","s","n"]]}"#));
}

#[test]
fn accepts_trailing_whitespace_and_null_like_go() {
    let server = start();
    let reply = post(&server, "/pull", "{\"cursor\":0}\n\t ");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = post(
        &server,
        "/pull",
        r#"{"scope":null,"cursor":null,"limit":null}"#,
    );
    assert_eq!(reply.json(), json!({"changes":null,"has_more":false}));
    let reply = post(&server, "/push", r#"{"mutations":null}"#);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "no mutations provided");
}

#[test]
fn answers_with_json_followed_by_a_newline() {
    let server = start();
    let reply = post(&server, "/snapshot", "{}");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/json; charset=utf-8");
    assert_eq!(reply.body, "{\"data\":{},\"cursor\":0}\n");
}

#[test]
fn enforces_the_push_batch_limits() {
    let server = start();
    let reply = post(&server, "/push", r#"{"mutations":[]}"#);
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        "{\"code\":\"invalid_mutation\",\"error\":\"no mutations provided\"}\n"
    );
    let batch = |n: usize| {
        let mutations: Vec<_> = (0..n)
            .map(|i| json!({"id":format!("m{i}"),"name":"todo.create","args":{"id":format!("t{i}"),"data":i}}))
            .collect();
        json!({ "mutations": mutations }).to_string()
    };
    let reply = post(&server, "/push", &batch(101));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "too many mutations in batch");
    let reply = post(&server, "/push", &batch(100));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["results"].as_array().map(Vec::len), Some(100));
}

#[test]
fn rejects_bodies_over_the_limits_as_invalid() {
    let server = start();
    // 64 KiB + 1 on pull: the JSON is valid, only its size is wrong.
    let pad = " ".repeat((1 << 16) - 2);
    let reply = post(&server, "/pull", &format!("{{{pad}}}"));
    assert_eq!(reply.status, 200, "exactly 64 KiB is accepted");
    let reply = post(&server, "/pull", &format!("{{{pad} }}"));
    assert_invalid_body(&reply);
    let pad = " ".repeat(1 << 20);
    let body =
        format!(r#"{{"mutations":[{{"id":"m","name":"todo.delete","args":{{"id":"a"}}}}]{pad}}}"#);
    assert_invalid_body(&post(&server, "/push", &body));
}

#[test]
fn answers_wrong_paths_and_methods_in_plain_text() {
    let server = start();
    let reply = post(&server, "/nope", "{}");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, "404 page not found\n");
    assert_eq!(reply.content_type, "text/plain; charset=utf-8");
    let reply = send("GET", &format!("{}/pull", server.base_url()), "");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.body, "Method Not Allowed\n");
    let raw_reply = raw(
        server.addr(),
        b"GET /_sync/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(raw_reply.contains("\r\nAllow: POST\r\n"), "{raw_reply}");
    let reply = send(
        "POST",
        &format!("http://{}/_sync/push/", server.addr()),
        "{}",
    );
    assert_eq!(reply.status, 404);
}

#[test]
fn reads_chunked_bodies_and_serves_keep_alive_requests_in_order() {
    let server = start();
    let body = r#"{"cursor":0}"#;
    let request = format!(
        "POST /_sync/pull HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n\
         POST /_sync/snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        body.len()
    );
    let reply = raw(server.addr(), request.as_bytes());
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");
    assert!(
        reply.contains("{\"changes\":null,\"has_more\":false}\n"),
        "{reply}"
    );
    assert!(reply.ends_with("{\"data\":{},\"cursor\":0}\n"), "{reply}");
}

#[test]
fn rejects_oversized_headers_and_garbage() {
    let server = start();
    let big = format!(
        "POST /_sync/pull HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let reply = raw(server.addr(), big.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
    let reply = raw(server.addr(), b"HELLO\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
}
