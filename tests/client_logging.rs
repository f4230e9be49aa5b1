//! The log sink: it sees each of the engine's decisions (push, pull, snapshot, backoff,
//! rejection, auth refresh, live connect / disconnect / notification) and never a secret, against
//! the reference server on 127.0.0.1 behind a proxy that can go down.

#![cfg(feature = "server")]

mod client_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use mizu_sync::server::{convention_apply, ApplyFn, ScopeFn, Server, ServerOptions};
use mizu_sync::{log_targets, AuthProvider, Client, LogLevel, LogRecord, Options};

const FLUSH: Duration = Duration::from_secs(20);
const STALE_TOKEN: &str = "stale-token-marker-5d1e";
const FRESH_TOKEN: &str = "fresh-token-marker-93c7";
const HEADER_VALUE: &str = "header-value-marker-a08b";

/// Hands out a stale token until asked to refresh, then the fresh one.
struct Rotating {
    refreshes: AtomicUsize,
}

impl AuthProvider for Rotating {
    fn token(&self, refresh: bool) -> Result<Option<String>, String> {
        if refresh {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Some(if self.refreshes.load(Ordering::SeqCst) > 0 {
            FRESH_TOKEN.to_string()
        } else {
            STALE_TOKEN.to_string()
        }))
    }
}

/// A reference server that refuses any token but the fresh one and rejects mutations whose
/// arguments mention `reject-me`.
fn guarded_server() -> mizu_sync::server::ServerHandle {
    let scope: ScopeFn = Arc::new(|req| {
        if req.header("authorization") == Some(&format!("Bearer {FRESH_TOKEN}")) {
            Ok(req.claimed.to_string())
        } else {
            Err("bad token".into())
        }
    });
    let apply: ApplyFn = Arc::new(|m, state| {
        let args = m.args.as_ref().map(|a| a.to_string()).unwrap_or_default();
        if args.contains("reject-me") {
            Err("sync: refused by the test".into())
        } else {
            convention_apply(m, state)
        }
    });
    Server::start(ServerOptions {
        scope: Some(scope),
        apply: Some(apply),
        ..ServerOptions::default()
    })
    .expect("the reference server starts")
}

type Lines = Arc<Mutex<Vec<LogRecord>>>;

fn capturing(options: Options, lines: &Lines) -> Options {
    let into = lines.clone();
    options
        .header("X-App-Secret", HEADER_VALUE)
        .log_sink(LogLevel::Trace, move |r| {
            into.lock().unwrap().push(r.clone())
        })
}

fn seen(lines: &Lines, target: &str, contains: &str) -> bool {
    lines
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.target == target && r.message.contains(contains))
}

#[test]
fn the_log_sink_sees_every_engine_decision_and_no_secret() {
    let server = guarded_server();
    let proxy = Proxy::start(server.addr());
    let scope = scope("logging");
    let lines: Lines = Arc::default();

    // Someone else wrote first, so the bootstrap snapshot holds entities.
    let writer = started(options(&server.base_url(), &scope).auth(Rotating {
        refreshes: AtomicUsize::new(1),
    }));
    let todos = writer.collection::<Todo>("todo");
    todos.create("w1", todo("from the writer")).unwrap();
    todos.create("w2", todo("from the writer")).unwrap();
    writer.flush(FLUSH).unwrap();

    let client = started(capturing(
        options(&proxy.base_url(), &scope)
            .live_url(proxy.ws_url(&scope))
            .auth(Rotating {
                refreshes: AtomicUsize::new(0),
            }),
        &lines,
    ));
    // The stale token is refused (403 on HTTP, 401 on the live handshake) and refreshed.
    client.sync().unwrap();
    let mine = client.collection::<Todo>("todo");
    mine.create("c1", todo("kept")).unwrap();
    mine.create("c2", todo("reject-me")).unwrap();
    client.flush(FLUSH).unwrap();
    assert!(!mine.has("c2"), "the rejected create was rolled back");
    wait_until("the live connection opens", || {
        seen(&lines, log_targets::LIVE, "live connection open")
    });
    wait_until("the server knows the subscription", || {
        server.live_subscribers(&scope) == 1
    });
    todos.create("w3", todo("announced live")).unwrap();
    writer.flush(FLUSH).unwrap();
    wait_until("a live notification is logged", || {
        seen(&lines, log_targets::LIVE, "live notification")
    });

    // The server goes away: the live connection drops, and a push backs off.
    proxy.set_down(true);
    mine.create("c3", todo("while down")).unwrap();
    wait_until("a backoff is logged", || {
        seen(&lines, log_targets::BACKOFF, "retrying in")
    });
    wait_until("the live connection loss is logged", || {
        seen(&lines, log_targets::LIVE, "live connection lost")
    });
    proxy.set_down(false);
    client.flush(FLUSH).unwrap();
    client.close();
    writer.close();

    let lines = lines.lock().unwrap();
    if std::env::var_os("MIZU_SYNC_SHOW_LOG").is_some() {
        for r in lines.iter() {
            eprintln!("{:5} {} {}", r.level, r.target, r.message);
        }
    }
    for record in lines.iter() {
        for secret in [STALE_TOKEN, FRESH_TOKEN, HEADER_VALUE, "Bearer"] {
            assert!(
                !record.message.contains(secret) && !record.target.contains(secret),
                "a log record holds a secret: {record:?}"
            );
        }
    }
    let targets: BTreeSet<&str> = lines.iter().map(|r| r.target).collect();
    let expected = [
        log_targets::ENGINE,
        log_targets::PUSH,
        log_targets::PULL,
        log_targets::SNAPSHOT,
        log_targets::BACKOFF,
        log_targets::REJECTION,
        log_targets::AUTH,
        log_targets::LIVE,
        log_targets::HTTP,
    ];
    for target in expected {
        assert!(targets.contains(target), "nothing logged under {target}");
    }
    let has = |target: &str, text: &str| {
        lines
            .iter()
            .any(|r| r.target == target && r.message.contains(text))
    };
    assert!(has(log_targets::SNAPSHOT, "2 entities in 1 collections"));
    assert!(has(
        log_targets::AUTH,
        "refused with HTTP 403: retrying once with a refreshed token"
    ));
    assert!(has(log_targets::REJECTION, "sync: refused by the test"));
    assert!(has(log_targets::PUSH, ", 1 refused"));
    assert!(has(log_targets::PULL, "caught up at cursor"));
    assert!(has(log_targets::ENGINE, "offline"));
    assert!(
        lines.len() > 20,
        "only {} records at trace level",
        lines.len()
    );
}

#[test]
fn the_minimum_level_holds_back_the_finer_records() {
    let server = Server::start(ServerOptions::default()).expect("the reference server starts");
    let scope = scope("log-level");
    let lines: Lines = Arc::default();
    let into = lines.clone();
    let client = Client::new(
        options(&server.base_url(), &scope).log_sink(LogLevel::Info, move |r| {
            into.lock().unwrap().push(r.clone())
        }),
    )
    .unwrap();
    client.start().unwrap();
    client
        .collection::<Todo>("todo")
        .create("a", todo("one"))
        .unwrap();
    client.flush(FLUSH).unwrap();
    client.close();
    let lines = lines.lock().unwrap();
    assert!(lines.iter().all(|r| r.level <= LogLevel::Info), "{lines:?}");
    assert!(lines.iter().any(|r| r.target == log_targets::PUSH));
    assert!(!lines.iter().any(|r| r.target == log_targets::HTTP));
}

#[test]
fn a_panicking_sink_does_not_stop_syncing() {
    let server = Server::start(ServerOptions::default()).expect("the reference server starts");
    let scope = scope("log-panic");
    let client = started(
        options(&server.base_url(), &scope)
            .log_sink(LogLevel::Trace, |_| panic!("the sink failed")),
    );
    let todos = client.collection::<Todo>("todo");
    todos.create("a", todo("one")).unwrap();
    client.flush(FLUSH).unwrap();
    assert_eq!(client.status().get().pending, 0);
}
