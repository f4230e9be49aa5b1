//! Live-query benchmark: `cargo bench -p mizu-sync-benches --bench query`
//! (`MIZU_BENCH_QUICK=1` for a smoke run). Results: BENCHMARKS.md, section "Queries".
//!
//! The sync benchmark's todo record in a collection of N (100,000, then 1,000), memory store;
//! the query `completed == false`, ordered by `due` descending, limit 50, with a subscriber that
//! applies every diff. Measured in one run, side by side:
//! - ours: the live query (first evaluation, then per write the time until the subscriber has
//!   applied the diff: the subscriber runs inside the write, so it is the write's duration);
//! - peer (a): SQLite through rusqlite (in memory) holding the same JSON with an expression index
//!   on `(completed, due)`, the write followed by re-running the query, as PowerSync's watched
//!   queries do;
//! - peer (b): a from-scratch evaluation after each write (decode every value, filter, sort, take
//!   50), which is what `Collection::find` does;
//! - raw bound: the same write with no query at all.

#[allow(dead_code)]
#[path = "../sync/alloc.rs"]
mod alloc;
#[allow(dead_code)]
#[path = "../sync/records.rs"]
mod records;
#[allow(dead_code)]
#[path = "../sync/report.rs"]
mod report;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mizu_sync::query::{apply_diff, field, Order, QueryEvent};
use mizu_sync::{Client, Collection, Options};
use mizu_test_support::Rng;
use rusqlite::{params, Connection};

use records::{todo, Todo};
use report::{table, Row, Samples, Unit};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const LIMIT: usize = 50;

/// A seeded sequence choosing which todo each write changes.
struct Picks(Rng);

impl Picks {
    fn new(seed: u64) -> Picks {
        Picks(Rng::new(seed))
    }

    fn next(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

/// The `k`th write: half of them move a todo into the top of the result (a due date later than
/// any), the other half give a random todo another ordinary due date and completion.
fn write_value(k: usize, i: usize) -> Todo {
    let mut t = todo(i);
    if k.is_multiple_of(2) {
        t.completed = false;
        t.due = format!("2027-{:02}-{:02}", 1 + (k / 28) % 12, 1 + k % 28);
    } else {
        t.completed = k.is_multiple_of(3);
        t.due = format!("2026-{:02}-{:02}", 1 + k % 12, 1 + (k * 7) % 28);
    }
    t
}

fn collection(n: usize) -> (Client, Collection<Todo>) {
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync")).expect("client");
    let todos = client.collection::<Todo>(records::COLLECTION);
    for i in 0..n {
        todos
            .create(format!("todo-{i:06}"), todo(i))
            .expect("create");
    }
    (client, todos)
}

struct Ours {
    first_eval_ms: f64,
    first_eval_indexed_ms: f64,
    write: Samples,
    diffs: usize,
    index_bytes_per_entity: f64,
    index_alloc_per_entity: f64,
}

fn ours(n: usize, writes: usize) -> Ours {
    let (client, todos) = collection(n);
    let open = || {
        todos
            .query()
            .filter(field("completed").eq(false))
            .order_by("due", Order::Desc)
            .limit(LIMIT)
    };
    // First evaluation without an index, then (a new query) with one on the first sort key.
    let started = Instant::now();
    let q = open();
    q.count().expect("count");
    let first_eval_ms = started.elapsed().as_secs_f64() * 1000.0;
    drop(q);
    let live_before = alloc::live();
    todos.ensure_index("due").expect("index");
    let index_alloc_per_entity = (alloc::live() - live_before) as f64 / n as f64;
    let (entries, bytes) = todos.index_stats("due").expect("index stats");
    let index_bytes_per_entity = bytes as f64 / entries as f64;
    // An index on the equality filter's field too: the first evaluation then reads only the
    // open todos' values.
    todos.ensure_index("completed").expect("index");
    let q = open().offset(0); // a different spec value: evaluated afresh, from the index
    let started = Instant::now();
    q.count().expect("count");
    let first_eval_indexed_ms = started.elapsed().as_secs_f64() * 1000.0;

    let rows: Arc<Mutex<Vec<(String, Todo)>>> = Arc::default();
    let diffs = Arc::new(Mutex::new(0usize));
    let (r, d) = (rows.clone(), diffs.clone());
    let _sub = q
        .subscribe(move |event| match event.expect("decodes") {
            QueryEvent::Result(all) => *r.lock().unwrap() = all,
            QueryEvent::Diff(ops) => {
                apply_diff(&mut r.lock().unwrap(), &ops);
                *d.lock().unwrap() += 1;
            }
        })
        .expect("subscribe");
    let write = timed_writes(&todos, n, writes);
    assert_eq!(
        *rows.lock().unwrap(),
        q.get().expect("get"),
        "diffs replay the result"
    );
    let diffs = *diffs.lock().unwrap();
    drop(client);
    Ours {
        first_eval_ms,
        first_eval_indexed_ms,
        write,
        diffs,
        index_bytes_per_entity,
        index_alloc_per_entity,
    }
}

/// The same writes with no query: the raw bound of a write.
fn bare_writes(n: usize, writes: usize) -> Samples {
    let (_client, todos) = collection(n);
    timed_writes(&todos, n, writes)
}

/// `writes` timed `Entity::set` calls on the todos `Picks(42)` chooses.
fn timed_writes(todos: &Collection<Todo>, n: usize, writes: usize) -> Samples {
    let mut picks = Picks::new(42);
    let mut samples = Samples::default();
    for k in 0..writes {
        let i = picks.next(n);
        let value = write_value(k, i);
        let entity = todos.get(format!("todo-{i:06}"));
        let started = Instant::now();
        entity.set(value).expect("set");
        samples.push(started.elapsed());
    }
    samples
}

/// Peer (a): SQLite with an expression index (on the filter and sort fields), re-running the query after each write.
fn sqlite(n: usize, writes: usize) -> (f64, Samples) {
    let db = Connection::open_in_memory().expect("sqlite");
    db.execute_batch(
        "CREATE TABLE todo (id TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE INDEX todo_open_due ON todo (json_extract(value, '$.completed'),
                                             json_extract(value, '$.due') DESC, id);",
    )
    .expect("schema");
    {
        let tx = db.unchecked_transaction().expect("tx");
        let mut insert = tx
            .prepare("INSERT INTO todo VALUES (?1, ?2)")
            .expect("insert");
        for i in 0..n {
            let value = serde_json::to_string(&todo(i)).expect("json");
            insert
                .execute(params![format!("todo-{i:06}"), value])
                .expect("row");
        }
        drop(insert);
        tx.commit().expect("commit");
    }
    let query = "SELECT id, value FROM todo WHERE json_extract(value, '$.completed') = 0
                 ORDER BY json_extract(value, '$.due') DESC, id LIMIT 50";
    let run = |db: &Connection| -> Vec<(String, Todo)> {
        let mut stmt = db.prepare_cached(query).expect("query");
        let rows = stmt
            .query_map([], |row| {
                let value: String = row.get(1)?;
                Ok((row.get(0)?, serde_json::from_str(&value).expect("todo")))
            })
            .expect("rows");
        rows.map(|r| r.expect("row")).collect()
    };
    let started = Instant::now();
    assert_eq!(run(&db).len(), LIMIT);
    let first = started.elapsed().as_secs_f64() * 1000.0;
    let mut picks = Picks::new(42);
    let mut samples = Samples::default();
    let mut update = db
        .prepare_cached("UPDATE todo SET value = ?2 WHERE id = ?1")
        .expect("update");
    for k in 0..writes {
        let i = picks.next(n);
        let value = serde_json::to_string(&write_value(k, i)).expect("json");
        let started = Instant::now();
        update
            .execute(params![format!("todo-{i:06}"), value])
            .expect("update");
        let result = run(&db);
        samples.push(started.elapsed());
        assert_eq!(result.len(), LIMIT);
    }
    (first, samples)
}

/// Peer (b): a from-scratch evaluation after each write.
fn from_scratch(n: usize, writes: usize) -> (f64, Samples) {
    let (_client, todos) = collection(n);
    let evaluate = |todos: &Collection<Todo>| {
        let mut open: Vec<(String, Todo)> = todos
            .entries()
            .into_iter()
            .filter(|(_, t)| !t.completed)
            .collect();
        open.sort_by(|a, b| b.1.due.cmp(&a.1.due).then_with(|| a.0.cmp(&b.0)));
        open.truncate(LIMIT);
        open
    };
    let started = Instant::now();
    assert_eq!(evaluate(&todos).len(), LIMIT);
    let first = started.elapsed().as_secs_f64() * 1000.0;
    let mut picks = Picks::new(42);
    let mut samples = Samples::default();
    for k in 0..writes {
        let i = picks.next(n);
        let entity = todos.get(format!("todo-{i:06}"));
        let value = write_value(k, i);
        let started = Instant::now();
        entity.set(value).expect("set");
        let result = evaluate(&todos);
        samples.push(started.elapsed());
        assert_eq!(result.len(), LIMIT);
    }
    (first, samples)
}

fn main() {
    let quick = std::env::var("MIZU_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let (big, writes, sqlite_writes, scratch_writes) = if quick {
        (20_000, 2_000, 300, 10)
    } else {
        (100_000, 10_000, 2_000, 30)
    };
    let small = 1_000;
    println!(
        "query benchmark ({}): completed == false, order by due desc, limit {LIMIT}",
        if quick { "quick" } else { "full" }
    );
    let mut rows = Vec::new();
    let mut per_write = Vec::new();
    for n in [big, small] {
        let started = Instant::now();
        let ours = ours(n, writes);
        let bare = bare_writes(n, writes);
        let (sqlite_first, sqlite_writes) = sqlite(n, sqlite_writes);
        let (scratch_first, scratch) = from_scratch(
            n,
            scratch_writes.min(if n == small { 1_000 } else { scratch_writes }),
        );
        let p50 = ours.write.quantile(0.5);
        per_write.push(p50);
        println!(
            "n = {n}: {} writes, {} diffs delivered; peers measured in {:.1} s",
            writes,
            ours.diffs,
            started.elapsed().as_secs_f64()
        );
        let label = |what: &str| format!("{what}, n = {n}");
        rows.push(Row::new(
            label("first evaluation, no index"),
            Unit::Ms,
            ours.first_eval_ms,
        ));
        rows.push(Row::new(
            label("first evaluation, indexes on completed and due"),
            Unit::Ms,
            ours.first_eval_indexed_ms,
        ));
        rows.push(Row::new(
            label("  peer (a) SQLite first query"),
            Unit::Ms,
            sqlite_first,
        ));
        rows.push(Row::new(
            label("  peer (b) from scratch, first"),
            Unit::Ms,
            scratch_first,
        ));
        let goal = if n == big { Some(0.020) } else { None };
        let mut row =
            Row::new(label("write → diff applied, p50"), Unit::Ms, p50).raw(bare.quantile(0.5));
        if let Some(goal) = goal {
            row = row.goal(goal);
        }
        rows.push(row);
        rows.push(
            Row::new(
                label("write → diff applied, p95"),
                Unit::Ms,
                ours.write.quantile(0.95),
            )
            .raw(bare.quantile(0.95)),
        );
        rows.push(Row::new(
            label("  peer (a) SQLite write + re-query, p50"),
            Unit::Ms,
            sqlite_writes.quantile(0.5),
        ));
        rows.push(Row::new(
            label("  peer (a) SQLite write + re-query, p95"),
            Unit::Ms,
            sqlite_writes.quantile(0.95),
        ));
        rows.push(Row::new(
            label("  peer (b) write + from scratch, p50"),
            Unit::Ms,
            scratch.quantile(0.5),
        ));
        let speedup = sqlite_writes.quantile(0.5) / p50;
        println!("n = {n}: ours is {speedup:.0}× faster than the SQLite re-query at p50 (goal ≥ 50×), {:.0}× faster than from scratch",
            scratch.quantile(0.5) / p50);
        rows.push(
            Row::new(
                label("index on due, bytes per entity (structure)"),
                Unit::Bytes,
                ours.index_bytes_per_entity,
            )
            .goal(64.0),
        );
        rows.push(
            Row::new(
                label("index on due, bytes per entity (allocated)"),
                Unit::Bytes,
                ours.index_alloc_per_entity,
            )
            .goal(64.0),
        );
    }
    println!(
        "cost at {big} / cost at {small} (p50): {:.2} (goal ≤ 2)",
        per_write[0] / per_write[1]
    );
    println!("{}", table(&rows));
}
