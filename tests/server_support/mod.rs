//! Helpers shared by the reference-server tests: an HTTP client that returns every status,
//! raw TCP requests, and a WebSocket client with bounded waits.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use mizu_sync::server::{Server, ServerHandle, ServerOptions};
use serde_json::Value;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Longest any test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

/// A status, the `Content-Type` and the body text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

/// A started in-memory server with the admin API.
pub fn start() -> ServerHandle {
    Server::start(ServerOptions {
        admin: true,
        ..ServerOptions::default()
    })
    .expect("server starts")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build(),
    )
}

/// Sends `body` with `method` to `url`.
pub fn send(method: &str, url: &str, body: &str) -> Reply {
    let agent = agent();
    let response = match method {
        "POST" => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        "GET" => agent.get(url).call(),
        "PUT" => agent.put(url).send(body),
        other => panic!("no {other}"),
    }
    .expect("request completes");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.into_body().read_to_string().expect("body reads");
    Reply {
        status,
        content_type,
        body,
    }
}

/// POSTs `body` to `{base}{path}` of `server`.
pub fn post(server: &ServerHandle, path: &str, body: &str) -> Reply {
    send("POST", &format!("{}{path}", server.base_url()), body)
}

/// POSTs JSON to a sync path and expects 200; returns the JSON body.
pub fn ok(server: &ServerHandle, path: &str, body: Value) -> Value {
    let reply = post(server, path, &body.to_string());
    assert_eq!(reply.status, 200, "{path} {body}: {}", reply.body);
    reply.json()
}

/// POSTs JSON to an admin path.
pub fn admin(server: &ServerHandle, path: &str, body: Value) -> Reply {
    send(
        "POST",
        &format!("http://{}/_admin/{path}", server.addr()),
        &body.to_string(),
    )
}

/// Pushes one convention mutation and returns its result.
pub fn push_one(server: &ServerHandle, id: &str, scope: &str, name: &str, args: Value) -> Value {
    let body = serde_json::json!({"mutations":[{"id":id,"scope":scope,"name":name,"args":args}]});
    ok(server, "/push", body)["results"][0].clone()
}

/// Writes raw bytes on a new connection and reads until the server closes it or `WAIT` ends.
pub fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(request).expect("writes");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens a live session on `url` with reads bounded by `WAIT`.
pub fn ws_connect(url: &str) -> Ws {
    let (ws, _) = tungstenite::connect(url).expect("live handshake");
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(WAIT)).expect("timeout");
    }
    ws
}

/// Reads the next text message as JSON (answering nothing, skipping nothing else).
pub fn ws_next(ws: &mut Ws) -> Message {
    ws.read().expect("live message")
}

#[allow(unused_imports)] // not every suite waits
pub use mizu_test_support::wait_until;
