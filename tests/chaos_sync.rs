//! Chaos: clients write concurrently through a proxy that refuses, delays, resets, truncates
//! and swallows connections (HTTP and the live WebSocket alike). Once the proxy is healthy
//! again every client must converge to the server's state, and every queued write must be
//! applied exactly once or rejected and reported, never lost, never doubled.
//!
//! Seeded: the seed is printed, `MIZU_CHAOS_SEED` replays it. `MIZU_CHAOS_SECS` sets how long
//! the writers run (default 6 s). Runs against the reference server, or the real mizu server
//! with `MIZU_SYNC_TEST_SERVER=mizu`.

#![cfg(feature = "server")]

mod chaos_support;
mod client_support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chaos_support::backend::Backend;
use chaos_support::env_secs;
use chaos_support::ledger::{Ledger, RecordingCodec, Reports};
use chaos_support::proxy::{ChaosProxy, FaultMix};
use chaos_support::verdict::{Audit, ITEMS};
use chaos_support::workload::{WriteCounts, Writer};
use client_support::{scope, temp_db};
use mizu_sync::{Client, Options};
use mizu_test_support::rng::{self, Rng};
use serde_json::{Map, Value};

const CLIENTS: usize = 4;
/// How long the clients get to converge once the proxy is healthy.
const CONVERGE: Duration = Duration::from_secs(60);

struct Member {
    client: Client,
    ledger: Arc<Ledger>,
}

fn member(number: usize, proxy: &ChaosProxy, scope: &str, reports: &Arc<Reports>) -> Member {
    let ledger = Arc::new(Ledger::default());
    let mut options = Options::new(proxy.base_url())
        .scope(scope)
        .live_url(proxy.ws_url(scope))
        .push_interval(Duration::from_millis(50))
        .pull_interval(Duration::from_millis(250))
        .request_timeout(Duration::from_millis(400))
        .backoff(Duration::from_millis(10), Duration::from_millis(150))
        .codec(RecordingCodec {
            ledger: ledger.clone(),
        })
        .on_error(reports.callback());
    if number == 0 {
        // One durable client: the SQLite path takes the same faults.
        options = options.storage_path(temp_db("chaos"));
    }
    let client = Client::new(options).expect("a client opens");
    client.start().expect("a client starts");
    Member { client, ledger }
}

/// What a client shows of the collections the server holds, as `{collection: {id: value}}`.
fn visible(client: &Client, collections: &[String]) -> Value {
    let mut out = Map::new();
    for name in collections {
        let entries: Map<String, Value> = client
            .collection::<Value>(name)
            .entries()
            .into_iter()
            .collect();
        if !entries.is_empty() {
            out.insert(name.clone(), Value::Object(entries));
        }
    }
    Value::Object(out)
}

/// Flushes and pulls every client until all show the server's snapshot; returns how long it
/// took, or the last difference seen.
fn converge(backend: &Backend, scope: &str, members: &[Member]) -> Result<Duration, String> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < CONVERGE {
        for m in members {
            if m.client.pending_count() > 0 {
                let _ = m.client.flush(Duration::from_secs(5));
            }
        }
        if members.iter().any(|m| m.client.pending_count() > 0) {
            last = "writes still pending".into();
            continue;
        }
        let snapshot = backend.snapshot(scope);
        let mut collections: Vec<String> = snapshot
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        collections.extend([ITEMS.to_owned(), "counter".into(), "tally".into()]);
        collections.sort();
        collections.dedup();
        let mut all_equal = true;
        for (i, m) in members.iter().enumerate() {
            if m.client.sync().is_err() {
                all_equal = false;
                continue;
            }
            let seen = visible(&m.client, &collections);
            if seen != snapshot {
                all_equal = false;
                last = format!("client {i} shows {seen}\nserver has {snapshot}");
            }
        }
        if all_equal {
            return Ok(start.elapsed());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(last)
}

#[test]
fn clients_writing_through_chaos_converge_and_apply_each_write_exactly_once() {
    let seed = rng::seed("chaos", "MIZU_CHAOS_SEED");
    let run_for = env_secs("MIZU_CHAOS_SECS", 6.0);
    let backend = Backend::start();
    let proxy = ChaosProxy::start(backend.addr(), seed, FaultMix::default());
    let scope = scope("chaos");
    let reports = Arc::new(Reports::default());
    let members: Vec<Member> = (0..CLIENTS)
        .map(|i| member(i, &proxy, &scope, &reports))
        .collect();
    let counts = WriteCounts::default();

    proxy.set_healthy(false);
    let deadline = Instant::now() + run_for;
    thread::scope(|s| {
        for (i, m) in members.iter().enumerate() {
            let writer = Writer {
                client: &m.client,
                number: i,
                ledger: &m.ledger,
                counts: &counts,
                app_logic: backend.has_app_logic(),
            };
            s.spawn(move || writer.run(Rng::derive(seed, 1000 + i as u64), deadline));
        }
    });
    proxy.set_healthy(true);
    let faults = proxy.counts();

    let converged = converge(&backend, &scope, &members);
    let queued: Vec<_> = members.iter().flat_map(|m| m.ledger.queued()).collect();
    let rejections = reports.rejections();
    eprintln!(
        "chaos: seed {seed}, {} s of writes by {CLIENTS} clients: {} write calls ({} queued, {} rejected by the server), faults: {faults}; other errors reported: {:?}; converged in {:?}",
        run_for.as_secs_f64(),
        counts.total(),
        queued.len(),
        rejections.len(),
        reports.others(),
        converged.as_ref().map_err(|_| "never")
    );
    if let Err(diff) = converged {
        panic!("seed {seed}: the clients did not converge within {CONVERGE:?}:\n{diff}");
    }
    assert!(
        faults.faults() > 0,
        "seed {seed}: no fault struck: {faults}"
    );

    let audit = Audit {
        queued: &queued,
        rejections: &rejections,
    };
    let mut problems = audit.check_log(&backend.change_log(&scope));
    if let Some(attempts) = backend.attempts() {
        problems.extend(audit.check_attempts(&attempts, &backend.snapshot(&scope)));
    }
    assert!(
        problems.is_empty(),
        "seed {seed}: exactly-once violated:\n{}",
        problems.join("\n")
    );
}
