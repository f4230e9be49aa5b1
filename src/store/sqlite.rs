//! The SQLite file: opening (pragmas, migration, loading everything), and one transaction per
//! store operation. Nothing here touches the in-memory model; the facade applies a change to
//! memory only after the transaction here committed.
//!
//! Durability: the file is in WAL mode with `synchronous = FULL` by default, so a committed
//! transaction survives a process kill *and* a power loss. [`Durability::Normal`] opts into
//! `synchronous = NORMAL`: it also survives a process kill, and saves one fsync per commit, but
//! can lose the last commits on power loss (a write the app was told is saved would vanish). The
//! price of `FULL` is one fsync of the WAL per enqueue; see the `store` benchmark
//! (`cargo bench -p mizu-sync-benches --bench store`) and the write->effect benchmark for the
//! measured latency. What the server sent (pulled pages, snapshots, acknowledgements) commits
//! with `NORMAL` in either mode ([`Db::commit_server_sent`]): after a power cut it may be rolled
//! back to an earlier cursor, never half applied, and the client fetches it again.
//!
//! The file is opened with `locking_mode = EXCLUSIVE`: one store per file, across processes. Two
//! stores on one file would each keep their own in-memory model and overwrite each other.
//!
//! Encryption: SQLite here is SQLCipher (4.x defaults: AES-256 in CBC mode, HMAC-SHA512 per page,
//! PBKDF2-HMAC-SHA512 key derivation). With a key, `PRAGMA key` is the first statement on the
//! connection, so every page of the file and of its WAL is encrypted; without one the file is
//! plain SQLite, readable by any stock `sqlite3`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, Row, Transaction, TransactionBehavior};

use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};
use crate::protocol::wire::Mutation;

use super::error::{Error, Result};
use super::schema;
use super::Durability;
use super::PendingMutation;

/// Everything a file holds, read at open.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The installation's id (created by the first open).
    pub(crate) client_id: String,
    /// The pull cursor, `None` if never synced.
    pub(crate) cursor: Option<u64>,
    /// The synced base.
    pub(crate) base: SnapshotData,
    /// The queue, oldest first.
    pub(crate) pending: Vec<PendingMutation>,
    /// Acknowledged mutations of the queue, with their result cursors.
    pub(crate) acked: BTreeMap<String, u64>,
    /// The client layer's metadata.
    pub(crate) meta: BTreeMap<String, String>,
}

/// An open store file.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Connection,
    /// Whether the file was opened with a key (and so is encrypted).
    encrypted: bool,
    /// The mode every commit but a staging batch's runs in.
    durability: Durability,
}

/// Drops the table a snapshot is staged in (see [`Db::begin_staging`]).
const DROP_STAGING: &str = "DROP TABLE IF EXISTS base_staging;";

/// The first 16 bytes of every plain SQLite file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Db {
    /// Opens (creating if needed) the file at `path`, decrypting it with `key` when given,
    /// migrates it, and reads everything in it.
    ///
    /// # Errors
    /// [`Error::WrongKey`] if the file is encrypted and `key` is wrong or missing, or if a key
    /// is given for a plain file; [`Error::Corrupt`] if the file is not a database or holds rows
    /// this library never writes, [`Error::SchemaTooNew`], [`Error::Locked`] if another store
    /// has it open, SQLite errors.
    pub(crate) fn open(
        path: &Path,
        key: Option<&str>,
        durability: Durability,
        new_client_id: impl FnOnce() -> String,
    ) -> Result<(Db, Loaded)> {
        let mut conn = Connection::open(path)?;
        // SQLCipher logs a wrong key's decryption failure to stderr by default (to logcat or the
        // console on Android and Apple): the app's output is not ours to write to; the error
        // says it all.
        conn.pragma_update(None, "cipher_log_level", "NONE")?;
        if let Some(key) = key {
            // Before anything reads the file: the key applies to every page from the first.
            conn.pragma_update(None, "key", key)?;
        }
        conn.busy_timeout(Duration::from_millis(200))?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        // The first statement that reads page 1: where a wrong or missing key shows.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|err| classify_open_error(path, key.is_some(), err))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt(format!(
                "cannot enable WAL (journal mode {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", durability.pragma())?;
        schema::migrate(&mut conn, new_client_id)?;
        // A snapshot download the process did not finish: its staged rows are never used.
        conn.execute_batch(DROP_STAGING)?;
        let mut db = Db {
            conn,
            encrypted: key.is_some(),
            durability,
        };
        let loaded = db.load()?;
        Ok((db, loaded))
    }

    /// Re-encrypts the whole file (and its WAL) with `new_key`, in one transaction; the old key
    /// no longer opens it. The WAL is then checkpointed and truncated, so no page encrypted with
    /// the old key stays behind in it.
    ///
    /// # Errors
    /// [`Error::NotEncrypted`] if the file was opened without a key; SQLite errors (then the
    /// file keeps the old key).
    pub(crate) fn rekey(&mut self, new_key: &str) -> Result<()> {
        if !self.encrypted {
            return Err(Error::NotEncrypted);
        }
        self.conn.pragma_update(None, "rekey", new_key)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The file's durability mode, as SQLite reports it (`PRAGMA synchronous`).
    ///
    /// # Errors
    /// [`Error::Corrupt`] for a mode this library never sets; SQLite errors.
    pub(crate) fn durability(&self) -> Result<Durability> {
        let value: i64 = self
            .conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))?;
        Durability::from_pragma(value)
            .ok_or_else(|| Error::Corrupt(format!("unexpected synchronous mode {value}")))
    }

    fn load(&mut self) -> Result<Loaded> {
        let tx = self.conn.transaction()?;
        let (client_id, cursor) = tx.query_row(
            "SELECT client_id, cursor FROM sync_state WHERE id = 1",
            [],
            |row| {
                Ok((
                    row.get_ref(0)?.as_str().map(str::to_owned),
                    row.get::<_, Option<i64>>(1),
                ))
            },
        )?;
        let client_id = client_id.map_err(|_| Error::Corrupt("client_id is not text".into()))?;
        let cursor = cursor
            .map_err(|_| Error::Corrupt("cursor is not an integer".into()))?
            .map(|c| c as u64);

        let base = load_base(&tx)?;
        let pending = load_pending(&tx)?;
        let acked = load_acked(&tx)?;
        let meta = load_meta(&tx)?;
        tx.commit()?;
        Ok(Loaded {
            client_id,
            cursor,
            base,
            pending,
            acked,
            meta,
        })
    }

    /// Appends a mutation (`encoded`, the JSON text of mutation `id`) and its optimistic effect
    /// to the queue; returns its seq.
    pub(crate) fn enqueue(
        &mut self,
        id: &str,
        encoded: &str,
        change: Option<&EntityChange>,
    ) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO pending (mutation_id, mutation, collection, entity_id, op, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            id,
            encoded,
            change.map(|c| &c.key.collection),
            change.map(|c| &c.key.id),
            change.map(|c| c.op.as_str()),
            change.and_then(|c| c.value.as_deref()),
        ])?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq as u64)
    }

    /// Removes these seqs from the queue (with their acknowledgements) and records the
    /// acknowledgements of `acked` mutations that stay queued, in one transaction.
    pub(crate) fn settle(&mut self, seqs: &[u64], acked: &[(String, u64)]) -> Result<()> {
        self.commit_server_sent(|conn| Self::settle_in(conn, seqs, acked))
    }

    /// [`settle`](Self::settle), committed in the store's own mode: for mutations the app gave
    /// up, and for rejections (a rejection lost to a power cut would push the mutation again,
    /// and the server runs a refused mutation again).
    pub(crate) fn settle_durably(&mut self, seqs: &[u64], acked: &[(String, u64)]) -> Result<()> {
        Self::settle_in(&mut self.conn, seqs, acked)
    }

    fn settle_in(conn: &mut Connection, seqs: &[u64], acked: &[(String, u64)]) -> Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut forget = tx.prepare_cached(
                "DELETE FROM acked WHERE mutation_id = (SELECT mutation_id FROM pending WHERE seq = ?1)",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM pending WHERE seq = ?1")?;
            for seq in seqs {
                forget.execute([*seq as i64])?;
                delete.execute([*seq as i64])?;
            }
            let mut remember = tx.prepare_cached(
                "INSERT OR REPLACE INTO acked (mutation_id, cursor) VALUES (?1, ?2)",
            )?;
            for (id, cursor) in acked {
                remember.execute(params![id, *cursor as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies server changes to the base and stores the cursor that covers them.
    pub(crate) fn apply_remote(&mut self, changes: &[EntityChange], cursor: u64) -> Result<()> {
        self.commit_server_sent(|conn| Self::apply_remote_in(conn, changes, cursor))
    }

    fn apply_remote_in(conn: &mut Connection, changes: &[EntityChange], cursor: u64) -> Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO base (collection, id, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (collection, id) DO UPDATE SET value = excluded.value",
            )?;
            let mut delete =
                tx.prepare_cached("DELETE FROM base WHERE collection = ?1 AND id = ?2")?;
            for change in changes {
                let key = &change.key;
                match (change.op, change.value.as_deref()) {
                    (EntityOp::Delete, _) | (_, None) => {
                        delete.execute([&key.collection, &key.id])?
                    }
                    (_, Some(value)) => upsert.execute(params![key.collection, key.id, value])?,
                };
            }
            set_cursor(&tx, cursor)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `sql` on this connection (see [`Store::execute_for_test`](super::Store)).
    #[cfg(test)]
    pub(crate) fn execute_for_test(&mut self, sql: &str) {
        self.conn.execute_batch(sql).expect("the test's SQL runs");
    }

    /// Replaces the whole base with `snapshot` and stores its cursor.
    pub(crate) fn replace_base(&mut self, snapshot: &SnapshotData, cursor: u64) -> Result<()> {
        self.commit_server_sent(|conn| Self::replace_base_in(conn, snapshot, cursor))
    }

    fn replace_base_in(conn: &mut Connection, snapshot: &SnapshotData, cursor: u64) -> Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM base", [])?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO base (collection, id, value) VALUES (?1, ?2, ?3)")?;
            for (collection, ids) in snapshot {
                for (id, value) in ids {
                    insert.execute(params![collection, id, &**value])?;
                }
            }
            set_cursor(&tx, cursor)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Starts staging a snapshot: an empty `base_staging` table (any earlier one dropped). The
    /// base is untouched until [`swap_staged`](Self::swap_staged).
    pub(crate) fn begin_staging(&mut self) -> Result<()> {
        self.conn.execute_batch(&format!(
            "{DROP_STAGING}
             CREATE TABLE base_staging (
                 collection TEXT NOT NULL,
                 id         TEXT NOT NULL,
                 value      TEXT NOT NULL,
                 PRIMARY KEY (collection, id)
             ) WITHOUT ROWID;"
        ))?;
        Ok(())
    }

    /// Adds `rows` to the staged snapshot, in one transaction.
    pub(crate) fn stage(&mut self, rows: &[(Arc<str>, String, JsonText)]) -> Result<()> {
        self.commit_server_sent(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO base_staging (collection, id, value) VALUES (?1, ?2, ?3)",
                )?;
                for (collection, id, value) in rows {
                    insert.execute(params![&**collection, id, &**value])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Makes the staged snapshot the base and stores its cursor, in one transaction: the old
    /// base table is dropped and the staging table renamed in its place (no copy).
    pub(crate) fn swap_staged(&mut self, cursor: u64) -> Result<()> {
        self.commit_server_sent(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch("DROP TABLE base; ALTER TABLE base_staging RENAME TO base;")?;
            set_cursor(&tx, cursor)?;
            tx.commit()?;
            // The renamed table's statements were compiled against the old one.
            conn.flush_prepared_statement_cache();
            Ok(())
        })
    }

    /// Runs `write`, one transaction of what the server sent (a pulled page, a snapshot, the
    /// acknowledgements of a push, but not its rejections: see
    /// [`settle_durably`](Self::settle_durably)), committed with `synchronous = NORMAL` whatever
    /// the store's [`Durability`].
    ///
    /// Such a transaction needs no fsync of its own: the file stays consistent after a power
    /// cut, which can only roll it back to an earlier commit (WAL commits are a prefix), and
    /// whatever was rolled back the server sends again (the cursor goes back with the base it
    /// covers; a lost acknowledgement makes the client push the mutation again, which the server
    /// answers `ok` by its id). The next commit in the store's own mode (the app's next write,
    /// fsynced under [`Durability::Full`]) syncs the WAL, and every frame before it. What the app
    /// wrote is never committed this way.
    fn commit_server_sent<T>(
        &mut self,
        write: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        if self.durability == Durability::Normal {
            return write(&mut self.conn);
        }
        self.conn
            .pragma_update(None, "synchronous", Durability::Normal.pragma())?;
        let written = write(&mut self.conn);
        // Back to the store's mode before anything else commits, even when `write` failed.
        let restored = self
            .conn
            .pragma_update(None, "synchronous", self.durability.pragma());
        written.and_then(|value| restored.map(|()| value).map_err(Error::from))
    }

    /// Drops a staged snapshot that will not be used.
    pub(crate) fn drop_staging(&mut self) -> Result<()> {
        self.conn.execute_batch(DROP_STAGING)?;
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) one metadata entry.
    pub(crate) fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(value) => self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?,
            None => self
                .conn
                .execute("DELETE FROM meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }
}

/// Names the failure of the first read of a file: SQLite says only "file is not a database",
/// for a wrong key, a missing key and a damaged file alike.
///
/// With a key, it is [`Error::WrongKey`] (a plain file, or one encrypted with another key).
/// Without one, a file made of whole pages that lacks SQLite's header is taken for an encrypted
/// file ([`Error::WrongKey`]: a key is needed); anything else is [`Error::Corrupt`].
fn classify_open_error(path: &Path, keyed: bool, err: rusqlite::Error) -> Error {
    if err.sqlite_error_code() != Some(rusqlite::ErrorCode::NotADatabase) {
        return err.into();
    }
    let header = read_header(path);
    let plain = header
        .as_ref()
        .is_some_and(|(magic, _)| magic == SQLITE_MAGIC);
    if keyed {
        return Error::WrongKey(if plain {
            "the store file is not encrypted; open it without a key".into()
        } else {
            "the key does not decrypt the store file".into()
        });
    }
    match header {
        Some((_, len)) if !plain && len > 0 && len % 512 == 0 => {
            Error::WrongKey("the store file is encrypted; open it with its key".into())
        }
        _ => err.into(),
    }
}

/// The file's first 16 bytes and its length, if it can be read.
fn read_header(path: &Path) -> Option<([u8; 16], u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut magic = [0u8; 16];
    file.read_exact(&mut magic).ok()?;
    Some((magic, len))
}

fn load_base(tx: &Transaction<'_>) -> Result<SnapshotData> {
    let mut base = SnapshotData::new();
    let mut stmt = tx.prepare("SELECT collection, id, value FROM base ORDER BY collection, id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let collection = text(row, 0, "base.collection")?;
        let id = text(row, 1, "base.id")?.to_owned();
        let value = json(row, 2, "base.value")?;
        // Rows come grouped by collection: allocate the collection's name once, not per row.
        match base.get_mut(collection) {
            Some(ids) => ids.insert(id, value),
            None => base
                .entry(collection.to_owned())
                .or_default()
                .insert(id, value),
        };
    }
    Ok(base)
}

/// The acknowledgements of mutations still queued (a row whose mutation left is ignored).
fn load_acked(tx: &Transaction<'_>) -> Result<BTreeMap<String, u64>> {
    let mut stmt = tx.prepare(
        "SELECT a.mutation_id, a.cursor FROM acked a JOIN pending p ON p.mutation_id = a.mutation_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut acked = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let id = text(row, 0, "acked.mutation_id")?.to_owned();
        let cursor: i64 = row
            .get(1)
            .map_err(|_| Error::Corrupt(format!("acked {id:?}: cursor is not an integer")))?;
        acked.insert(id, cursor as u64);
    }
    Ok(acked)
}

fn load_pending(tx: &Transaction<'_>) -> Result<Vec<PendingMutation>> {
    let mut stmt = tx.prepare(
        "SELECT seq, mutation_id, mutation, collection, entity_id, op, value
         FROM pending ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut pending = Vec::new();
    while let Some(row) = rows.next()? {
        pending.push(pending_row(row)?);
    }
    Ok(pending)
}

fn load_meta(tx: &Transaction<'_>) -> Result<BTreeMap<String, String>> {
    let mut stmt = tx.prepare("SELECT key, value FROM meta")?;
    let mut rows = stmt.query([])?;
    let mut meta = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let key = text(row, 0, "meta.key")?.to_owned();
        meta.insert(key, text(row, 1, "meta.value")?.to_owned());
    }
    Ok(meta)
}

fn set_cursor(tx: &Transaction<'_>, cursor: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET cursor = ?1 WHERE id = 1")?
        .execute([cursor as i64])?;
    Ok(())
}

/// Column `idx` as text; anything else (NULL, a number, a blob, bad UTF-8) is corruption.
fn text<'r>(row: &'r Row<'_>, idx: usize, what: &str) -> Result<&'r str> {
    match row.get_ref(idx)? {
        ValueRef::Text(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| Error::Corrupt(format!("{what} is not UTF-8")))
        }
        other => Err(Error::Corrupt(format!(
            "{what} is {:?}, not text",
            other.data_type()
        ))),
    }
}

/// Column `idx` as text that must be `NULL` or text.
fn optional_text<'r>(row: &'r Row<'_>, idx: usize, what: &str) -> Result<Option<&'r str>> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        _ => text(row, idx, what).map(Some),
    }
}

/// Column `idx` as a JSON value.
fn json(row: &Row<'_>, idx: usize, what: &str) -> Result<JsonText> {
    let value = text(row, idx, what)?;
    super::check_json(value).map_err(|err| Error::Corrupt(format!("{what} is not JSON: {err}")))?;
    Ok(JsonText::from(value))
}

fn pending_row(row: &Row<'_>) -> Result<PendingMutation> {
    let seq: i64 = row.get(0)?;
    let mutation_id = text(row, 1, "pending.mutation_id")?;
    let mutation: Mutation = serde_json::from_str(text(row, 2, "pending.mutation")?)
        .map_err(|err| Error::Corrupt(format!("pending mutation {mutation_id:?}: {err}")))?;
    if mutation.id != mutation_id {
        return Err(Error::Corrupt(format!(
            "pending mutation {mutation_id:?} holds mutation {:?}",
            mutation.id
        )));
    }
    let collection = optional_text(row, 3, "pending.collection")?;
    let change = match collection {
        None => None,
        Some(collection) => {
            let id = text(row, 4, "pending.entity_id")?;
            let op = text(row, 5, "pending.op")?;
            let op = EntityOp::parse(op).ok_or_else(|| {
                Error::Corrupt(format!("pending mutation {mutation_id:?} has op {op:?}"))
            })?;
            let value = match row.get_ref(6)? {
                ValueRef::Null => None,
                _ => Some(json(row, 6, "pending.value")?),
            };
            if value.is_none() != (op == EntityOp::Delete) {
                return Err(Error::Corrupt(format!(
                    "pending mutation {mutation_id:?}: {} with{} a value",
                    op.as_str(),
                    if value.is_some() { "" } else { "out" }
                )));
            }
            Some(EntityChange {
                key: EntityKey::new(collection, id),
                op,
                value,
            })
        }
    };
    // Encoded again rather than kept as read: the text a push sends is exactly what this
    // library writes for the mutation (no key it would not send).
    let encoded = PendingMutation::encode(&mutation)?;
    Ok(PendingMutation {
        seq: seq as u64,
        mutation,
        encoded,
        change,
    })
}
