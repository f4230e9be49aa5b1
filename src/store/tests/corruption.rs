//! Damaged files and rows this library never writes: an error, never a panic.

use rusqlite::Connection;
use serde_json::json;

use super::*;
use crate::store::Error;

/// Opens a store at `path` after running `damage` on the closed file.
fn open_after(damage: &str) -> Result<Store, Error> {
    let dir = temp_dir("corrupt");
    let (path, store) = file_of(&dir);
    store
        .apply_remote(&[upsert("todo", "a", json!(1))], 1)
        .unwrap();
    write(&store, "m1", upsert("todo", "a", json!(2)));
    drop(store);
    Connection::open(&path)
        .unwrap()
        .execute_batch(damage)
        .unwrap();
    Store::open(&path)
}

fn assert_corrupt(result: Result<Store, Error>, needle: &str) {
    match result {
        Err(Error::Corrupt(message)) => {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        other => panic!("expected Corrupt({needle:?}), got {other:?}"),
    }
}

#[test]
fn reports_a_file_that_is_not_a_database() {
    let dir = temp_dir("not-a-db");
    let path = dir.path().join("store.db");
    std::fs::write(
        &path,
        b"this is certainly not a SQLite database, just some text.".repeat(100),
    )
    .unwrap();
    assert_corrupt(Store::open(&path), "not a SQLite database");
}

#[test]
fn reports_a_truncated_file() {
    let dir = temp_dir("truncated");
    let (path, store) = file_of(&dir);
    let changes: Vec<_> = (0..2000)
        .map(|i| upsert("todo", &format!("{i:05}"), json!({"n": i})))
        .collect();
    store.apply_remote(&changes, 1).unwrap();
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(Store::open(&path).is_err());
}

#[test]
fn reports_a_base_value_that_is_not_json() {
    assert_corrupt(
        open_after("UPDATE base SET value = '{oops'"),
        "base.value is not JSON",
    );
}

#[test]
fn reports_a_base_value_that_is_not_text() {
    assert_corrupt(
        open_after("UPDATE base SET value = x'00ff'"),
        "base.value is Blob",
    );
}

#[test]
fn reports_a_pending_row_with_an_unknown_op() {
    assert_corrupt(
        open_after("UPDATE pending SET op = 'upsert'"),
        "has op \"upsert\"",
    );
}

#[test]
fn reports_a_pending_mutation_that_does_not_decode() {
    assert_corrupt(
        open_after("UPDATE pending SET mutation = '{\"id\":\"m1\",\"extra\":1}'"),
        "pending mutation \"m1\"",
    );
    assert_corrupt(
        open_after("UPDATE pending SET mutation = '{\"id\":\"m9\",\"name\":\"x\"}'"),
        "holds mutation \"m9\"",
    );
}

#[test]
fn reports_a_pending_create_without_a_value() {
    assert_corrupt(
        open_after("UPDATE pending SET value = NULL"),
        "update without a value",
    );
}

#[test]
fn reports_a_missing_table() {
    let result = open_after("DROP TABLE pending");
    assert!(matches!(result, Err(Error::Sqlite(_))), "{result:?}");
}
