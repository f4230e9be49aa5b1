//! Hostile snapshot bodies, served by the scripted server to a client with a SQLite store: each
//! gives a typed error, and the store keeps its old state (here: empty, never synced).

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Client, Error, Options};
use mizu_test_support::http_server::{Answer, HttpServer, Recorded};
use mizu_test_support::{temp_dir, TempDir};

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// Serves `body` (built once) as every snapshot; pulls and pushes are refused.
fn serving(answer: impl Fn() -> Answer + Send + Sync + 'static) -> HttpServer {
    HttpServer::start(move |request: &Recorded| match request.path.as_str() {
        "/_sync/snapshot" => answer(),
        _ => Answer::json(503, r#"{"code":"internal_error","error":"down"}"#),
    })
}

/// A started client of `server` on a new SQLite file, with the errors it reported.
fn client(
    server: &HttpServer,
    dir: &TempDir,
    limit: Option<u64>,
) -> (Client, Arc<Mutex<Vec<Error>>>) {
    let errors: Arc<Mutex<Vec<Error>>> = Arc::default();
    let seen = errors.clone();
    let mut options = Options::new(server.url("/_sync"))
        .storage_path(dir.path().join("client.db"))
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .request_timeout(Duration::from_secs(20))
        .on_error(move |e| seen.lock().unwrap().push(e.clone()));
    if let Some(limit) = limit {
        options = options.max_snapshot_bytes(limit);
    }
    let client = Client::new(options).expect("the client opens");
    client.start().expect("the client starts");
    (client, errors)
}

/// Waits for the first reported error that `matches`, and checks nothing was stored.
fn refused(body: String, limit: Option<u64>, matches: impl Fn(&Error) -> bool) -> Client {
    let body = Arc::new(body);
    let server = serving(move || Answer::json(200, &body));
    let dir = temp_dir("hostile-snapshot");
    let (client, errors) = client(&server, &dir, limit);
    wait_until("the snapshot is refused with the expected error", || {
        errors.lock().unwrap().iter().any(&matches)
    });
    assert_eq!(
        client.collection::<Value>("todo").count(),
        0,
        "nothing stored"
    );
    assert_eq!(client.status().get().cursor, None, "never synced");
    client
}

/// Checks that `client` is online (`why`) and that its status's last error names `error`.
fn online_with_error(client: &Client, why: &str, error: &str) {
    let status = client.status().get();
    assert!(status.online, "{why}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(error)),
        "{status:?}"
    );
}

#[test]
fn a_snapshot_holding_an_id_twice_is_refused() {
    let body = r#"{"data":{"todo":{"a":{"t":1},"b":{"t":2},"a":{"t":3}}},"cursor":3}"#;
    let client = refused(
        body.to_string(),
        None,
        |e| matches!(e, Error::Codec(m) if m.contains("todo/a twice")),
    );
    online_with_error(&client, "the server answered: online", "twice");
}

#[test]
fn a_deeply_nested_snapshot_value_is_refused_without_recursing() {
    let depth = 100_000;
    let body = format!(
        r#"{{"data":{{"todo":{{"a":{}{}}}}},"cursor":3}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    refused(
        body,
        None,
        |e| matches!(e, Error::Codec(m) if m.contains("todo/a") && m.contains("nested deeper")),
    );
}

#[test]
fn snapshot_data_of_the_wrong_types_is_refused() {
    let body = r#"{"data":{"todo":[{"id":"a"}]},"cursor":3}"#;
    refused(
        body.to_string(),
        None,
        |e| matches!(e, Error::Codec(m) if m.contains("must be a JSON object, found an array")),
    );
    let body = r#"{"data":{"todo":{"a":null}},"cursor":3}"#;
    refused(
        body.to_string(),
        None,
        |e| matches!(e, Error::Codec(m) if m.contains("todo/a has no value")),
    );
}

#[test]
fn a_huge_single_value_past_the_limit_stops_the_download() {
    let huge = "x".repeat(32 * 1024 * 1024);
    let body = format!(r#"{{"data":{{"todo":{{"a":"{huge}"}}}},"cursor":3}}"#);
    let client = refused(body, Some(1024 * 1024), |e| {
        matches!(e, Error::SnapshotTooLarge { limit: 1_048_576 })
    });
    online_with_error(
        &client,
        "a size limit is not a connectivity problem",
        "larger than the configured limit of 1048576 bytes",
    );
}

#[test]
fn a_huge_single_value_stops_at_the_one_entity_bound_without_a_limit() {
    // Announced as 1 GiB, of which 72 MiB come: the client stops once one entity has taken
    // 64 MiB, with a typed error. A client that held on to the whole value would instead read
    // on to the end of what came and report a truncated body.
    let limit = crate::client::snapshot::MAX_SNAPSHOT_ENTITY_BYTES;
    let body = Arc::new(format!(
        r#"{{"data":{{"todo":{{"a":{{"n":1}},"b":"{}"#,
        "x".repeat(72 * 1024 * 1024)
    ));
    let server = serving(move || Answer::Truncated {
        declared: 1 << 30,
        body: body.to_string(),
    });
    let dir = temp_dir("huge-entity");
    let (client, errors) = client(&server, &dir, None);
    let expected = format!("a snapshot entity in todo is larger than {limit} bytes");
    wait_until("the entity is refused", || {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Error::Codec(m) if m.contains(&expected)))
    });
    assert!(
        !errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Error::Network(_))),
        "it did not read on to the end"
    );
    assert_eq!(
        client.collection::<Value>("todo").count(),
        0,
        "nothing stored"
    );
    let status = client.status().get();
    assert!(status.online, "{status:?}");
    assert_eq!(status.cursor, None);
}

#[test]
fn a_truncated_snapshot_body_is_a_network_failure_and_changes_nothing() {
    let server = serving(|| Answer::Truncated {
        declared: 4096,
        body: r#"{"data":{"todo":{"a":{"t":1},"b":{"t":"#.to_string(),
    });
    let dir = temp_dir("truncated-snapshot");
    let (client, _) = client(&server, &dir, None);
    wait_until("the client tried the snapshot twice", || {
        server
            .requests()
            .iter()
            .filter(|r| r.path == "/_sync/snapshot")
            .count()
            >= 2
    });
    let status = client.status().get();
    assert!(
        !status.online,
        "a broken body is retried like a broken connection"
    );
    assert!(status.last_error.is_some(), "{status:?}");
    assert_eq!(
        client.collection::<Value>("todo").count(),
        0,
        "nothing stored"
    );
    assert_eq!(status.cursor, None);
}
