#![cfg(feature = "server")]
//! Slow clients, concurrency and the `mizu-sync-server` binary.

mod server_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use server_support::*;

#[test]
fn a_hanging_client_does_not_block_others() {
    let server = start();
    let mut hanging = TcpStream::connect(server.addr()).expect("connects");
    hanging
        .write_all(b"POST /_sync/push HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"mut")
        .expect("writes");
    let mut idle = TcpStream::connect(server.addr()).expect("connects");
    idle.write_all(b"POST /_sync/pu").expect("writes");
    let r = push_one(&server, "m1", "", "todo.create", json!({"id":"a","data":1}));
    assert_eq!(r["ok"], true);
    let page = ok(&server, "/pull", json!({"cursor":0}));
    assert_eq!(page["next_cursor"], 1);
}

#[test]
fn closes_a_connection_whose_head_never_completes() {
    let server = start();
    let mut slow = TcpStream::connect(server.addr()).expect("connects");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    slow.write_all(b"POST /_sync/pull HTTP/1.1\r\nHost:")
        .expect("writes");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = slow.read(&mut buf);
    assert!(matches!(read, Ok(0)), "closed without an answer: {read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(20),
        "closed by the head deadline, after {waited:?}"
    );
}

#[test]
fn serves_concurrent_pushes_without_losing_or_duplicating_cursors() {
    let server = start();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let base = server.base_url();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let id = format!("{t}-{i}");
                    let body = json!({"mutations":[{"id":id,"name":"todo.create","args":{"id":id,"data":i}}]});
                    let reply = send("POST", &format!("{base}/push"), &body.to_string());
                    assert_eq!(reply.status, 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("pusher");
    }
    let page = ok(&server, "/pull", json!({"cursor":0,"limit":1000}));
    let cursors: Vec<u64> = page["changes"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["cursor"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(cursors, (1..=80).collect::<Vec<u64>>());
    let snap = ok(&server, "/snapshot", json!({}));
    assert_eq!(snap["data"]["todo"].as_object().map(|o| o.len()), Some(80));
}

#[test]
fn the_binary_prints_its_address_and_serves() {
    let (mut child, base) =
        spawn_binary(&["--addr", "127.0.0.1:0", "--admin", "--max-push-batch", "2"]);
    let body = json!({"mutations":[
        {"id":"1","name":"a.delete","args":{"id":"x"}},
        {"id":"2","name":"a.delete","args":{"id":"x"}},
        {"id":"3","name":"a.delete","args":{"id":"x"}}
    ]});
    let reply = send("POST", &format!("{base}/_sync/push"), &body.to_string());
    assert_eq!(reply.json()["error"], "too many mutations in batch");
    let reply = send("POST", &format!("{base}/_admin/trim"), "{}");
    assert_eq!(reply.status, 200);
    child.kill().expect("kills");
    child.wait().expect("reaped");
}

#[test]
fn the_binary_explains_its_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_mizu-sync-server"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--addr",
        "--db",
        "--admin",
        "--max-push-batch",
        "--pull-limit",
        "--prefix",
    ] {
        assert!(text.contains(flag), "{flag} missing from {text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mizu-sync-server"))
        .arg("--version")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(env!("CARGO_PKG_VERSION")),
        "version missing from {text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mizu-sync-server"))
        .args(["--max-push-batch", "many"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a flag value that is not a number"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mizu-sync-server"))
        .arg("--bogus")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

fn spawn_binary(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mizu-sync-server"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reads the line");
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_owned();
    (child, base)
}

#[test]
fn the_binary_keeps_acknowledged_pushes_across_a_kill() {
    let dir = std::env::temp_dir().join(format!("mizu-sync-server-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("kill.db");
    let db = db.to_str().expect("utf-8 path");
    let (mut child, base) =
        spawn_binary(&["--addr", "127.0.0.1:0", "--db", db, "--prefix", "/sync"]);
    let body = json!({"mutations":[{"id":"m1","name":"todo.create","args":{"id":"a","data":1}}]});
    let reply = send("POST", &format!("{base}/sync/push"), &body.to_string());
    assert_eq!(reply.json()["results"][0]["ok"], true);
    child.kill().expect("kills");
    child.wait().expect("reaped");
    let (mut child, base) =
        spawn_binary(&["--addr", "127.0.0.1:0", "--db", db, "--prefix", "/sync"]);
    let reply = send("POST", &format!("{base}/sync/snapshot"), "{}");
    assert_eq!(reply.json(), json!({"data":{"todo":{"a":1}},"cursor":1}));
    let reply = send("POST", &format!("{base}/sync/push"), &body.to_string());
    assert_eq!(reply.json()["results"][0], json!({"ok":true,"cursor":1}));
    child.kill().expect("kills");
    child.wait().expect("reaped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_live_path_that_is_already_a_sync_path() {
    use mizu_sync::server::{Error, Server, ServerOptions};
    for live_path in ["/_sync/push", "/ws/{scope}"] {
        let started = Server::start(ServerOptions {
            live_path: live_path.to_owned(),
            ..ServerOptions::default()
        });
        assert!(
            matches!(started, Err(Error::InvalidOption(_))),
            "{live_path}: {started:?}"
        );
    }
}
