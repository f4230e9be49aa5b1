//! Pull and apply: a client bootstraps a scope of one record (so its cursor is just before the
//! changes, and not 0, from which a client never pulls), stops; the log then gets `n` changes (bare batch POSTs); the client starts again and
//! the clock runs from `start()` until `on_sync` reports the log head and every record is
//! queryable. Raw bound: the same pages (1,000 records) fetched with bare ureq and decoded with
//! serde_json.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mizu_sync::server::{Server, ServerOptions};
use mizu_sync::{Client, Options};

use crate::records::{push_bodies, Raw, Todo, COLLECTION};

const SCOPE: &str = "pull";
const PAGE: u32 = 1000;

/// Records per second: ours, and the raw bound on the same server.
pub fn pull(n: usize, storage: Option<&Path>) -> (f64, f64) {
    let server = Server::start(ServerOptions::default()).expect("server");
    let (synced, cursors) = mpsc::channel::<u64>();
    let mut options = Options::new(server.base_url())
        .scope(SCOPE)
        .pull_limit(PAGE)
        .request_timeout(Duration::from_secs(60))
        .on_sync(move |cursor| {
            let _ = synced.send(cursor);
        });
    if let Some(path) = storage {
        options = options.storage_path(path);
    }
    // One record first: a client whose snapshot said cursor 0 (an empty scope) snapshots again
    // rather than pulling from 0, and this case measures pulls.
    let raw = Raw::new(&server.base_url());
    raw.push_all(&push_bodies(SCOPE, "seed", 1, 1));
    let client = Client::new(options).expect("client");
    client.start().expect("start");
    client.sync().expect("bootstrap");
    client.stop();
    let from = client.cursor();
    assert!(from > 0, "the bootstrap's cursor lets the client pull");
    while cursors.try_recv().is_ok() {}

    let head = raw.push_all(&push_bodies(SCOPE, "pull", n, 100));

    let start = Instant::now();
    client.start().expect("restart");
    loop {
        let cursor = cursors
            .recv_timeout(Duration::from_secs(600))
            .expect("pulled");
        if cursor >= head {
            break;
        }
    }
    let count = client.collection::<Todo>(COLLECTION).count();
    let ours = start.elapsed().as_secs_f64();
    assert_eq!(count, n + 1, "every pulled record is queryable");
    client.close();

    let start = Instant::now();
    let pulled = raw.pull_all(SCOPE, from, i64::from(PAGE));
    let bound = start.elapsed().as_secs_f64();
    assert_eq!(pulled, n);
    (n as f64 / ours, n as f64 / bound)
}
