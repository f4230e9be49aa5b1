use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::client::auth::RotatingToken;
use crate::protocol::wire::{Mutation, PullRequest, SnapshotRequest};
use crate::store::PendingMutation;
use mizu_test_support::http_server::{Answer, HttpServer};

const PULL_OK: &str = r#"{"changes":[{"cursor":5,"scope":"s","time":"2026-01-01T00:00:00.000000001Z","data":{"entity":"todo","id":"a","op":"create","data":{"t":1}}}],"has_more":true,"next_cursor":5,"extra":1}"#;

fn transport(url: String) -> HttpTransport {
    transport_with(HttpConfig::new(url))
}

fn transport_with(cfg: HttpConfig) -> HttpTransport {
    HttpTransport::new(cfg).expect("valid config")
}

fn pull_from(cursor: u64) -> PullRequest {
    PullRequest {
        scope: String::new(),
        cursor,
        limit: None,
    }
}

/// Runs `f` on another thread and fails the test if it has not returned within 10 s.
fn within_ten_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the request returned")
}

struct BrokenProvider;

impl AuthProvider for BrokenProvider {
    fn token(&self, _refresh: bool) -> Result<Option<String>, String> {
        Err("refresh token expired".into())
    }
}

#[test]
fn decodes_a_successful_pull_and_posts_json_to_the_pull_path() {
    let server = HttpServer::start(|_| Answer::json(200, PULL_OK));
    let response = transport(server.url("/_sync")).pull(&pull_from(4)).unwrap();
    assert!(response.has_more);
    assert_eq!(response.next_cursor, Some(5));
    let changes = response.changes.unwrap();
    assert_eq!(changes[0].cursor, 5);
    assert_eq!(
        changes[0].to_change().unwrap().data,
        Some(json!({"entity":"todo","id":"a","op":"create","data":{"t":1}}))
    );
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/_sync/pull");
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[test]
fn joins_endpoint_paths_to_a_base_url_with_trailing_slashes() {
    let server = HttpServer::start(|r| match r.path.as_str() {
        "/_sync/snapshot" => Answer::json(200, r#"{"data":{},"cursor":3}"#),
        "/_sync/push" => Answer::json(200, r#"{"results":[]}"#),
        _ => Answer::text(404, "404 page not found"),
    });
    let http = transport(server.url("/_sync//"));
    http.snapshot(&SnapshotRequest {
        scope: String::new(),
    })
    .unwrap();
    http.push(&[]).unwrap();
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/_sync/snapshot", "/_sync/push"]);
}

#[test]
fn sends_exactly_the_allowed_keys_in_every_request_body() {
    let server = HttpServer::start(|r| match r.path.as_str() {
        "/push" => Answer::json(200, r#"{"results":[{"ok":true,"cursor":1}]}"#),
        "/pull" => Answer::json(200, r#"{"changes":null,"has_more":false}"#),
        _ => Answer::json(200, r#"{"data":null,"cursor":0}"#),
    });
    let http = transport(server.url(""));
    let mutation = Mutation {
        id: "m1".into(),
        scope: String::new(),
        name: "todo.create".into(),
        args: Some(json!({"id":"a","data":{"t":1}})),
    };
    let pushed = http
        .push(&[PendingMutation::encode(&mutation).unwrap()])
        .unwrap();
    assert!(pushed.results[0].ok);
    let pulled = http
        .pull(&PullRequest {
            scope: "s".into(),
            cursor: 7,
            limit: Some(50),
        })
        .unwrap();
    assert_eq!(pulled.changes, None);
    http.snapshot(&SnapshotRequest {
        scope: String::new(),
    })
    .unwrap();
    let bodies: Vec<_> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(
        bodies,
        [
            json!({"mutations":[{"id":"m1","name":"todo.create","args":{"id":"a","data":{"t":1}}}]}),
            json!({"scope":"s","cursor":7,"limit":50}),
            json!({}),
        ]
    );
}

#[test]
fn reports_the_code_and_message_of_a_json_error_body() {
    let server = HttpServer::start(|_| {
        Answer::json(
            410,
            r#"{"code":"cursor_too_old","error":"cursor is too old"}"#,
        )
    });
    let failure = transport(server.url("/_sync"))
        .pull(&pull_from(1))
        .unwrap_err();
    assert_eq!(
        failure,
        TransportFailure::Http {
            status: 410,
            code: Some("cursor_too_old".into()),
            message: "cursor is too old".into(),
        }
    );
}

#[test]
fn reports_the_text_of_a_plain_text_error() {
    let server = HttpServer::start(|_| Answer::text(404, "404 page not found\n"));
    let failure = transport(server.url("/_sync"))
        .pull(&pull_from(1))
        .unwrap_err();
    assert_eq!(
        failure,
        TransportFailure::Http {
            status: 404,
            code: None,
            message: "404 page not found".into()
        }
    );
}

#[test]
fn truncates_a_long_error_text() {
    let server = HttpServer::start(|_| Answer::text(502, &"é".repeat(100_000)));
    let failure = transport(server.url("")).pull(&pull_from(1)).unwrap_err();
    let TransportFailure::Http {
        status: 502,
        message,
        ..
    } = failure
    else {
        panic!("expected a 502, got {failure:?}");
    };
    assert!(
        message.chars().count() <= MAX_ERROR_MESSAGE_CHARS + 1,
        "{}",
        message.len()
    );
}

#[test]
fn fails_to_decode_a_success_body_that_is_not_json() {
    let server = HttpServer::start(|_| Answer::text(200, "<html>proxy login</html>"));
    let failure = transport(server.url("")).pull(&pull_from(1)).unwrap_err();
    assert!(
        matches!(failure, TransportFailure::Decode(_)),
        "{failure:?}"
    );
}

#[test]
fn fails_to_decode_a_success_body_with_wrong_types() {
    let server = HttpServer::start(|_| Answer::json(200, r#"{"data":{},"cursor":"seven"}"#));
    let failure = transport(server.url("")).snapshot(&SnapshotRequest {
        scope: String::new(),
    });
    assert!(
        matches!(failure, Err(TransportFailure::Decode(_))),
        "{failure:?}"
    );
}

#[test]
fn fails_to_decode_a_success_body_with_trailing_garbage() {
    let server = HttpServer::start(|_| Answer::json(200, r#"{"data":{},"cursor":1} {}"#));
    let failure = transport(server.url("")).snapshot(&SnapshotRequest {
        scope: String::new(),
    });
    assert!(
        matches!(failure, Err(TransportFailure::Decode(_))),
        "{failure:?}"
    );
}

#[test]
fn fails_to_decode_a_success_body_larger_than_the_limit() {
    let big = format!(r#"{{"data":"{}","cursor":1}}"#, "x".repeat(4096));
    let server = HttpServer::start(move |_| Answer::json(200, &big));
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.max_response_bytes = 1024;
    let failure = transport_with(cfg).snapshot(&SnapshotRequest {
        scope: String::new(),
    });
    assert!(
        matches!(failure, Err(TransportFailure::Decode(_))),
        "{failure:?}"
    );
}

#[test]
fn fails_without_hanging_on_a_truncated_body() {
    let server = HttpServer::start(|_| Answer::Truncated {
        declared: 500,
        body: r#"{"changes":null,"#.into(),
    });
    let http = transport(server.url(""));
    let failure = within_ten_seconds(move || http.pull(&pull_from(1))).unwrap_err();
    assert!(
        matches!(
            failure,
            TransportFailure::Network(_) | TransportFailure::Decode(_)
        ),
        "{failure:?}"
    );
}

#[test]
fn times_out_when_the_server_never_answers() {
    let server = HttpServer::start(|_| Answer::Silent);
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.request_timeout = Duration::from_millis(300);
    let http = transport_with(cfg);
    let failure = within_ten_seconds(move || http.pull(&pull_from(1))).unwrap_err();
    assert_eq!(failure, TransportFailure::Timeout);
}

#[test]
fn times_out_when_the_server_stalls_after_the_headers() {
    let server = HttpServer::start(|_| Answer::HeadersThenStall);
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.request_timeout = Duration::from_millis(300);
    let http = transport_with(cfg);
    let failure = within_ten_seconds(move || http.pull(&pull_from(1))).unwrap_err();
    assert_eq!(failure, TransportFailure::Timeout);
}

#[test]
fn reports_a_refused_connection_as_unreachable_since_nothing_was_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let failure = transport(format!("http://{addr}/_sync"))
        .pull(&pull_from(1))
        .unwrap_err();
    assert!(
        matches!(failure, TransportFailure::Unreachable(_)),
        "{failure:?}"
    );
}

#[test]
fn reports_a_host_that_does_not_resolve_as_unreachable() {
    let failure = transport("http://mizu-sync-no-such-host.invalid/_sync".to_owned())
        .pull(&pull_from(1))
        .unwrap_err();
    assert!(
        matches!(failure, TransportFailure::Unreachable(_)),
        "{failure:?}"
    );
}

#[test]
fn sends_the_extra_headers_and_the_bearer_token_with_every_request() {
    let server = HttpServer::start(|_| Answer::json(200, r#"{"changes":null,"has_more":false}"#));
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.headers = vec![
        ("X-App".into(), "todo".into()),
        ("x-tenant".into(), "t1".into()),
    ];
    let provider = Arc::new(RotatingToken::default());
    cfg.auth = Some(provider.clone());
    let http = transport_with(cfg);
    http.pull(&pull_from(1)).unwrap();
    http.pull(&pull_from(2)).unwrap();
    for request in server.requests() {
        assert_eq!(request.header("x-app"), Some("todo"));
        assert_eq!(request.header("x-tenant"), Some("t1"));
        assert_eq!(request.header("authorization"), Some("Bearer stale"));
    }
    assert_eq!(*provider.calls.lock().unwrap(), [false, false]);
}

#[test]
fn refreshes_the_token_and_retries_once_after_a_401() {
    let server = HttpServer::start(|r| match r.header("authorization") {
        Some("Bearer fresh") => Answer::json(200, r#"{"changes":null,"has_more":false}"#),
        _ => Answer::json(401, r#"{"code":"internal_error","error":"unauthorized"}"#),
    });
    let mut cfg = HttpConfig::new(server.url(""));
    let provider = Arc::new(RotatingToken::default());
    cfg.auth = Some(provider.clone());
    transport_with(cfg).pull(&pull_from(1)).unwrap();
    assert_eq!(*provider.calls.lock().unwrap(), [false, true]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn gives_up_after_one_retry_when_the_refreshed_token_is_refused_too() {
    let server = HttpServer::start(|_| {
        Answer::json(403, r#"{"code":"internal_error","error":"scope denied"}"#)
    });
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.auth = Some(Arc::new(RotatingToken::default()));
    let failure = transport_with(cfg).pull(&pull_from(1)).unwrap_err();
    assert!(
        matches!(failure, TransportFailure::Http { status: 403, .. }),
        "{failure:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn does_not_retry_a_401_without_an_auth_provider() {
    let server = HttpServer::start(|_| Answer::text(401, "no"));
    let failure = transport(server.url("")).pull(&pull_from(1)).unwrap_err();
    assert!(
        matches!(failure, TransportFailure::Http { status: 401, .. }),
        "{failure:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn fails_as_a_synthetic_401_without_sending_when_the_auth_provider_errs() {
    let server = HttpServer::start(|_| Answer::json(200, r#"{"changes":null,"has_more":false}"#));
    let mut cfg = HttpConfig::new(server.url(""));
    cfg.auth = Some(Arc::new(BrokenProvider));
    let failure = transport_with(cfg).pull(&pull_from(1)).unwrap_err();
    assert_eq!(
        failure,
        TransportFailure::Http {
            status: 401,
            code: Some(AUTH_PROVIDER_FAILED.into()),
            message: "refresh token expired".into(),
        }
    );
    assert!(server.requests().is_empty());
}

#[test]
fn rejects_an_unusable_base_url_or_header_up_front() {
    for url in [
        "",
        "ftp://host/_sync",
        "http:///x",
        "http://host/_sync?x=1",
        "not a url",
    ] {
        let result = HttpTransport::new(HttpConfig::new(url));
        assert!(
            matches!(result, Err(TransportConfigError::InvalidUrl { .. })),
            "{url}"
        );
    }
    let mut cfg = HttpConfig::new("http://127.0.0.1:1/_sync");
    cfg.headers = vec![("X-Bad".into(), "line\nbreak".into())];
    assert!(matches!(
        HttpTransport::new(cfg),
        Err(TransportConfigError::InvalidHeader { .. })
    ));
}
