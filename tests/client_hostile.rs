//! A malformed or hostile server never panics the client or hangs a caller: every bad answer
//! becomes a typed error from `sync()`, and the app keeps working locally.

mod client_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use client_support::{todo, Todo};
use mizu_sync::{Client, Error, Options};

/// A server that answers every request with `reply` (raw bytes after reading the request
/// head and body), or never answers when `reply` is `None`.
fn hostile(reply: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = stream.read(&mut buf);
                match reply {
                    Some(reply) => {
                        let _ = stream.write_all(reply.as_bytes());
                    }
                    None => thread::sleep(Duration::from_secs(30)),
                }
            });
        }
    });
    format!("http://{addr}/_sync")
}

fn json_reply(body: &str) -> &'static str {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Box::leak(reply.into_boxed_str())
}

fn sync_against(reply: Option<&'static str>) -> Error {
    let client = Client::new(
        Options::new(hostile(reply))
            .request_timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(10), Duration::from_millis(50)),
    )
    .unwrap();
    client.start().unwrap();
    let todos = client.collection::<Todo>("todo");
    todos.create("local", todo("still works")).unwrap();
    let started = Instant::now();
    let err = client
        .sync()
        .expect_err("a hostile server cannot make sync succeed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "sync returned in bounded time"
    );
    assert_eq!(
        todos.get("local").get(),
        Some(todo("still works")),
        "local state is intact"
    );
    err
}

#[test]
fn a_body_that_is_not_json_is_a_malformed_response() {
    let err = sync_against(Some(json_reply("<html>proxy login</html>")));
    assert!(matches!(err, Error::MalformedResponse(_)), "{err:?}");
}

#[test]
fn json_of_the_wrong_types_is_a_malformed_response() {
    let err = sync_against(Some(json_reply(
        r#"{"results":"yes","data":5,"cursor":"seven"}"#,
    )));
    assert!(matches!(err, Error::MalformedResponse(_)), "{err:?}");
}

#[test]
fn a_truncated_body_is_an_error_not_a_hang() {
    let reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{\"results\":[";
    let err = sync_against(Some(reply));
    assert!(
        matches!(
            err,
            Error::Network(_) | Error::MalformedResponse(_) | Error::Timeout
        ),
        "{err:?}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let err = sync_against(None);
    assert_eq!(err, Error::Timeout);
}

#[test]
fn a_server_error_is_reported_with_its_status() {
    let reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 47\r\nConnection: close\r\n\r\n{\"code\":\"internal_error\",\"error\":\"overloaded\"}\n";
    let err = sync_against(Some(reply));
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
}

#[test]
fn a_snapshot_in_an_unexpected_shape_is_a_codec_error() {
    // Push answers must match the batch; this server answers every request with a snapshot-like
    // body, so the push is a protocol violation first. Either way: a typed error, no panic.
    let err = sync_against(Some(json_reply(
        r#"{"data":{"todo":5},"cursor":3,"results":[]}"#,
    )));
    assert!(
        matches!(err, Error::Codec(_) | Error::MalformedResponse(_)),
        "{err:?}"
    );
}
