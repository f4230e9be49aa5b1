//! Sync benchmarks of mizu-sync, each case next to its raw bound measured on the same machine in
//! the same run: `cargo bench -p mizu-sync-benches --bench sync` (`MIZU_BENCH_QUICK=1` shrinks
//! every size for a smoke run). Prints the machine, then the table
//! "case | ours | raw bound | ratio | goal | met?". Results: BENCHMARKS.md, section "Sync".

mod alloc;
mod awaited;
mod latency;
mod pull;
mod push;
mod records;
mod report;
mod snapshot;

use std::path::PathBuf;
use std::process::Command;

use mizu_sync::server::{Server, ServerOptions};
use mizu_sync::Durability;

use records::{push_bodies, Raw};
use report::{median, table, Row, Unit};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Sizes of one run.
struct Sizes {
    write_iterations: usize,
    sqlite_write_iterations: usize,
    push_queue: usize,
    push_runs: usize,
    pull_changes: usize,
    pull_runs: usize,
    snapshot_entities: usize,
    snapshot_runs: usize,
    bootstrap_entities: usize,
    backlog: usize,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                write_iterations: 300,
                sqlite_write_iterations: 50,
                push_queue: 2_000,
                push_runs: 1,
                pull_changes: 10_000,
                pull_runs: 1,
                snapshot_entities: 10_000,
                snapshot_runs: 1,
                bootstrap_entities: 50_000,
                backlog: 5_000,
            }
        } else {
            Sizes {
                write_iterations: 3_000,
                sqlite_write_iterations: 400,
                push_queue: 10_000,
                push_runs: 5,
                pull_changes: 100_000,
                pull_runs: 3,
                snapshot_entities: 100_000,
                snapshot_runs: 3,
                bootstrap_entities: 1_000_000,
                backlog: 50_000,
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--mizu-child") {
        let (mode, base, n) = (&args[at + 1], &args[at + 2], &args[at + 3]);
        snapshot::child(mode, base, n.parse().expect("entity count"));
        return;
    }
    let quick = std::env::var("MIZU_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let sizes = Sizes::new(quick);
    machine(quick);
    let dir = std::env::temp_dir().join(format!("mizu-syncbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    // MIZU_BENCH_ONLY=push,pull runs only those groups (for profiling one case).
    let only = std::env::var("MIZU_BENCH_ONLY").unwrap_or_default();
    let wanted = |group: &str| only.is_empty() || only.split(',').any(|g| g.trim() == group);
    let mut rows = Vec::new();
    if wanted("write") {
        write_cases(&sizes, &dir, &mut rows);
    }
    if wanted("awaited") {
        awaited_cases(&sizes, &dir, &mut rows);
    }
    if wanted("push") {
        push_cases(&sizes, &mut rows);
    }
    if wanted("pull") {
        pull_cases(&sizes, &dir, &mut rows);
    }
    if wanted("snapshot") {
        snapshot_cases(&sizes, &mut rows);
    }
    if wanted("bootstrap") {
        bootstrap_case(&sizes, &mut rows);
    }
    if wanted("backlog") {
        backlog_case(&sizes, &mut rows);
    }

    let _ = std::fs::remove_dir_all(&dir);
    println!("\nload at end: {}", uptime());
    println!("\n{}", table(&rows));
}

fn machine(quick: bool) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split(':')
                .nth(1)
                .map(str::trim)
                .map(String::from)
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "mode: {}",
        if quick {
            "quick (MIZU_BENCH_QUICK)"
        } else {
            "full"
        }
    );
    println!("cpu: {cpu}, {cores} cores; {rustc}");
    println!("load at start: {}", uptime());
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn write_cases(sizes: &Sizes, dir: &std::path::Path, rows: &mut Vec<Row>) {
    let server = Server::start(ServerOptions::default()).expect("server");
    let n = sizes.write_iterations;
    let (memory, _) =
        latency::write_to_effect(&server, None, n / 10, n, None, true, Durability::Full);
    let serde = latency::serde_bound(n);
    println!(
        "write→effect (memory): p50 {:.4} ms, p95 {:.4} ms, p99 {:.4} ms; serde_json p50 {:.4} ms",
        memory.median(),
        memory.quantile(0.95),
        memory.quantile(0.99),
        serde.median()
    );
    rows.push(
        Row::new(
            "write → effect, memory store, p50",
            Unit::Ms,
            memory.median(),
        )
        .raw(serde.median())
        .goal(0.3),
    );
    rows.push(
        Row::new(
            "write → effect, memory store, p95",
            Unit::Ms,
            memory.quantile(0.95),
        )
        .raw(serde.quantile(0.95)),
    );

    let n = sizes.sqlite_write_iterations;
    let db = dir.join("latency.db");
    let bare = dir.join("bare-full.db");
    let twin = latency::BareSqlite::open(&bare, "FULL");
    let (sqlite, full) = latency::write_to_effect(
        &server,
        Some(&db),
        n / 10,
        n,
        Some(&twin),
        true,
        Durability::Full,
    );
    remove_db(&db);
    let (offline, offline_twin) = latency::write_to_effect(
        &server,
        Some(&db),
        n / 10,
        n,
        Some(&twin),
        false,
        Durability::Full,
    );
    drop(twin);
    remove_db(&db);
    remove_db(&bare);
    println!(
        "write→effect (SQLite, engine stopped): p50 {:.3} ms, p95 {:.3} ms; bare twin p50 {:.3} ms",
        offline.median(),
        offline.quantile(0.95),
        offline_twin.median()
    );
    let bare = dir.join("bare-normal.db");
    let normal_twin = latency::BareSqlite::open(&bare, "NORMAL");
    let (with_normal, normal) = latency::write_to_effect(
        &server,
        Some(&db),
        n / 10,
        n,
        Some(&normal_twin),
        true,
        Durability::Normal,
    );
    drop(normal_twin);
    remove_db(&db);
    remove_db(&bare);
    println!(
        "write→effect (SQLite, synchronous=NORMAL): p50 {:.3} ms, p95 {:.3} ms; bare NORMAL twin p50 {:.3} ms",
        with_normal.median(),
        with_normal.quantile(0.95),
        normal.median()
    );
    println!("write→effect (SQLite): p50 {:.3} ms, p95 {:.3} ms; bare rusqlite FULL p50 {:.3} ms p95 {:.3} ms; NORMAL p50 {:.3} ms",
        sqlite.median(), sqlite.quantile(0.95), full.median(), full.quantile(0.95), normal.median());
    rows.push(
        Row::new(
            "write → effect, SQLite store (FULL), p50",
            Unit::Ms,
            sqlite.median(),
        )
        .raw(full.median())
        .within(1.05),
    );
    rows.push(
        Row::new(
            "write → effect, SQLite store, Durability::Normal, p50",
            Unit::Ms,
            with_normal.median(),
        )
        .raw(normal.median())
        .goal(0.3),
    );
    rows.push(
        Row::new(
            "write → effect, SQLite store, p95",
            Unit::Ms,
            sqlite.quantile(0.95),
        )
        .raw(full.quantile(0.95)),
    );
    rows.push(
        Row::new(
            "(info) write → effect, SQLite store, engine stopped, p50",
            Unit::Ms,
            offline.median(),
        )
        .raw(offline_twin.median()),
    );
    rows.push(
        Row::new(
            "(info) bare SQLite insert, synchronous=NORMAL, p50",
            Unit::Ms,
            normal.median(),
        )
        .raw(full.median()),
    );
}

fn awaited_cases(sizes: &Sizes, dir: &std::path::Path, rows: &mut Vec<Row>) {
    let n = sizes.sqlite_write_iterations;
    let _ = awaited::caller_times(dir, n / 10);
    let t = awaited::caller_times(dir, n);
    println!(
        "caller's time per SQLite write: set p50 {:.3} ms; set_async p50 {:.4} ms p95 {:.4} ms \
         (end to end p50 {:.3} ms); bare rusqlite FULL p50 {:.3} ms; channel handoff p50 {:.4} ms",
        t.blocking.median(),
        t.awaited_caller.median(),
        t.awaited_caller.quantile(0.95),
        t.awaited_end_to_end.median(),
        t.peer.median(),
        t.handoff.median()
    );
    rows.push(
        Row::new(
            "caller's time, awaited SQLite write (set_async), p50",
            Unit::Ms,
            t.awaited_caller.median(),
        )
        .raw(t.handoff.median()),
    );
    rows.push(
        Row::new(
            "caller's time, awaited SQLite write (set_async), p95",
            Unit::Ms,
            t.awaited_caller.quantile(0.95),
        )
        .raw(t.handoff.quantile(0.95)),
    );
    rows.push(
        Row::new(
            "(peer) caller's time, bare rusqlite insert + commit (FULL), p50",
            Unit::Ms,
            t.peer.median(),
        )
        .raw(t.handoff.median()),
    );
    rows.push(
        Row::new(
            "(info) caller's time, blocking write (set), p50",
            Unit::Ms,
            t.blocking.median(),
        )
        .raw(t.peer.median()),
    );
    rows.push(
        Row::new(
            "(info) awaited write, call to durable, p50",
            Unit::Ms,
            t.awaited_end_to_end.median(),
        )
        .raw(t.peer.median()),
    );
}

fn push_cases(sizes: &Sizes, rows: &mut Vec<Row>) {
    let n = sizes.push_queue;
    // Warm-up: one small drain and one small raw run.
    let _ = push::paused_queue(n / 10);
    let _ = push::raw_bound(n / 10, 0);
    let (mut acked, mut flushed, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..sizes.push_runs {
        let drain = push::paused_queue(n);
        acked.push(drain.acked_per_sec);
        flushed.push(drain.flushed_per_sec);
        raw.push(push::raw_bound(n, run + 1));
        println!(
            "push {n}: acked {:.0}/s, flushed {:.0}/s, raw {:.0}/s",
            drain.acked_per_sec, drain.flushed_per_sec, raw[run]
        );
    }
    let raw = median(&raw);
    rows.push(
        Row::new(
            format!("push {n} queued, batches of 100: acked"),
            Unit::PerSec,
            median(&acked),
        )
        .raw(raw)
        .goal(60_000.0)
        .within(1.1),
    );
    rows.push(
        Row::new(
            format!("push {n} queued: acked + pulled back (flush)"),
            Unit::PerSec,
            median(&flushed),
        )
        .raw(raw),
    );
}

fn pull_cases(sizes: &Sizes, dir: &std::path::Path, rows: &mut Vec<Row>) {
    let n = sizes.pull_changes;
    let _ = pull::pull(n / 10, None);
    for (label, sqlite) in [("memory", false), ("SQLite", true)] {
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for run in 0..sizes.pull_runs {
            let db = dir.join(format!("pull-{run}.db"));
            let (o, r) = pull::pull(n, sqlite.then_some(db.as_path()));
            remove_db(&db);
            println!("pull {n} ({label}): ours {o:.0}/s, raw {r:.0}/s");
            ours.push(o);
            raw.push(r);
        }
        rows.push(
            Row::new(
                format!("pull + apply {n} changes, pages of 1,000, {label} store"),
                Unit::PerSec,
                median(&ours),
            )
            .raw(median(&raw))
            .goal(150_000.0)
            .within(1.1),
        );
    }
}

fn snapshot_cases(sizes: &Sizes, rows: &mut Vec<Row>) {
    let n = sizes.snapshot_entities;
    let server = Server::start(ServerOptions::default()).expect("server");
    let raw = Raw::new(&server.base_url());
    raw.push_all(&push_bodies(snapshot::SCOPE, "snap", n, 100));
    let base = server.base_url();
    let (mut ours, mut bound, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let _ = snapshot::in_child("ours", &base, n);
    for _ in 0..sizes.snapshot_runs {
        let o = snapshot::in_child("ours", &base, n);
        let r = snapshot::in_child("raw", &base, n);
        let w = snapshot::in_child("raw-whole", &base, n);
        println!(
            "snapshot {n}: ours {o:?}\n              raw {r:?}\n              raw-whole {w:?}"
        );
        ours.push(o);
        bound.push(r);
        whole.push(w);
    }
    let pick = |v: &[snapshot::Measured], f: fn(&snapshot::Measured) -> f64| {
        median(&v.iter().map(f).collect::<Vec<_>>())
    };
    const MIB: f64 = 1024.0 * 1024.0;
    rows.push(
        Row::new(
            format!("snapshot {n} entities → queryable"),
            Unit::Secs,
            pick(&ours, |m| m.secs),
        )
        .raw(pick(&bound, |m| m.secs))
        .goal(0.7)
        .within(1.1),
    );
    rows.push(
        Row::new(
            "  the same against the body read whole, then parsed from the slice",
            Unit::Secs,
            pick(&ours, |m| m.secs),
        )
        .raw(pick(&whole, |m| m.secs)),
    );
    rows.push(
        Row::new(
            "  peak RSS of the process (VmHWM)",
            Unit::MiB,
            pick(&ours, |m| m.hwm as f64 / MIB),
        )
        .raw(pick(&bound, |m| m.hwm as f64 / MIB)),
    );
    rows.push(
        Row::new(
            "  peak heap during the load",
            Unit::MiB,
            pick(&ours, |m| m.heap_peak as f64 / MIB),
        )
        .raw(pick(&bound, |m| m.heap_peak as f64 / MIB)),
    );
    rows.push(
        Row::new(
            "steady memory per entity (live heap)",
            Unit::Bytes,
            pick(&ours, |m| m.heap_per_entity),
        )
        .raw(pick(&bound, |m| m.heap_per_entity))
        .goal(600.0),
    );
    rows.push(
        Row::new(
            "  steady memory per entity (RSS delta)",
            Unit::Bytes,
            pick(&ours, |m| m.rss_per_entity),
        )
        .raw(pick(&bound, |m| m.rss_per_entity)),
    );
}

/// The big bootstrap: `bootstrap_entities` through the reference server (in this process) into a
/// new SQLite store (in a child process, so its RSS is its own): time vs the streaming raw
/// bound, and the peak RSS during the bootstrap vs the steady RSS after it (goal: at most 64 MiB
/// above).
fn bootstrap_case(sizes: &Sizes, rows: &mut Vec<Row>) {
    let n = sizes.bootstrap_entities;
    let server = Server::start(ServerOptions::default()).expect("server");
    let raw = Raw::new(&server.base_url());
    let seeding = std::time::Instant::now();
    raw.push_all(&push_bodies(snapshot::SCOPE, "snap", n, 100));
    println!("bootstrap {n}: seeded in {:?}", seeding.elapsed());
    let base = server.base_url();
    // The server's first snapshot of a fresh scope also pays for memory the process has not
    // touched yet (page faults of its first 1M-entity tree): one untimed fetch first. Then the
    // faster of two runs each, alternated, so both meet the same server.
    let warm = snapshot::in_child("raw", &base, n);
    println!("bootstrap {n}: server warm-up fetch {:.3} s", warm.secs);
    let (mut ours, mut raws) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        raws.push(snapshot::in_child("raw", &base, n));
        ours.push(snapshot::in_child("ours-sqlite", &base, n));
    }
    for (o, r) in ours.iter().zip(&raws) {
        println!("bootstrap {n}: ours {o:?}\n              raw {r:?}");
    }
    let fastest = |runs: Vec<snapshot::Measured>| {
        runs.into_iter()
            .min_by(|a, b| a.secs.total_cmp(&b.secs))
            .expect("two runs")
    };
    let (o, r) = (fastest(ours), fastest(raws));
    const MIB: f64 = 1024.0 * 1024.0;
    rows.push(
        Row::new(
            format!("bootstrap {n} entities, SQLite store → queryable"),
            Unit::Secs,
            o.secs,
        )
        .raw(r.secs)
        .within(1.3),
    );
    rows.push(
        Row::new(
            "  peak RSS during the bootstrap (VmHWM; raw: its steady RSS + 64 MiB goal)",
            Unit::MiB,
            o.hwm as f64 / MIB,
        )
        .raw(o.rss_after as f64 / MIB)
        .goal(o.rss_after as f64 / MIB + 64.0),
    );
    rows.push(Row::new(
        "  raw bound's peak RSS (VmHWM)",
        Unit::MiB,
        r.hwm as f64 / MIB,
    ));
}

fn backlog_case(sizes: &Sizes, rows: &mut Vec<Row>) {
    let n = sizes.backlog;
    let drain = push::offline_backlog(n);
    let raw = push::raw_bound(n, 99);
    println!(
        "backlog {n}: offline writes {:.0}/s, acked {:.0}/s, flushed {:.0}/s, raw {raw:.0}/s",
        drain.writes_per_sec, drain.acked_per_sec, drain.flushed_per_sec
    );
    rows.push(
        Row::new(
            format!("offline backlog {n} after reconnect: acked"),
            Unit::PerSec,
            drain.acked_per_sec,
        )
        .raw(raw),
    );
    rows.push(
        Row::new(
            format!("  time to acked ({n})"),
            Unit::Secs,
            n as f64 / drain.acked_per_sec,
        )
        .raw(n as f64 / raw),
    );
    rows.push(
        Row::new(
            "  acked + pulled back (flush)",
            Unit::PerSec,
            drain.flushed_per_sec,
        )
        .raw(raw),
    );
    rows.push(Row::new(
        "  (info) offline local writes while queueing",
        Unit::PerSec,
        drain.writes_per_sec,
    ));
}
