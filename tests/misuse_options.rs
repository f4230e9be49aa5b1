//! Options a host can get wrong: every unusable setting is refused by `Client::new` with
//! `Error::InvalidArgument` (never a panic, never a client that starts and then cannot work),
//! and the builder's clamped settings still sync.

mod client_support;

use std::time::{Duration, Instant};

use client_support::{options, scope, started, todo, wait_until, TestServer, Todo};
use mizu_sync::{Client, Error, Options};

const BASE: &str = "http://127.0.0.1:9/_sync";

/// `Client::new` refuses `options` with `Error::InvalidArgument` whose text mentions `hint`.
fn refused(what: &str, options: Options, hint: &str) {
    match Client::new(options) {
        Err(Error::InvalidArgument(message)) => assert!(
            message.contains(hint),
            "{what}: the message {message:?} names {hint:?}"
        ),
        Err(other) => panic!("{what}: expected InvalidArgument, got {other:?}"),
        Ok(_) => panic!("{what}: accepted"),
    }
}

#[test]
fn refuses_zero_intervals_and_timeouts_at_creation() {
    refused(
        "push interval 0",
        Options::new(BASE).push_interval(Duration::ZERO),
        "push_interval",
    );
    refused(
        "pull interval 0",
        Options::new(BASE).pull_interval(Duration::ZERO),
        "pull_interval",
    );
    refused(
        "backoff 0",
        Options::new(BASE).backoff(Duration::ZERO, Duration::ZERO),
        "backoff_min",
    );
    refused(
        "request timeout 0",
        Options::new(BASE).request_timeout(Duration::ZERO),
        "request_timeout",
    );
}

#[test]
fn refuses_inverted_backoff_bounds_set_directly() {
    let mut options = Options::new(BASE);
    options.backoff_min = Duration::from_secs(10);
    options.backoff_max = Duration::from_secs(1);
    refused("backoff min > max", options, "backoff_min");
}

#[test]
fn refuses_a_zero_pull_limit() {
    refused(
        "pull limit 0",
        Options::new(BASE).pull_limit(0),
        "pull_limit",
    );
}

#[test]
fn refuses_batch_sizes_outside_the_servers_limit_set_directly() {
    for size in [0, 101, 1000] {
        let mut options = Options::new(BASE);
        options.push_batch_size = size;
        refused(&format!("batch size {size}"), options, "push_batch_size");
    }
}

#[test]
fn clamps_batch_sizes_given_to_the_builder() {
    assert_eq!(Options::new(BASE).push_batch_size(0).push_batch_size, 1);
    assert_eq!(
        Options::new(BASE).push_batch_size(1000).push_batch_size,
        100
    );
}

#[test]
fn a_batch_size_of_one_still_drains_the_queue() {
    let server = TestServer::start();
    let scope = scope("batch-one");
    let client = started(options(&server.base_url(), &scope).push_batch_size(0));
    let todos = client.collection::<Todo>("todo");
    for i in 0..5 {
        todos.create(format!("t{i}"), todo("one by one")).unwrap();
    }
    client.flush(client_support::WAIT).unwrap();
    assert_eq!(client.pending_count(), 0);
    assert_eq!(
        server.snapshot(&scope)["todo"].as_object().unwrap().len(),
        5
    );
}

#[test]
fn refuses_malformed_live_urls_at_creation() {
    for url in [
        "not a url",
        "http://127.0.0.1:1/ws",
        "ws://",
        "ws:///ws",
        "",
    ] {
        refused(
            &format!("live url {url:?}"),
            Options::new(BASE).live_url(url),
            "live",
        );
    }
}

#[test]
fn refuses_malformed_base_urls() {
    for url in [
        "",
        "127.0.0.1:8080/_sync",
        "ftp://127.0.0.1/_sync",
        "http://",
        "http://h/_sync?x=1",
        "http://exa mple.com/_sync",
    ] {
        refused(&format!("base url {url:?}"), Options::new(url), "");
    }
}

#[test]
fn refuses_header_names_and_values_that_are_not_http() {
    for (name, value) in [
        ("Bad Header", "v"),
        ("", "v"),
        ("X-Line\nBreak", "v"),
        ("X-Colon:", "v"),
        ("X-Ok", "line\r\nInjected: yes"),
        ("X-Ok", "nul\0byte"),
    ] {
        refused(
            &format!("header {name:?}: {value:?}"),
            Options::new(BASE).header(name, value),
            "invalid header",
        );
    }
}

#[test]
fn a_live_server_that_never_answers_the_handshake_does_not_block_start_or_stop() {
    // A listener that accepts and never says a word: the live handshake hangs on it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws", silent.local_addr().unwrap());
    let client = Client::new(Options::new(BASE).live_url(url)).unwrap();
    let begun = Instant::now();
    client.start().unwrap();
    wait_until("the live connection reached the listener", || {
        silent.set_nonblocking(true).unwrap();
        silent.accept().is_ok()
    });
    client.stop();
    assert!(!client.is_started());
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "start and stop took {:?}",
        begun.elapsed()
    );
}
