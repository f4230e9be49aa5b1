#![cfg(feature = "server")]
//! The live WebSocket of the reference server, shaped like mizu's `live` package.

mod server_support;

use std::io::Write;

use serde_json::{json, Value};
use server_support::*;
use tungstenite::Message;

fn subscribe(ws: &mut Ws) {
    ws.send(Message::text(r#"{"topic":"subscribe","data":{}}"#))
        .expect("subscribe sends");
}

fn next_json(ws: &mut Ws) -> Value {
    match ws_next(ws) {
        Message::Text(text) => serde_json::from_str(text.as_str()).expect("json message"),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn publishes_the_scope_cursor_to_subscribed_sessions_after_a_push() {
    let server = start();
    let mut ws = ws_connect(&server.ws_url("s"));
    subscribe(&mut ws);
    wait_until("subscription", || server.live_subscribers("s") == 1);
    push_one(
        &server,
        "x",
        "other",
        "todo.create",
        json!({"id":"x","data":1}),
    );
    push_one(
        &server,
        "m1",
        "s",
        "todo.create",
        json!({"id":"a","data":1}),
    );
    assert_eq!(
        next_json(&mut ws),
        json!({"topic":"sync:s","data":{"cursor":2}})
    );
}

#[test]
fn publishes_once_per_push_with_the_newest_cursor() {
    let server = start();
    let mut ws = ws_connect(&server.ws_url("s"));
    subscribe(&mut ws);
    wait_until("subscription", || server.live_subscribers("s") == 1);
    let body = json!({"mutations":[
        {"id":"1","scope":"s","name":"todo.create","args":{"id":"a","data":1}},
        {"id":"2","scope":"s","name":"todo.create","args":{"id":"b","data":1}}
    ]});
    ok(&server, "/push", body);
    // A failed push publishes nothing; the next message is the later push's cursor.
    push_one(
        &server,
        "3",
        "s",
        "todo.update",
        json!({"id":"zz","data":1}),
    );
    push_one(&server, "4", "s", "todo.create", json!({"id":"c","data":1}));
    assert_eq!(next_json(&mut ws)["data"], json!({"cursor":2}));
    assert_eq!(next_json(&mut ws)["data"], json!({"cursor":3}));
}

#[test]
fn sends_nothing_before_the_subscribe_message() {
    let server = start();
    let mut ws = ws_connect(&server.ws_url(""));
    push_one(&server, "1", "", "todo.create", json!({"id":"a","data":1}));
    subscribe(&mut ws);
    wait_until("subscription", || server.live_subscribers("_default") == 1);
    push_one(&server, "2", "", "todo.create", json!({"id":"b","data":1}));
    assert_eq!(
        next_json(&mut ws),
        json!({"topic":"sync:_default","data":{"cursor":2}}),
        "the first push was published before the subscription"
    );
}

#[test]
fn answers_pings_and_skips_invalid_messages() {
    let server = start();
    let mut ws = ws_connect(&server.ws_url("s"));
    ws.send(Message::text("not json")).expect("sends");
    ws.send(Message::Ping(b"hi".to_vec().into()))
        .expect("pings");
    match ws_next(&mut ws) {
        Message::Pong(payload) => assert_eq!(&payload[..], b"hi"),
        other => panic!("expected pong, got {other:?}"),
    }
}

#[test]
fn closes_a_session_that_sends_a_fragmented_message() {
    let server = start();
    let mut ws = ws_connect(&server.ws_url("s"));
    subscribe(&mut ws);
    wait_until("subscription", || server.live_subscribers("s") == 1);
    // A masked text frame without FIN: fragmentation is a protocol error for mizu.
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = ws.get_mut() {
        stream
            .write_all(&[0x01, 0x81, 1, 2, 3, 4, b'x' ^ 1])
            .expect("writes");
    }
    wait_until("session end", || server.live_subscribers("s") == 0);
}

#[test]
fn rejects_bad_handshakes_with_mizus_statuses() {
    let server = start();
    let plain = send("GET", &format!("http://{}/ws?scope=s", server.addr()), "");
    assert_eq!(plain.status, 400);
    assert_eq!(plain.body, "websocket upgrade required\n");
    let request = "GET /ws?scope=s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                   Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nConnection: close\r\n\r\n";
    let reply = raw(server.addr(), request.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 426 "), "{reply}");
    // Header names are case-insensitive; Go (and hyper's title case) write `Sec-Websocket-Version`.
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("\r\nsec-websocket-version: 13\r\n"),
        "{reply}"
    );
    let request = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                   Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: short\r\n\r\n";
    let reply = raw(
        server.addr(),
        request
            .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    assert!(reply.ends_with("invalid Sec-WebSocket-Key\n"), "{reply}");
    let post = send("POST", &format!("http://{}/ws", server.addr()), "{}");
    assert_eq!(post.status, 405);
}

#[test]
fn denies_the_handshake_when_the_scope_hook_fails() {
    use mizu_sync::server::{ScopeFn, Server, ServerOptions};
    use std::sync::Arc;
    let scope: ScopeFn = Arc::new(|req| {
        if req.claimed == "mine" {
            Ok("mine".into())
        } else {
            Err("no".into())
        }
    });
    let server = Server::start(ServerOptions {
        scope: Some(scope),
        ..ServerOptions::default()
    })
    .expect("starts");
    match tungstenite::connect(server.ws_url("theirs")) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let _ok = ws_connect(&server.ws_url("mine"));
}

#[test]
fn shutdown_ends_live_sessions() {
    let mut server = start();
    let mut ws = ws_connect(&server.ws_url("s"));
    subscribe(&mut ws);
    wait_until("subscription", || server.live_subscribers("s") == 1);
    server.shutdown();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => continue,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
}
