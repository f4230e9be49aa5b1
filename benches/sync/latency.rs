//! Local write → subscribed effect notified: the time from calling `Entity::set` to the effect
//! that reads that entity having run (synchronously, on the writing thread), with the client
//! started and online (its engine pushes in the background, as in an app). Raw bounds: the same
//! record through serde_json (encode + decode), and for the SQLite store a bare rusqlite insert
//! of the same text in its own WAL transaction, interleaved with ours (one each, in turn).

use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mizu_sync::reactive::Effect;
use mizu_sync::server::ServerHandle;
use mizu_sync::{Client, Durability, Options};

use crate::records::{todo, Todo, COLLECTION};
use crate::report::Samples;

/// Latencies of `warmup + iterations` writes (the warm-up ones dropped), in milliseconds, with
/// the store in the given durability mode, and of the bare twin's inserts interleaved with them.
pub fn write_to_effect(
    server: &ServerHandle,
    storage: Option<&Path>,
    warmup: usize,
    iterations: usize,
    twin: Option<&BareSqlite>,
    online: bool,
    durability: Durability,
) -> (Samples, Samples) {
    let scope = format!(
        "latency-sqlite{}-online{online}-{durability}",
        storage.is_some()
    );
    let mut options = Options::new(server.base_url())
        .scope(scope.as_str())
        .durability(durability);
    if let Some(path) = storage {
        options = options.storage_path(path);
    }
    let client = Client::new(options).expect("client");
    client.start().expect("start");
    client.sync().expect("bootstrap");
    if !online {
        // Offline: no engine commits (settle, apply) compete with the writes.
        client.stop();
    }
    let todos = client.collection::<Todo>(COLLECTION);
    let entity = todos.create("w-0", todo(0)).expect("create");

    let seen: Arc<Mutex<Option<Instant>>> = Arc::default();
    let effect = {
        let (reader, seen) = (entity.clone(), seen.clone());
        Effect::new(move || {
            black_box(reader.get());
            *seen.lock().expect("seen") = Some(Instant::now());
        })
    };
    seen.lock().expect("seen").take();

    let (mut samples, mut twins) = (Samples::default(), Samples::default());
    for i in 0..warmup + iterations {
        let value = todo(i + 1);
        let start = Instant::now();
        entity.set(value).expect("set");
        let notified = seen.lock().expect("seen").take().expect("the effect ran");
        // The bare twin right after, so both see the same disk at the same moment.
        let twin = twin.map(|bare| bare.insert(i));
        if i >= warmup {
            samples.push(notified - start);
            twin.into_iter().for_each(|d| twins.push(d));
        }
    }
    effect.stop();
    client.close();
    (samples, twins)
}

/// serde_json encode + decode of the same records.
pub fn serde_bound(iterations: usize) -> Samples {
    let mut samples = Samples::default();
    for i in 0..iterations {
        let value = todo(i);
        let start = Instant::now();
        let text = serde_json::to_string(&value).expect("encode");
        let back: Todo = serde_json::from_str(black_box(&text)).expect("decode");
        black_box(back);
        samples.push(start.elapsed());
    }
    samples
}

/// A bare rusqlite insert of the same record in its own transaction, with the store's pragmas
/// (exclusive locking, WAL) and `synchronous` = `FULL` (what the store uses) or `NORMAL`, plus
/// the serde_json round trip.
pub struct BareSqlite {
    conn: rusqlite::Connection,
}

impl BareSqlite {
    pub fn open(path: &Path, synchronous: &str) -> BareSqlite {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .expect("locking mode");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "synchronous", synchronous)
            .expect("synchronous");
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, id TEXT, value TEXT)",
        )
        .expect("schema");
        BareSqlite { conn }
    }

    /// Inserts the `i`th record; returns how long it took.
    pub fn insert(&self, i: usize) -> Duration {
        let value = todo(i);
        let start = Instant::now();
        let text = serde_json::to_string(&value).expect("encode");
        self.conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        self.conn
            .prepare_cached("INSERT INTO pending (id, value) VALUES (?1, ?2)")
            .expect("prepare")
            .execute(rusqlite::params![format!("w-{i}"), text])
            .expect("insert");
        self.conn.execute_batch("COMMIT").expect("commit");
        let back: Todo = serde_json::from_str(&text).expect("decode");
        black_box(back);
        start.elapsed()
    }
}
