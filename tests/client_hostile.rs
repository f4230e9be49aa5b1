//! A malformed or hostile server never panics the client or hangs a caller: every bad answer
//! becomes a typed error from `sync()`, and the app keeps working locally.

mod client_support;

use std::time::{Duration, Instant};

use client_support::{todo, Todo};
use mizu_sync::{Client, Error, Options};
use mizu_test_support::http_server::{Answer, HttpServer};

/// Syncs (after a local write) against a server that answers every request with `answer()`;
/// returns the error, having checked that it came in bounded time and the local state is intact.
fn sync_against(answer: fn() -> Answer) -> Error {
    let server = HttpServer::start(move |_| answer());
    let client = Client::new(
        Options::new(server.url("/_sync"))
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
    let err = sync_against(|| Answer::json(200, "<html>proxy login</html>"));
    assert!(matches!(err, Error::MalformedResponse(_)), "{err:?}");
}

#[test]
fn json_of_the_wrong_types_is_a_malformed_response() {
    let err = sync_against(|| Answer::json(200, r#"{"results":"yes","data":5,"cursor":"seven"}"#));
    assert!(matches!(err, Error::MalformedResponse(_)), "{err:?}");
}

#[test]
fn a_truncated_body_is_an_error_not_a_hang() {
    let err = sync_against(|| Answer::Truncated {
        declared: 400,
        body: r#"{"results":["#.into(),
    });
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
    let err = sync_against(|| Answer::Silent);
    assert_eq!(err, Error::Timeout);
}

#[test]
fn a_server_error_is_reported_with_its_status() {
    let err =
        sync_against(|| Answer::json(503, r#"{"code":"internal_error","error":"overloaded"}"#));
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
}

#[test]
fn a_snapshot_in_an_unexpected_shape_is_a_codec_error() {
    // Push answers must match the batch; this server answers every request with a snapshot-like
    // body, so the push is a protocol violation first. Either way: a typed error, no panic.
    let err = sync_against(|| Answer::json(200, r#"{"data":{"todo":5},"cursor":3,"results":[]}"#));
    assert!(
        matches!(err, Error::Codec(_) | Error::MalformedResponse(_)),
        "{err:?}"
    );
}
