//! Durable storage of the server in SQLite (WAL): the change log, the per-scope state, the seen
//! mutation ids and the global cursor counter. Everything is loaded into memory at start and
//! written through, one transaction per applied mutation, so a restart (or a kill) loses nothing
//! that was acknowledged.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::scope_log::ScopeLog;
use super::scope_state::ScopeState;
use crate::protocol::wire::Change;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scopes (
    scope TEXT PRIMARY KEY, head INTEGER NOT NULL, min_cursor INTEGER);
CREATE TABLE IF NOT EXISTS changes (
    cursor INTEGER PRIMARY KEY, scope TEXT NOT NULL, time TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS changes_scope ON changes (scope, cursor);
CREATE TABLE IF NOT EXISTS state (
    scope TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (scope, collection, id));
CREATE TABLE IF NOT EXISTS seen (scope TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (scope, id));
";

/// Everything a database holds, as loaded at start.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// The global cursor counter (last assigned cursor).
    pub(crate) global: u64,
    /// Per scope: its log and its state.
    pub(crate) scopes: HashMap<String, (ScopeLog, ScopeState)>,
}

/// What one successfully applied mutation writes.
pub(crate) struct Commit<'a> {
    pub(crate) scope: &'a str,
    /// The mutation id to mark seen (`None` for an empty id).
    pub(crate) seen_id: Option<&'a str>,
    /// The new changes, cursors assigned.
    pub(crate) changes: &'a [Change],
    /// Touched state entries with their new values (`None` = removed).
    pub(crate) touched: &'a [(String, String, Option<Value>)],
    /// The scope's head after the mutation.
    pub(crate) head: u64,
    /// The global counter after the mutation.
    pub(crate) global: u64,
}

/// An open database.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Connection,
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Db {
    /// Opens (creating if needed) the database at `path` and loads everything.
    pub(crate) fn open(path: &Path) -> rusqlite::Result<(Db, Loaded)> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        let db = Db { conn };
        let loaded = db.load()?;
        Ok((db, loaded))
    }

    fn load(&self) -> rusqlite::Result<Loaded> {
        let mut loaded = Loaded {
            global: self
                .conn
                .query_row("SELECT value FROM meta WHERE key = 'global'", [], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .map_or(0, to_u64),
            scopes: HashMap::new(),
        };
        let mut stmt = self
            .conn
            .prepare("SELECT scope, head, min_cursor FROM scopes")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        for row in rows {
            let (scope, head, min_cursor) = row?;
            let entry = loaded.scopes.entry(scope).or_default();
            entry.0.head = to_u64(head);
            entry.0.min_cursor = min_cursor.map(to_u64);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT cursor, scope, time, data FROM changes ORDER BY cursor")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (cursor, scope, time, data) = row?;
            let data = data.and_then(|text| serde_json::from_str(&text).ok());
            let change = Change {
                cursor: to_u64(cursor),
                scope: scope.clone(),
                time,
                data,
            };
            loaded
                .scopes
                .entry(scope)
                .or_default()
                .0
                .changes
                .push(std::sync::Arc::new(change));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT scope, collection, id, value FROM state")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (scope, collection, id, value) = row?;
            let value = serde_json::from_str(&value).unwrap_or(Value::Null);
            loaded
                .scopes
                .entry(scope)
                .or_default()
                .1
                .load(collection, id, value);
        }
        let mut stmt = self.conn.prepare("SELECT scope, id FROM seen")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (scope, id) = row?;
            loaded.scopes.entry(scope).or_default().0.seen.insert(id);
        }
        Ok(loaded)
    }

    /// Writes one applied mutation in one transaction.
    pub(crate) fn commit(&mut self, c: &Commit<'_>) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for change in c.changes {
            let data = change.data.as_ref().map(Value::to_string);
            tx.execute(
                "INSERT INTO changes (cursor, scope, time, data) VALUES (?1, ?2, ?3, ?4)",
                params![to_i64(change.cursor), change.scope, change.time, data],
            )?;
        }
        for (collection, id, value) in c.touched {
            match value {
                Some(value) => tx.execute(
                    "INSERT OR REPLACE INTO state (scope, collection, id, value)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![c.scope, collection, id, value.to_string()],
                )?,
                None => tx.execute(
                    "DELETE FROM state WHERE scope = ?1 AND collection = ?2 AND id = ?3",
                    params![c.scope, collection, id],
                )?,
            };
        }
        if let Some(id) = c.seen_id {
            tx.execute(
                "INSERT OR IGNORE INTO seen (scope, id) VALUES (?1, ?2)",
                params![c.scope, id],
            )?;
        }
        tx.execute(
            "INSERT INTO scopes (scope, head) VALUES (?1, ?2)
             ON CONFLICT (scope) DO UPDATE SET head = excluded.head",
            params![c.scope, to_i64(c.head)],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('global', ?1)",
            params![to_i64(c.global)],
        )?;
        tx.commit()
    }

    /// Removes the scope's changes with `cursor < before` and records `before` as its oldest
    /// retained cursor.
    pub(crate) fn trim(&mut self, scope: &str, before: u64, head: u64) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM changes WHERE scope = ?1 AND cursor < ?2",
            params![scope, to_i64(before)],
        )?;
        tx.execute(
            "INSERT INTO scopes (scope, head, min_cursor) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope) DO UPDATE SET min_cursor = excluded.min_cursor",
            params![scope, to_i64(head), to_i64(before)],
        )?;
        tx.commit()
    }
}
