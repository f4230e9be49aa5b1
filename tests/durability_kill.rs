//! Durability under SIGKILL: a child process writes through a `Client` with a SQLite store
//! while this process kills it at random moments (inside writes, pushes, pulls, snapshots, the
//! store's opening), restarts it on the same file, and checks that every write whose call
//! returned is visible after each restart and reaches the server exactly once, and that the
//! restarted client, a fresh client and the server agree at the end.
//!
//! The same runs against an encrypted store (SQLCipher) check the same, and that the file and
//! its WAL hold none of the written text.
//!
//! Each run draws a new kill schedule; its seed is printed, `MIZU_DURABILITY_SEED=N` replays
//! it, and `MIZU_DURABILITY_CYCLES=5000` runs a longer soak (default 200 cycles). Schedules
//! that once failed are replayed by a test of their own.

mod durability_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use durability_support::book::{Book, Phase, State, RECENT_ANSWER};
use durability_support::child::{self, ChildConfig};
use durability_support::cycle::{Collected, Running};
use durability_support::ledger::Ledger;
use durability_support::phase_proxy::{Op, PhaseProxy};
use durability_support::{cycles, seed, Line, Rng, MARKS, NOTES, REGRESSIONS, SEED_ENV, TODOS};
use mizu_sync::server::{Server, ServerHandle, ServerOptions};
use mizu_sync::{Client, Durability, Options};
use serde_json::{json, Value};

/// The name of the child's entry point, as the test harness knows it.
const CHILD_TEST: &str = "child_process_writes_until_killed";
/// Longest a child may take to open its store and start (a loaded machine, a debug build).
const START_LIMIT: Duration = Duration::from_secs(30);
/// Longest a targeted kill waits for its request.
const TARGET_LIMIT: Duration = Duration::from_secs(2);
/// Longest the final run may take.
const FINAL_LIMIT: Duration = Duration::from_secs(120);

/// The child's side; does nothing unless started by the kill test (which sets its environment).
#[test]
#[ignore = "the child process of the SIGKILL test, started by it"]
fn child_process_writes_until_killed() {
    match ChildConfig::from_env() {
        Some(config) => child::run(&config),
        None => eprintln!("{CHILD_TEST} is started by the SIGKILL durability test"),
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_and_reach_the_server_exactly_once() {
    survive_kills(seed(), cycles(), None, Durability::Full);
}

#[test]
fn acknowledged_writes_survive_sigkill_in_an_encrypted_store() {
    // A passphrase: each child's open derives the key (PBKDF2) first, and kills land there too.
    survive_kills(seed(), cycles(), Some(ENCRYPTION_KEY), Durability::Full);
}

/// `synchronous = NORMAL` skips the fsync of each commit, yet a process kill (the OS keeps the
/// written pages) must lose nothing whose call returned; each child also checks that SQLite
/// reports the file in NORMAL mode.
#[test]
fn acknowledged_writes_survive_sigkill_with_normal_durability() {
    survive_kills(seed(), cycles(), None, Durability::Normal);
}

/// Kill schedules that once failed, each run as far as its failure showed.
#[test]
fn kill_schedules_that_once_failed_pass() {
    for (seed, cycles) in REGRESSIONS {
        survive_kills(seed, cycles, None, Durability::Full);
    }
}

/// The passphrase of the encrypted runs.
const ENCRYPTION_KEY: &str = "durability passphrase";

/// Runs `cycles` kill cycles of the schedule `seed` (on a store encrypted with `key`, if
/// given), then the final run, and checks them.
fn survive_kills(seed: u64, cycles: u64, key: Option<&str>, durability: Durability) {
    let started = Instant::now();
    eprintln!(
        "durability: seed {seed} (replay with {SEED_ENV}={seed}), {cycles} kill cycles, \
         synchronous {durability}"
    );
    let ledger = Arc::new(Ledger::default());
    let server = Server::start(ServerOptions {
        apply: Some(ledger.apply_fn()),
        ..ServerOptions::default()
    })
    .expect("the reference server starts");
    let proxy = PhaseProxy::start(server.addr());
    let scope = format!("durability-{}-{seed}", std::process::id());
    let dir = std::env::temp_dir().join(format!("mizu-sync-{scope}"));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    let mut config = ChildConfig {
        base_url: proxy.base_url(),
        scope: scope.clone(),
        db: dir.join("client.db"),
        cycle: 0,
        seed: 0,
        expect: dir.join("expect.txt"),
        final_run: false,
        calm: false,
        key: key.map(str::to_owned),
        durability,
    };
    if key.is_some() {
        eprintln!("durability: the store is encrypted");
    }
    let mut rng = Rng::new(seed);
    let mut book = Book::default();

    for cycle in 1..=cycles {
        config.cycle = cycle;
        config.seed = rng.next_u64();
        kill_cycle(&server, &proxy, &mut config, &mut rng, &mut book);
        if cycle % 1000 == 0 {
            let secs = started.elapsed().as_secs();
            eprintln!(
                "durability: {cycle} cycles, {secs} s, {} problems",
                book.problems.len()
            );
        }
    }

    config.cycle = cycles + 1;
    config.final_run = true;
    book.write_expectations(&config.expect);
    let restarted = final_run(&config, &mut book);
    let fresh = fresh_client_state(&server.base_url(), &scope);
    let snapshot = server_snapshot(server.addr(), &scope);
    let mut verdict = book.verdict(
        &ledger.applications(),
        &ledger.unattributed(),
        &[
            ("the server's snapshot", &snapshot),
            ("the restarted client", &restarted),
            ("a fresh client", &fresh),
        ],
    );
    verdict.elapsed = started.elapsed();
    if key.is_some() {
        check_ciphertext_only(&config.db, &restarted, &mut book);
    }
    eprintln!(
        "durability: {cycles} kill cycles, {verdict}; kills by phase {:?}; {} trims; \
         {} targeted kills whose request did not come in time; requests {:?}; seed {seed}",
        book.kills,
        book.trims,
        book.targets_missed,
        proxy.requests()
    );
    if book.problems.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        book.problems.is_empty(),
        "{} problems (seed {seed}, store in {}); the first ones:\n{}",
        book.problems.len(),
        dir.display(),
        book.problems[..book.problems.len().min(40)].join("\n")
    );
    assert!(verdict.acked > 0, "the children acknowledged no write");
}

/// When a cycle kills its child.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// This long after the spawn: opening the store, restoring, the first requests.
    Early(Duration),
    /// This long after the child started writing; with a trim of the server log halfway.
    Writing { delay: Duration, trim_midway: bool },
    /// This long after a request of this kind was seen in flight.
    During(Op, Duration),
    /// This long after a response to a request of this kind was passed back complete.
    After(Op, Duration),
}

impl Plan {
    fn draw(rng: &mut Rng) -> Plan {
        let ms = |rng: &mut Rng, n| Duration::from_millis(rng.below(n));
        let op = |rng: &mut Rng| match rng.below(10) {
            0..=3 => Op::Push,
            4..=6 => Op::Pull,
            _ => Op::Snapshot,
        };
        match rng.below(100) {
            0..=19 => Plan::Early(ms(rng, 60)),
            20..=59 => Plan::Writing {
                delay: ms(rng, 150),
                trim_midway: rng.chance(15),
            },
            60..=84 => Plan::During(op(rng), ms(rng, 3)),
            _ => Plan::After(op(rng), ms(rng, 4)),
        }
    }

    /// Whether the child should leave the engine time to pull.
    fn wants_calm(self) -> bool {
        matches!(
            self,
            Plan::During(Op::Pull | Op::Snapshot, _) | Plan::After(Op::Pull | Op::Snapshot, _)
        )
    }

    fn wants_snapshot(self) -> bool {
        matches!(
            self,
            Plan::During(Op::Snapshot, _) | Plan::After(Op::Snapshot, _)
        )
    }
}

/// One run of the child, killed at a moment drawn from `rng`.
fn kill_cycle(
    server: &ServerHandle,
    proxy: &PhaseProxy,
    config: &mut ChildConfig,
    rng: &mut Rng,
    book: &mut Book,
) {
    let plan = Plan::draw(rng);
    config.calm = plan.wants_calm();
    // Another writer's change: pulls carry changes this client did not make, and a trim after
    // it leaves the child's cursor behind the log's tail.
    if plan.wants_snapshot() || rng.chance(30) {
        let note = push_note(server.addr(), &config.scope, config.cycle);
        book.notes.insert(note);
    }
    // A trimmed log answers the next pull with 410: the child must take a snapshot.
    if plan.wants_snapshot() || rng.chance(20) {
        trim(server, &config.scope, book);
    }
    book.write_expectations(&config.expect);
    let answered_before = match plan {
        Plan::After(op, _) => proxy.observe(|t| t.answered(op)),
        _ => 0,
    };
    let mut run = Running::spawn(CHILD_TEST, config);
    // A request awaited by a targeted plan may not come (nothing to push yet): kill anyway.
    let target_limit = run.spawned_at + TARGET_LIMIT;
    let deadline = match plan {
        Plan::Early(delay) => run.spawned_at + delay,
        Plan::Writing { delay, trim_midway } => {
            let start_limit = run.spawned_at + START_LIMIT;
            if run.collect_until(start_limit, |l| *l == Line::Started) != Collected::Hit {
                book.problem(format!("cycle {}: the child did not start", config.cycle));
            }
            if trim_midway {
                // Trim while the child runs: a pull in the middle of its writes gets 410.
                run.collect_until(Instant::now() + delay / 2, |_| false);
                trim(server, &config.scope, book);
            }
            Instant::now() + if trim_midway { delay / 2 } else { delay }
        }
        Plan::During(op, delay) => {
            if !proxy.wait_until(target_limit, |t| t.in_flight().contains(&op)) {
                book.targets_missed += 1;
            }
            Instant::now() + delay
        }
        Plan::After(op, delay) => {
            if !proxy.wait_until(target_limit, |t| t.answered(op) > answered_before) {
                book.targets_missed += 1;
            }
            Instant::now() + delay
        }
    };
    if run.collect_until(deadline, |_| false) == Collected::Closed {
        book.problem(format!(
            "cycle {}: the child exited by itself",
            config.cycle
        ));
    }
    run.collect_ready();
    let (in_flight, last_answer) = proxy.observe(|t| (t.in_flight(), t.last_answer()));
    let answered_recently =
        last_answer.is_some_and(|at| at >= run.spawned_at && at.elapsed() <= RECENT_ANSWER);
    let phases = Phase::of_kill(&run.seen, &in_flight, answered_recently);
    let lines = run.kill();
    book.kill_landed(&phases);
    book.absorb(config.cycle, &lines);
}

fn trim(server: &ServerHandle, scope: &str, book: &mut Book) {
    server.trim(scope).expect("the server trims its log");
    book.trims += 1;
}

/// The last run: no kill; the child flushes and reports what it sees.
fn final_run(config: &ChildConfig, book: &mut Book) -> State {
    let (status, lines) = Running::spawn(CHILD_TEST, config).finish(FINAL_LIMIT);
    book.absorb(config.cycle, &lines);
    if !status.is_some_and(|s| s.success()) || !lines.contains(&Line::Done) {
        book.problem(format!("the final run failed: status {status:?}"));
    }
    let mut state = State::new();
    for line in lines {
        match line {
            Line::Final { pending, .. } if pending > 0 => {
                book.problem(format!("the final run still has {pending} pending"));
            }
            Line::Entity {
                collection,
                id,
                value,
            } => {
                let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
                state.entry(collection).or_default().insert(id, value);
            }
            _ => {}
        }
    }
    state
}

/// Checks that the encrypted store file and its WAL show no written text: not SQLite's header,
/// not one entity id the final run reported (those of 6 bytes or more, like `t12-3#u`: shorter
/// ones could turn up in random bytes).
fn check_ciphertext_only(db: &std::path::Path, state: &State, book: &mut Book) {
    let ids: Vec<&String> = state
        .values()
        .flat_map(|entities| entities.keys())
        .filter(|id| id.len() >= 6)
        .collect();
    eprintln!(
        "durability: {} entity ids searched for in the encrypted files",
        ids.len()
    );
    for suffix in ["", "-wal"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.starts_with(b"SQLite format 3") {
            book.problem(format!("{} has a plain SQLite header", path.display()));
        }
        for id in &ids {
            if bytes.windows(id.len()).any(|w| w == id.as_bytes()) {
                book.problem(format!("{} holds {id:?} in clear", path.display()));
            }
        }
    }
}

/// What a new client (in memory) sees after bootstrapping and pulling to the head.
fn fresh_client_state(base_url: &str, scope: &str) -> State {
    let client = Client::new(Options::new(base_url).scope(scope)).expect("a fresh client opens");
    client.start().expect("a fresh client starts");
    client
        .flush(Duration::from_secs(30))
        .and_then(|()| client.sync())
        .expect("a fresh client syncs");
    let mut state = State::new();
    for collection in [TODOS, MARKS, NOTES] {
        let entries: BTreeMap<String, Value> = client
            .collection::<Value>(collection)
            .entries()
            .into_iter()
            .collect();
        if !entries.is_empty() {
            state.insert(collection.to_owned(), entries);
        }
    }
    state
}

/// The server's state of `scope`, from its snapshot endpoint.
fn server_snapshot(addr: SocketAddr, scope: &str) -> State {
    let reply = post(addr, "snapshot", &json!({ "scope": scope }));
    serde_json::from_value(reply["data"].clone()).unwrap_or_default()
}

/// Another writer creates note `n<cycle>` straight over HTTP; returns its id.
fn push_note(addr: SocketAddr, scope: &str, cycle: u64) -> String {
    let id = format!("n{cycle}");
    let mutation = json!({
        "id": format!("other-writer-{cycle}"),
        "scope": scope,
        "name": format!("{NOTES}.create"),
        "args": {"id": id, "data": {"cycle": cycle}},
    });
    let reply = post(addr, "push", &json!({ "mutations": [mutation] }));
    assert_eq!(reply["results"][0]["ok"], json!(true), "note {id}: {reply}");
    id
}

fn post(addr: SocketAddr, endpoint: &str, body: &Value) -> Value {
    let url = format!("http://{addr}/_sync/{endpoint}");
    let mut reply = ureq::post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let text = reply
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered {text:?}: {e}"))
}

/// The option is the file's mode as SQLite reports it (FULL by default), in memory there is no
/// file, and clearing the store (which recreates the file) keeps the mode.
#[test]
fn the_durability_option_is_the_store_files_synchronous_mode() {
    let dir =
        std::env::temp_dir().join(format!("mizu-sync-durability-mode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    let base = || Options::new("http://127.0.0.1:9/_sync").storage_path(dir.join("mode.db"));
    for (options, expected) in [
        (base(), Durability::Full),
        (base().durability(Durability::Normal), Durability::Normal),
        (base().durability(Durability::Full), Durability::Full),
    ] {
        let client = Client::new(options).expect("the client opens");
        assert_eq!(client.durability().unwrap(), Some(expected));
        client
            .clear(mizu_sync::ClearOptions::default())
            .expect("an idle store clears");
        assert_eq!(client.durability().unwrap(), Some(expected), "after clear");
        client.close();
        assert!(matches!(client.durability(), Err(mizu_sync::Error::Closed)));
    }
    let in_memory =
        Client::new(Options::new("http://127.0.0.1:9/_sync").durability(Durability::Normal))
            .expect("the client opens");
    assert_eq!(in_memory.durability().unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}
