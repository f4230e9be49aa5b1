//! Encryption at rest: a store opened with `Options::encryption_key` is a SQLCipher file whose
//! bytes (and its WAL's) hold none of the text written to it, that reopens with its key only,
//! and whose key `Client::rekey` changes; a store opened without a key stays plain SQLite.
//! Against the reference server and real files.

mod client_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use client_support::*;
use mizu_sync::{Client, Error, Options};

const KEY: &str = "correct horse battery staple";
/// Text that must never appear in an encrypted file: a local write's and a pulled change's.
const LOCAL_SECRET: &str = "local-secret-4f1c9a";
const PULLED_SECRET: &str = "pulled-secret-8b2e7d";

/// The store file and its WAL, as raw bytes (a missing WAL reads as empty).
fn raw_bytes(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let path = PathBuf::from(format!("{}{suffix}", db.display()));
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path, bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// How many of the file and its WAL hold `needle` in clear.
fn files_holding(db: &Path, needle: &str) -> usize {
    raw_bytes(db)
        .iter()
        .filter(|(_, bytes)| contains(bytes, needle))
        .count()
}

/// A client on `db` (encrypted under `key` when given) with a local write and a pulled change
/// of another writer, both synced; returned open, so the WAL still holds the latest pages.
fn client_with_secrets(server: &TestServer, scope: &str, db: &Path, key: Option<&str>) -> Client {
    let mut opts = options(&server.base_url(), scope).storage_path(db);
    if let Some(key) = key {
        opts = opts.encryption_key(key);
    }
    let client = started(opts);
    client
        .collection::<Todo>("todos")
        .create("t1", todo(LOCAL_SECRET))
        .unwrap();
    let other = started(options(&server.base_url(), scope));
    other
        .collection::<Todo>("todos")
        .create("t2", todo(PULLED_SECRET))
        .unwrap();
    other.flush(WAIT).unwrap();
    client.flush(WAIT).unwrap();
    client.sync().unwrap();
    assert_eq!(
        client.collection::<Todo>("todos").get("t2").get(),
        Some(todo(PULLED_SECRET))
    );
    client
}

fn reopen(db: &Path, key: Option<&str>) -> Result<Client, Error> {
    let mut opts = Options::new("http://127.0.0.1:9/_sync").storage_path(db);
    if let Some(key) = key {
        opts = opts.encryption_key(key);
    }
    Client::new(opts)
}

fn titles(client: &Client) -> Vec<String> {
    client
        .collection::<Todo>("todos")
        .entries()
        .into_iter()
        .map(|(_, todo)| todo.title)
        .collect()
}

fn assert_wrong_key(result: Result<Client, Error>, needle: &str) {
    match result {
        Err(Error::WrongKey(reason)) => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
        }
        other => panic!("expected WrongKey({needle:?}), got {other:?}"),
    }
}

#[test]
fn an_encrypted_store_holds_no_plaintext_and_reopens_with_its_key() {
    let server = TestServer::start();
    let db = temp_db("encrypted");
    let client = client_with_secrets(&server, &scope("encrypted"), &db, Some(KEY));
    for phase in ["open", "closed"] {
        let files = raw_bytes(&db);
        assert!(!files[0].1.is_empty(), "the store file exists");
        assert!(
            !files[0].1.starts_with(b"SQLite format 3"),
            "{phase}: the file has a plain SQLite header"
        );
        for secret in [LOCAL_SECRET, PULLED_SECRET, "todos", "CREATE TABLE"] {
            assert_eq!(files_holding(&db, secret), 0, "{phase}: {secret} in clear");
        }
        client.close();
    }
    let reopened = reopen(&db, Some(KEY)).unwrap();
    assert_eq!(titles(&reopened), [LOCAL_SECRET, PULLED_SECRET]);
}

#[test]
fn a_plain_store_holds_the_same_text_in_clear() {
    // The control of the test above: the same writes without a key are found by the same search.
    let server = TestServer::start();
    let db = temp_db("plain");
    let client = client_with_secrets(&server, &scope("plain"), &db, None);
    client.close();
    assert!(std::fs::read(&db)
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    assert!(files_holding(&db, LOCAL_SECRET) > 0);
    assert!(files_holding(&db, PULLED_SECRET) > 0);
    let reopened = reopen(&db, None).unwrap();
    assert_eq!(titles(&reopened), [LOCAL_SECRET, PULLED_SECRET]);
}

#[test]
fn a_wrong_or_missing_key_fails_with_wrong_key_and_changes_nothing() {
    let db = temp_db("wrong-key");
    let client = reopen(&db, Some(KEY)).unwrap();
    client
        .collection::<Todo>("todos")
        .create("t1", todo(LOCAL_SECRET))
        .unwrap();
    let pending = client.pending_count();
    client.close();
    let before = std::fs::read(&db).unwrap();

    assert_wrong_key(reopen(&db, Some("not the key")), "does not decrypt");
    assert_wrong_key(reopen(&db, None), "is encrypted");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the failed opens wrote nothing"
    );

    let reopened = reopen(&db, Some(KEY)).unwrap();
    assert_eq!(titles(&reopened), [LOCAL_SECRET]);
    assert_eq!(reopened.pending_count(), pending);
}

#[test]
fn a_key_for_a_plain_store_fails_with_wrong_key() {
    let db = temp_db("plain-with-key");
    let client = reopen(&db, None).unwrap();
    client
        .collection::<Todo>("todos")
        .create("t1", todo("plain"))
        .unwrap();
    client.close();
    assert_wrong_key(reopen(&db, Some(KEY)), "not encrypted");
    assert_eq!(titles(&reopen(&db, None).unwrap()), ["plain"]);
}

#[test]
fn a_damaged_file_is_still_corrupt_not_a_wrong_key() {
    let db = temp_db("damaged");
    std::fs::write(
        &db,
        b"not a database at all, and not whole pages either".repeat(7),
    )
    .unwrap();
    match reopen(&db, None) {
        Err(Error::Storage(reason)) => assert!(reason.contains("corrupt"), "{reason}"),
        other => panic!("expected Storage, got {other:?}"),
    }
}

#[test]
fn rekey_then_only_the_new_key_opens_the_store() {
    let db = temp_db("rekey");
    let client = reopen(&db, Some(KEY)).unwrap();
    let todos = client.collection::<Todo>("todos");
    // Enough rows for several pages, so the rewrite covers more than page 1.
    for i in 0..300 {
        todos
            .create(format!("t{i:03}"), todo(&format!("before-{i}")))
            .unwrap();
    }
    client.rekey("a brand new key").unwrap();
    todos.create("after", todo(LOCAL_SECRET)).unwrap();
    client.close();
    assert_eq!(files_holding(&db, LOCAL_SECRET), 0);
    assert_eq!(files_holding(&db, "before-1"), 0);

    assert_wrong_key(reopen(&db, Some(KEY)), "does not decrypt");
    let reopened = reopen(&db, Some("a brand new key")).unwrap();
    let titles = titles(&reopened);
    assert_eq!(titles.len(), 301);
    assert!(titles.contains(&LOCAL_SECRET.to_owned()));
    assert_eq!(reopened.pending_count(), 301);
}

#[test]
fn rekey_refuses_stores_without_a_key_and_empty_keys() {
    let invalid = |result: Result<(), Error>, needle: &str| match result {
        Err(Error::InvalidArgument(reason)) => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
        }
        other => panic!("expected InvalidArgument({needle:?}), got {other:?}"),
    };
    let plain = reopen(&temp_db("rekey-plain"), None).unwrap();
    invalid(plain.rekey("k"), "not encrypted");
    let memory = Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap();
    invalid(memory.rekey("k"), "not encrypted");
    let encrypted = reopen(&temp_db("rekey-empty"), Some(KEY)).unwrap();
    invalid(encrypted.rekey(""), "must not be empty");
    encrypted.close();
    assert_eq!(encrypted.rekey("k"), Err(Error::Closed));
}

#[test]
fn an_empty_key_or_a_key_without_a_file_is_refused() {
    let refused = |options: Options, needle: &str| match Client::new(options) {
        Err(Error::InvalidArgument(reason)) => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
        }
        other => panic!("expected InvalidArgument({needle:?}), got {other:?}"),
    };
    let base = || Options::new("http://127.0.0.1:9/_sync");
    refused(
        base().storage_path(temp_db("empty-key")).encryption_key(""),
        "must not be empty",
    );
    refused(base().encryption_key(KEY), "needs a storage_path");
}

#[test]
fn options_debug_never_prints_the_key() {
    let options = Options::new("http://127.0.0.1:9/_sync")
        .storage_path(temp_db("debug"))
        .encryption_key(KEY)
        .pull_interval(Duration::from_secs(1));
    let printed = format!("{options:?}");
    assert!(!printed.contains(KEY), "{printed}");
    assert!(printed.contains("encrypted: true"), "{printed}");
}
