//! Concurrency: eight threads write to one client's collection (ids of their own and ids they
//! share) while its engine syncs (live and polling), computeds and effects read (`count`,
//! `find`, single entities) and check invariants, and a second client writes and syncs the
//! same scope; one thread per client calls `sync()` over and over. A watchdog fails the test
//! with the phase it is stuck in when progress stops (a deadlock). Afterwards, the last write
//! to each id wins on the server and in both clients, and the effects saw the final values (no
//! lost wake-up).
//!
//! `MIZU_CONCURRENCY_SECS` sets how long the writers run (default 4 s); the seed is printed and
//! `MIZU_CHAOS_SEED` replays the writers' choices. Runs against the reference server, or the
//! real mizu server with `MIZU_SYNC_TEST_SERVER=mizu`.

#![cfg(feature = "server")]

mod chaos_support;
mod client_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chaos_support::env_secs;
use chaos_support::ledger::Reports;
use chaos_support::watchdog::{watchdog, Progress};
use client_support::{options, scope, temp_db, wait_until, TestServer};
use mizu_sync::reactive::{Computed, Effect};
use mizu_sync::{Client, Collection};
use mizu_test_support::rng::{self, Rng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const WRITERS: usize = 8;
const OWN_IDS: usize = 4;
const SHARED_IDS: u64 = 6;
const B_WRITERS: usize = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    id: String,
    writer: String,
    seq: u64,
}

/// The last thing one writer did to each id: `Some(seq)` written, `None` deleted.
type LastWrites = BTreeMap<String, Option<u64>>;

fn write_loop(
    items: &Collection<Item>,
    writer: &str,
    own: &[String],
    shared: bool,
    mut rng: Rng,
    stop: &AtomicBool,
    progress: &Progress,
) -> LastWrites {
    let mut last = LastWrites::new();
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let (id, delete) = if shared && rng.chance(40) {
            (format!("shared-{}", rng.below(SHARED_IDS)), rng.chance(30))
        } else {
            (own[rng.below(own.len() as u64) as usize].clone(), false)
        };
        let entity = items.get(id.clone());
        if delete {
            entity.delete().expect("a delete is recorded");
            last.insert(id, None);
        } else {
            let item = Item {
                id: id.clone(),
                writer: writer.to_owned(),
                seq,
            };
            entity.set(item).expect("a write is recorded");
            last.insert(id, Some(seq));
        }
        progress.writes.fetch_add(1, Ordering::Relaxed);
        progress.tick();
        thread::sleep(Duration::from_micros(rng.between(0, 2000)));
    }
    last
}

/// Watches entity `id` (written only by one writer, seq increasing): its visible seq must never
/// go back. Returns the effect and the last seq it saw.
fn monotonic_watch(
    items: &Collection<Item>,
    id: &str,
    violations: &Arc<Mutex<Vec<String>>>,
) -> (Effect, Arc<AtomicU64>) {
    let seen = Arc::new(AtomicU64::new(0));
    let (entity, seen2, violations) = (items.get(id), seen.clone(), violations.clone());
    let id = id.to_owned();
    let effect = Effect::new(move || {
        let floor = seen2.load(Ordering::SeqCst);
        let seq = entity.get().map_or(0, |item| item.seq);
        if seq < floor {
            violations
                .lock()
                .unwrap()
                .push(format!("{id} went back from seq {floor} to {seq}"));
        }
        seen2.fetch_max(seq, Ordering::SeqCst);
    });
    (effect, seen)
}

fn snapshot_of(client: &Client) -> Value {
    let items: BTreeMap<String, Item> = client
        .collection::<Item>("item")
        .entries()
        .into_iter()
        .collect();
    if items.is_empty() {
        json!({})
    } else {
        json!({ "item": items })
    }
}

#[test]
fn eight_writers_syncing_readers_and_a_second_client_lose_no_update_and_never_deadlock() {
    let seed = rng::seed("concurrency", "MIZU_CHAOS_SEED");
    let run_for = env_secs("MIZU_CONCURRENCY_SECS", 4.0);
    watchdog(run_for + Duration::from_secs(120), move |progress| {
        run(seed, run_for, progress)
    });
}

fn run(seed: u64, run_for: Duration, watched: Arc<Progress>) {
    let progress: &Progress = &watched;
    progress.enter("starting");
    let server = TestServer::start();
    let scope = scope("concurrency");
    let reports = Arc::new(Reports::default());
    let client = |durable: bool| {
        let mut o = options(&server.base_url(), &scope)
            .live_url(server.ws_url(&scope))
            .push_interval(Duration::from_millis(50))
            .pull_interval(Duration::from_millis(100))
            .on_error(reports.callback());
        if durable {
            o = o.storage_path(temp_db("concurrency"));
        }
        client_support::started(o)
    };
    let (a, b) = (client(true), client(false));
    // The engines' own progress: every step that changes a status (a push acknowledged, a
    // pull applied) counts, so a long drain is not taken for a deadlock.
    let engine_progress: Vec<Effect> = [&a, &b]
        .into_iter()
        .map(|c| {
            let (status, progress) = (c.status(), watched.clone());
            Effect::new(move || {
                status.get();
                progress.tick();
            })
        })
        .collect();
    let (items_a, items_b) = (a.collection::<Item>("item"), b.collection::<Item>("item"));

    // Readers on A: a computed over count() and find(), an effect checking it, and one
    // monotonicity watch per writer.
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    let stats = {
        let items = items_a.clone();
        Computed::new(move || {
            let evens = items.find(|item| item.seq % 2 == 0);
            let mut bad = Vec::new();
            for entity in &evens {
                if let Some(item) = entity.get() {
                    if item.id != entity.id() {
                        bad.push(format!("{} holds the value of {}", entity.id(), item.id));
                    }
                }
            }
            (items.count(), evens.len(), bad)
        })
    };
    let effect_runs = Arc::new(AtomicU64::new(0));
    let last_stats = Arc::new(Mutex::new((0usize, 0usize)));
    let stats_effect = {
        let (stats, runs, last, violations) = (
            stats.clone(),
            effect_runs.clone(),
            last_stats.clone(),
            violations.clone(),
        );
        let limit = WRITERS * OWN_IDS + SHARED_IDS as usize + B_WRITERS * OWN_IDS;
        Effect::new(move || {
            let (count, evens, bad) = stats.get();
            runs.fetch_add(1, Ordering::Relaxed);
            let mut v = violations.lock().unwrap();
            v.extend(bad);
            if count > limit {
                v.push(format!(
                    "count {count} exceeds the {limit} ids ever written"
                ));
            }
            *last.lock().unwrap() = (count, evens);
        })
    };
    let watches: Vec<_> = (0..WRITERS)
        .map(|w| monotonic_watch(&items_a, &format!("a{w}-0"), &violations))
        .collect();
    let b_count_seen = Arc::new(AtomicU64::new(0));
    let b_effect = {
        let (items, seen) = (items_b.clone(), b_count_seen.clone());
        Effect::new(move || seen.store(items.count() as u64, Ordering::SeqCst))
    };

    progress.enter("writing");
    let stop = AtomicBool::new(false);
    let syncs = AtomicU64::new(0);
    let longest_sync = Mutex::new(Duration::ZERO);
    let (last_a, last_b) = thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (items, stop) = (&items_a, &stop);
                s.spawn(move || {
                    let own: Vec<String> = (0..OWN_IDS).map(|k| format!("a{w}-{k}")).collect();
                    let rng = Rng::derive(seed, w as u64);
                    (
                        format!("a{w}"),
                        write_loop(items, &format!("a{w}"), &own, true, rng, stop, progress),
                    )
                })
            })
            .collect();
        let b_writers: Vec<_> = (0..B_WRITERS)
            .map(|w| {
                let (items, stop) = (&items_b, &stop);
                s.spawn(move || {
                    let own: Vec<String> = (0..OWN_IDS).map(|k| format!("b{w}-{k}")).collect();
                    let rng = Rng::derive(seed, 100 + w as u64);
                    (
                        format!("b{w}"),
                        write_loop(items, &format!("b{w}"), &own, false, rng, stop, progress),
                    )
                })
            })
            .collect();
        for c in [&a, &b] {
            let (stop, syncs, longest_sync) = (&stop, &syncs, &longest_sync);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Errors are possible (a request timing out on a loaded machine); the
                    // final flush checks that everything arrived.
                    let started = Instant::now();
                    let _ = c.sync();
                    let took = started.elapsed();
                    let mut longest = longest_sync.lock().unwrap();
                    *longest = (*longest).max(took);
                    syncs.fetch_add(1, Ordering::Relaxed);
                    progress.tick();
                }
            });
        }
        thread::sleep(run_for);
        stop.store(true, Ordering::Relaxed);
        let join = |hs: Vec<thread::ScopedJoinHandle<'_, (String, LastWrites)>>| {
            hs.into_iter()
                .map(|h| h.join().expect("a writer finishes"))
                .collect::<Vec<_>>()
        };
        (join(writers), join(b_writers))
    });
    let writes = progress.writes.load(Ordering::Relaxed);

    // What A shows now is the last write of each id (its own pending writes on top).
    progress.enter("checking the last writes locally");
    let local = snapshot_of(&a);
    for (writer, last) in &last_a {
        for (id, seq) in last.iter().filter(|(id, _)| !id.starts_with("shared")) {
            let shown = local["item"][id]["seq"].as_u64();
            assert_eq!(
                shown, *seq,
                "A shows {id} at {shown:?}, but {writer} last wrote {seq:?}"
            );
        }
    }
    for k in 0..SHARED_IDS {
        let id = format!("shared-{k}");
        let shown = &local["item"][&id];
        let candidates: Vec<Value> = last_a
            .iter()
            .filter_map(|(writer, last)| {
                last.get(&id).map(|seq| match seq {
                    Some(seq) => json!({"id": id, "writer": writer, "seq": seq}),
                    None => Value::Null,
                })
            })
            .collect();
        assert!(
            candidates.is_empty() && shown.is_null() || candidates.contains(shown),
            "A shows {id} as {shown}, which is none of the writers' last writes {candidates:?}"
        );
    }

    progress.enter("flushing");
    let flushing = Instant::now();
    a.flush(Duration::from_secs(30)).expect("A flushes");
    b.flush(Duration::from_secs(30)).expect("B flushes");
    let flushed_in = flushing.elapsed();
    progress.enter("converging");
    let expected_b: BTreeMap<String, u64> = last_b
        .iter()
        .flat_map(|(_, last)| {
            last.iter()
                .filter_map(|(id, seq)| Some((id.clone(), (*seq)?)))
        })
        .collect();
    wait_until("both clients show the server's state", || {
        progress.tick();
        let (_, _) = (a.sync(), b.sync());
        let server_state = server.snapshot(&scope);
        server_state == snapshot_of(&a) && server_state == snapshot_of(&b)
    });
    let final_state = server.snapshot(&scope);
    for (id, value) in local["item"].as_object().into_iter().flatten() {
        if !id.starts_with('b') {
            assert_eq!(
                &final_state["item"][id], value,
                "the server lost the last write of {id}"
            );
        }
    }
    for (id, seq) in &expected_b {
        assert_eq!(
            final_state["item"][id]["seq"].as_u64(),
            Some(*seq),
            "the server lost B's last write of {id}"
        );
    }
    let a_ids = local["item"]
        .as_object()
        .map_or(0, |o| o.keys().filter(|id| !id.starts_with('b')).count());
    assert_eq!(
        final_state["item"].as_object().map_or(0, |o| o.len()),
        a_ids + expected_b.len(),
        "the server holds ids whose last write was a delete"
    );

    progress.enter("checking the readers");
    let now = stats.get();
    assert_eq!(
        *last_stats.lock().unwrap(),
        (now.0, now.1),
        "the stats effect missed the last change"
    );
    for (w, (_, seen)) in watches.iter().enumerate() {
        let id = format!("a{w}-0");
        let value = final_state["item"][&id]["seq"].as_u64().unwrap_or(0);
        assert_eq!(
            seen.load(Ordering::SeqCst),
            value,
            "the watch of {id} missed its last value"
        );
    }
    assert_eq!(
        b_count_seen.load(Ordering::SeqCst),
        items_b.count() as u64,
        "B's count effect missed a change"
    );
    let violations = violations.lock().unwrap().clone();
    assert!(
        violations.is_empty(),
        "seed {seed}: invariants broken:\n{}",
        violations.join("\n")
    );
    let rejections = reports.rejections();
    assert!(
        rejections.is_empty(),
        "seed {seed}: the server rejected {} writes, e.g. {:?}",
        rejections.len(),
        &rejections[..rejections.len().min(5)]
    );
    eprintln!(
        "concurrency: seed {seed}, {} s: {writes} writes by {} threads on 2 clients, {} sync() calls (longest {:?}), {} stats effect runs, flushed in {flushed_in:?}, {} ids in the end",
        run_for.as_secs_f64(),
        WRITERS + B_WRITERS,
        syncs.load(Ordering::Relaxed),
        *longest_sync.lock().unwrap(),
        effect_runs.load(Ordering::Relaxed),
        final_state["item"].as_object().map_or(0, |o| o.len())
    );
    drop((stats_effect, b_effect, watches, engine_progress));
    progress.enter("done");
}
