//! The SQLite schema and its migrations.
//!
//! The file's version lives in `PRAGMA user_version`. [`MIGRATIONS`]`[n]` takes a file from version
//! `n` to `n + 1` (version 0 is an empty file), so a file of any older version is brought up to
//! date step by step, all in one transaction. Never edit a shipped migration: append a new one
//! and add a frozen copy of the old schema to the schema test.

use rusqlite::{Connection, TransactionBehavior};

use super::error::{Error, Result};

/// Version 1: the synced base, the pending queue, the sync state and free metadata.
const V1: &str = "
CREATE TABLE sync_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    client_id TEXT NOT NULL,
    cursor    INTEGER
);
CREATE TABLE base (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE TABLE pending (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    mutation    TEXT NOT NULL,
    collection  TEXT,
    entity_id   TEXT,
    op          TEXT,
    value       TEXT
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
";

/// Version 2: acknowledgements the server gave, kept until the pull that settles them.
const V2: &str = "
CREATE TABLE acked (
    mutation_id TEXT PRIMARY KEY,
    cursor      INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Every migration, oldest first: entry `n` upgrades version `n` to `n + 1`.
///
/// Columns, v1:
/// - `sync_state`: one row; `cursor` is the pull cursor (`NULL` until the first snapshot), stored
///   as the two's-complement `i64` of the `u64`.
/// - `base`: the server's state as of the cursor; `value` is compact JSON.
/// - `pending`: the queue in `seq` order; `mutation` is the wire mutation as JSON; `collection`,
///   `entity_id`, `op`, `value` are its optimistic effect (all `NULL` for app-defined mutations,
///   `value` `NULL` for a delete).
/// - `meta`: small key/value metadata for the client layer.
///
/// Added in v2:
/// - `acked`: pending mutations the server acknowledged, with the cursor of their result (as in
///   `sync_state.cursor`), so a restart does not push them again; a row leaves with its
///   mutation's `pending` row.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this library writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Brings the file up to [`LATEST`] and makes sure the sync state row exists (with a new
/// `client_id` from `new_client_id` on first open), in one transaction.
///
/// # Errors
/// [`Error::SchemaTooNew`] for a file from a newer library; SQLite errors otherwise.
pub(crate) fn migrate(conn: &mut Connection, new_client_id: impl FnOnce() -> String) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > LATEST {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: LATEST,
        });
    }
    let from = usize::try_from(version)
        .map_err(|_| Error::Corrupt(format!("negative schema version {version}")))?;
    for migration in &MIGRATIONS[from..] {
        tx.execute_batch(migration)?;
    }
    if version != LATEST {
        tx.execute_batch(&format!("PRAGMA user_version = {LATEST}"))?;
    }
    let has_state: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM sync_state)", [], |row| {
        row.get(0)
    })?;
    if !has_state {
        tx.execute(
            "INSERT INTO sync_state (id, client_id, cursor) VALUES (1, ?1, NULL)",
            [new_client_id()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use mizu_test_support::temp_dir;

    /// Frozen copy of the v1 DDL exactly as shipped. Do not edit: add `V2_AS_SHIPPED` beside it.
    const V1_AS_SHIPPED: &str = "
        CREATE TABLE sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), client_id TEXT NOT NULL,
            cursor INTEGER);
        CREATE TABLE base (collection TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (collection, id)) WITHOUT ROWID;
        CREATE TABLE pending (seq INTEGER PRIMARY KEY AUTOINCREMENT,
            mutation_id TEXT NOT NULL UNIQUE, mutation TEXT NOT NULL, collection TEXT,
            entity_id TEXT, op TEXT, value TEXT);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        INSERT INTO sync_state (id, client_id, cursor) VALUES (1, 'old-client', 7);
        INSERT INTO base VALUES ('todo', 'a', '{\"t\":1}');
        PRAGMA user_version = 1;
    ";

    /// Every table with its columns (name, type, notnull, default, pk), every index with its
    /// columns and uniqueness, and the version: what a migration must reproduce.
    fn describe(path: &std::path::Path) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut out = Vec::new();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        out.push(format!("version {version}"));
        let mut tables = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let tables: Vec<String> = tables
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for table in tables {
            let mut columns = conn
                .prepare(
                    "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
                )
                .unwrap();
            let columns = columns
                .query_map([&table], |r| {
                    Ok(format!(
                        "{table}.{} {} notnull={} default={:?} pk={}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?
                    ))
                })
                .unwrap();
            out.extend(columns.map(Result::unwrap));
            let mut indexes = conn
                .prepare(
                    "SELECT l.\"unique\", l.origin, group_concat(i.name, ',')
                     FROM pragma_index_list(?1) l, pragma_index_info(l.name) i
                     GROUP BY l.name ORDER BY 3",
                )
                .unwrap();
            let indexes = indexes
                .query_map([&table], |r| {
                    Ok(format!(
                        "{table} index unique={} origin={} on {}",
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?
                    ))
                })
                .unwrap();
            out.extend(indexes.map(Result::unwrap));
        }
        out
    }

    #[test]
    fn migrates_every_older_schema_to_the_fresh_one() {
        let dir = temp_dir("schema");
        let fresh = dir.path().join("fresh.db");
        drop(Store::open(&fresh).unwrap());
        let expected = describe(&fresh);
        assert!(expected.contains(&format!("version {LATEST}")));
        assert!(expected
            .iter()
            .any(|line| line.starts_with("base.value TEXT")));

        let older: &[(i64, &str)] = &[(1, V1_AS_SHIPPED)];
        for (version, ddl) in older {
            let path = dir.path().join(format!("v{version}.db"));
            Connection::open(&path).unwrap().execute_batch(ddl).unwrap();
            let store = Store::open(&path).unwrap();
            assert_eq!(
                store.client_id(),
                "old-client",
                "v{version} keeps its client id"
            );
            assert_eq!(store.cursor(), Some(7), "v{version} keeps its cursor");
            assert_eq!(store.count("todo"), 1, "v{version} keeps its base");
            drop(store);
            assert_eq!(describe(&path), expected, "v{version} migrated");
        }
    }

    #[test]
    fn refuses_a_schema_newer_than_this_library() {
        let dir = temp_dir("schema-new");
        let path = dir.path().join("new.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", LATEST + 1))
            .unwrap();
        drop(conn);
        match Store::open(&path) {
            Err(Error::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (LATEST + 1, LATEST));
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}
