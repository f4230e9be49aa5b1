#![cfg(feature = "server")]
//! The SQLite storage of the reference server survives restarts.

mod server_support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use mizu_sync::server::{Server, ServerHandle, ServerOptions, Storage};
use serde_json::json;
use server_support::*;

fn temp_db(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mizu-sync-server-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("server.db")
}

fn open(path: &std::path::Path) -> ServerHandle {
    Server::start(ServerOptions {
        storage: Storage::Sqlite(path.to_path_buf()),
        admin: true,
        ..ServerOptions::default()
    })
    .expect("server starts on sqlite")
}

#[test]
fn keeps_log_state_seen_ids_and_the_counter_across_a_restart() {
    let path = temp_db("restart");
    let (changes_before, snapshot_before) = {
        let server = open(&path);
        push_one(
            &server,
            "m1",
            "s",
            "todo.create",
            json!({"id":"a","data":{"t":1}}),
        );
        push_one(
            &server,
            "m2",
            "t",
            "todo.create",
            json!({"id":"b","data":2}),
        );
        push_one(
            &server,
            "m3",
            "s",
            "todo.update",
            json!({"id":"a","data":{"t":3}}),
        );
        let failed = push_one(&server, "m4", "s", "todo.delete", json!({"id":"zz"}));
        assert_eq!(failed["ok"], false);
        (
            ok(&server, "/pull", json!({"scope":"s","cursor":0})),
            ok(&server, "/snapshot", json!({"scope":"s"})),
        )
    };
    let server = open(&path);
    assert_eq!(
        ok(&server, "/pull", json!({"scope":"s","cursor":0})),
        changes_before
    );
    assert_eq!(
        ok(&server, "/snapshot", json!({"scope":"s"})),
        snapshot_before
    );
    assert_eq!(
        snapshot_before,
        json!({"data":{"todo":{"a":{"t":3}}},"cursor":3})
    );
    let dup = push_one(
        &server,
        "m1",
        "s",
        "todo.create",
        json!({"id":"a","data":{"t":1}}),
    );
    assert_eq!(dup, json!({"ok":true,"cursor":3}), "m1 is still seen");
    let retry = push_one(
        &server,
        "m4",
        "s",
        "todo.create",
        json!({"id":"zz","data":0}),
    );
    assert_eq!(retry["cursor"], 4, "the counter continues after 3");
    drop(server);
    remove(&path);
}

fn remove(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn keeps_a_trim_across_a_restart() {
    let path = temp_db("trim");
    {
        let server = open(&path);
        push_one(&server, "m1", "", "todo.create", json!({"id":"a","data":1}));
        push_one(&server, "m2", "", "todo.create", json!({"id":"b","data":1}));
        assert_eq!(
            admin(&server, "trim", json!({})).json(),
            json!({"cursor":2})
        );
    }
    let server = open(&path);
    assert_eq!(post(&server, "/pull", r#"{"cursor":1}"#).status, 410);
    let page = ok(&server, "/pull", json!({"cursor":0}));
    assert_eq!(page["changes"].as_array().map(Vec::len), Some(1));
    drop(server);
    remove(&path);
}

#[test]
fn fails_to_start_on_an_unusable_database_path() {
    let dir = temp_db("dir");
    let parent = dir.parent().map(PathBuf::from).unwrap_or_default();
    let result = Server::start(ServerOptions {
        storage: Storage::Sqlite(parent),
        ..ServerOptions::default()
    });
    assert!(matches!(result, Err(mizu_sync::server::Error::Storage(_))));
    remove(&dir);
}
