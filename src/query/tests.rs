//! A model-based randomized test of live queries: thousands of random transactions (local
//! writes, pulled pages, snapshots, acknowledgements, rejections and their rollbacks, reopening
//! the file, an index added midway) over several live queries at once. After every step each
//! query's result equals a brute-force evaluation of its spec, and the diffs its subscriber
//! received, applied in order, reproduce that result exactly; each transaction makes at most
//! one diff per query.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::collate::compare;
use super::{apply_diff, field, FieldPath, Order, OrderKey, QueryEvent, QuerySpec, Registry};
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};
use crate::protocol::wire::Mutation;
use crate::query::{Attachment, LiveQuery};
use crate::store::{Store, ARRIVAL_MIN_ENTITIES};
use mizu_test_support::temp_dir;
use mizu_test_support::Rng;

const COLLECTION: &str = "todo";

struct Kept;

impl Attachment for Kept {
    fn is_idle(&self) -> bool {
        false
    }
}

fn random_id(rng: &mut Rng) -> String {
    format!("t{:02}", rng.below(60))
}

/// A todo with fields that are sometimes missing, null or of another type, to exercise the
/// collation across types.
fn random_value(rng: &mut Rng) -> JsonText {
    let mut todo = serde_json::Map::new();
    match rng.below(10) {
        0 => {}
        1 => {
            todo.insert("completed".into(), Value::Null);
        }
        _ => {
            todo.insert("completed".into(), json!(rng.chance(40)));
        }
    }
    let priority = match rng.below(12) {
        0 => json!("high"),
        1 => json!(1.5),
        _ => json!(rng.below(6)),
    };
    todo.insert("priority".into(), priority);
    if !rng.chance(10) {
        todo.insert(
            "due".into(),
            json!(format!("2026-0{}-1{}", 1 + rng.below(3), rng.below(3))),
        );
    }
    let tags: Vec<&str> = ["home", "work", "errands"]
        .into_iter()
        .filter(|_| rng.chance(40))
        .collect();
    todo.insert("tags".into(), json!(tags));
    todo.insert("title".into(), json!(format!("task {}", rng.below(1000))));
    Value::Object(todo).to_string().into()
}

fn specs() -> Vec<QuerySpec> {
    let key = |path: &str, order| OrderKey {
        path: FieldPath::new(path),
        order,
    };
    vec![
        // The benchmark's shape: open todos, by due date descending, first 5.
        QuerySpec {
            filter: Some(field("completed").eq(false)),
            order: vec![key("due", Order::Desc)],
            offset: 0,
            limit: Some(5),
        },
        // Everything, by id.
        QuerySpec::default(),
        // Unwindowed, two keys, a compound filter.
        QuerySpec {
            filter: Some(
                field("tags")
                    .contains("home")
                    .or(field("priority").ge(3))
                    .and(field("completed").eq(true).not()),
            ),
            order: vec![key("priority", Order::Asc), key("due", Order::Desc)],
            offset: 0,
            limit: None,
        },
        // A page in the middle.
        QuerySpec {
            filter: Some(field("priority").is_in([json!(1), json!(2), json!("high")])),
            order: vec![key("title", Order::Asc)],
            offset: 3,
            limit: Some(4),
        },
        // Offset without limit; a field that may be missing.
        QuerySpec {
            filter: Some(field("due").exists()),
            order: vec![key("due", Order::Asc)],
            offset: 2,
            limit: None,
        },
    ]
}

/// The spec evaluated from scratch over every visible entity.
fn brute_force(store: &Store, spec: &QuerySpec) -> (Vec<(String, JsonText)>, usize) {
    let mut rows: Vec<(String, JsonText, Value)> = store
        .all(COLLECTION)
        .into_iter()
        .map(|(id, text)| {
            let value = serde_json::from_str(&text).unwrap();
            (id, text, value)
        })
        .filter(|(_, _, v)| spec.filter.as_ref().is_none_or(|f| f.matches(v)))
        .collect();
    rows.sort_by(|a, b| {
        for key in &spec.order {
            let o = compare(key.path.lookup(&a.2), key.path.lookup(&b.2));
            let o = if key.order == Order::Desc {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.0.cmp(&b.0)
    });
    let count = rows.len();
    let window = rows
        .into_iter()
        .skip(spec.offset)
        .take(spec.limit.unwrap_or(usize::MAX))
        .map(|(id, text, _)| (id, text))
        .collect();
    (window, count)
}

/// One live query with a subscriber that applies every diff to its own list.
struct Watched {
    live: Arc<LiveQuery<Kept>>,
    mirror: Arc<Mutex<Vec<(String, JsonText)>>>,
    diffs: Arc<Mutex<usize>>,
}

fn watch(store: &Store, registry: &Registry<Kept>, spec: &QuerySpec) -> Watched {
    let mirror: Arc<Mutex<Vec<(String, JsonText)>>> = Arc::default();
    let diffs = Arc::new(Mutex::new(0));
    let (m, d) = (mirror.clone(), diffs.clone());
    let live = store.read_view(|view| registry.open(view, COLLECTION, spec.clone(), || Kept));
    store.read_view(|view| {
        live.subscribe(
            view,
            Arc::new(move |event: &QueryEvent<JsonText>| match event {
                QueryEvent::Result(rows) => *m.lock().unwrap() = rows.clone(),
                QueryEvent::Diff(ops) => {
                    *d.lock().unwrap() += 1;
                    apply_diff(&mut m.lock().unwrap(), ops);
                }
            }),
        )
    });
    live.deliver();
    Watched {
        live,
        mirror,
        diffs,
    }
}

struct World {
    store: Store,
    registry: Arc<Registry<Kept>>,
    watched: Vec<Watched>,
    specs: Vec<QuerySpec>,
    indexed: Vec<&'static str>,
}

impl World {
    fn open(store: Store, specs: &[QuerySpec], indexed: &[&'static str]) -> World {
        let registry = Arc::new(Registry::default());
        store.set_observer(registry.clone());
        for path in indexed {
            store.read_view(|view| registry.ensure_index(view, COLLECTION, FieldPath::new(path)));
        }
        let watched = specs.iter().map(|s| watch(&store, &registry, s)).collect();
        World {
            store,
            registry,
            watched,
            specs: specs.to_vec(),
            indexed: indexed.to_vec(),
        }
    }

    fn deliver(&self) {
        let (dirty, _) = self.registry.take_dirty();
        for d in dirty {
            d.query.deliver();
        }
    }

    fn check(&self, step: usize, what: &str) {
        let all = self.store.all(COLLECTION).len();
        assert_eq!(
            self.store.count(COLLECTION),
            all,
            "step {step} ({what}): store count"
        );
        for (w, spec) in self.watched.iter().zip(&self.specs) {
            let (expected, count) = brute_force(&self.store, spec);
            let rows = self.store.read_view(|view| w.live.rows(view));
            assert_eq!(rows, expected, "step {step} ({what}): rows of {spec:?}");
            assert_eq!(
                *w.mirror.lock().unwrap(),
                expected,
                "step {step} ({what}): diffs of {spec:?}"
            );
            assert_eq!(
                w.live.count(),
                count,
                "step {step} ({what}): count of {spec:?}"
            );
            let ids: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
            assert_eq!(w.live.ids(), ids);
        }
    }

    fn diff_counts(&self) -> Vec<usize> {
        self.watched
            .iter()
            .map(|w| *w.diffs.lock().unwrap())
            .collect()
    }
}

fn local_write(world: &World, rng: &mut Rng, seq: &mut u64) -> &'static str {
    let id = random_id(rng);
    let exists = world.store.has(&EntityKey::new(COLLECTION, id.as_str()));
    let (op, value, what) = match (exists, rng.below(4)) {
        (true, 0) => (EntityOp::Delete, None, "local delete"),
        (true, _) => (EntityOp::Update, Some(random_value(rng)), "local update"),
        (false, _) => (EntityOp::Create, Some(random_value(rng)), "local create"),
    };
    *seq += 1;
    let change = EntityChange {
        key: EntityKey::new(COLLECTION, id),
        op,
        value,
    };
    let mutation = Mutation {
        id: format!("m{seq}"),
        scope: String::new(),
        name: format!("todo.{}", op.as_str()),
        args: None,
    };
    world.store.enqueue(mutation, Some(change)).unwrap();
    what
}

fn pulled_page(world: &World, rng: &mut Rng, cursor: &mut u64) {
    let changes: Vec<EntityChange> = (0..1 + rng.below(8))
        .map(|_| {
            let delete = rng.chance(25);
            EntityChange {
                key: EntityKey::new(COLLECTION, random_id(rng)),
                op: if delete {
                    EntityOp::Delete
                } else {
                    EntityOp::Update
                },
                value: (!delete).then(|| random_value(rng)),
            }
        })
        .collect();
    *cursor += 1;
    world.store.apply_remote(&changes, *cursor).unwrap();
}

fn snapshot(world: &World, rng: &mut Rng, cursor: &mut u64) {
    let mut ids = BTreeMap::new();
    for _ in 0..rng.below(40) {
        ids.insert(random_id(rng), random_value(rng));
    }
    let mut data = SnapshotData::new();
    if !ids.is_empty() {
        data.insert(COLLECTION.to_owned(), ids);
    }
    *cursor += 10;
    world.store.replace_base(data, *cursor).unwrap();
}

/// Acknowledges the oldest pending mutation (its change pulled first, as the engine does) or
/// rejects a random one (its optimistic effect rolls back).
fn settle(world: &World, rng: &mut Rng, cursor: &mut u64) -> &'static str {
    let pending = world.store.pending(64);
    if pending.is_empty() {
        return "nothing to settle";
    }
    if rng.chance(50) {
        let oldest = &pending[0];
        if let Some(change) = &oldest.change {
            *cursor += 1;
            world
                .store
                .apply_remote(std::slice::from_ref(change), *cursor)
                .unwrap();
        }
        world
            .store
            .settle(std::slice::from_ref(&oldest.mutation.id), &[])
            .unwrap();
        "acknowledged"
    } else {
        let victim = &pending[rng.below(pending.len() as u64) as usize];
        world
            .store
            .settle(&[], std::slice::from_ref(&victim.mutation.id))
            .unwrap();
        "rejected"
    }
}

fn run(seed: u64, steps: usize) {
    let dir = temp_dir("query-model");
    let path = dir.path().join("store.db");
    let mut rng = Rng::new(seed);
    let mut world = World::open(Store::open(&path).unwrap(), &specs(), &["completed"]);
    let (mut seq, mut cursor) = (0u64, 0u64);
    for step in 0..steps {
        let before = world.diff_counts();
        let what = match rng.below(100) {
            0..=54 => local_write(&world, &mut rng, &mut seq),
            55..=74 => {
                pulled_page(&world, &mut rng, &mut cursor);
                "pulled page"
            }
            75..=77 => {
                snapshot(&world, &mut rng, &mut cursor);
                "snapshot"
            }
            78..=97 => settle(&world, &mut rng, &mut cursor),
            98 => {
                let (specs, mut indexed) = (world.specs.clone(), world.indexed.clone());
                if !indexed.contains(&"due") {
                    indexed.push("due");
                }
                drop(world);
                world = World::open(Store::open(&path).unwrap(), &specs, &indexed);
                "reopen, with an index on due"
            }
            _ => {
                let w = &world;
                w.store.read_view(|view| {
                    w.registry
                        .ensure_index(view, COLLECTION, FieldPath::new("priority"))
                });
                "index on priority added"
            }
        };
        world.deliver();
        for (i, (b, a)) in before.iter().zip(world.diff_counts()).enumerate() {
            assert!(
                a <= b + 1,
                "step {step} ({what}): query {i} got {} diffs",
                a - b
            );
        }
        world.check(step, what);
    }
}

#[test]
fn live_queries_match_a_brute_force_model_through_random_transactions() {
    for seed in [1, 2, 3] {
        run(seed, 800);
    }
}

#[test]
fn live_queries_match_the_model_with_a_fresh_seed() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    println!("query model seed: {seed}");
    run(seed, 600);
}

/// Collections that arrive whole (a big snapshot into an emptied collection, told of as
/// `Changed::arrived` with no key per entity) reach the indexes, live queries and subscribers
/// exactly as changes told key by key do; random steps follow each arrival.
#[test]
fn live_queries_follow_collections_that_arrive_whole() {
    let mut rng = Rng::new(11);
    let world = World::open(Store::open_in_memory(), &specs(), &["completed"]);
    let (mut seq, mut cursor) = (0u64, 0u64);
    for round in 0..5 {
        // Emptied: every pending write rejected, then an empty snapshot.
        let pending: Vec<String> = world
            .store
            .pending(usize::MAX)
            .into_iter()
            .map(|p| p.mutation.id)
            .collect();
        world.store.settle(&[], &pending).unwrap();
        cursor += 10;
        world
            .store
            .replace_base(SnapshotData::new(), cursor)
            .unwrap();
        world.deliver();
        world.check(round, "emptied");

        let size = ARRIVAL_MIN_ENTITIES + rng.below(300) as usize;
        let ids = (0..size)
            .map(|n| (format!("t{n:03}"), random_value(&mut rng)))
            .collect();
        let data = SnapshotData::from([(COLLECTION.to_owned(), ids)]);
        cursor += 10;
        let before = world.diff_counts();
        let changed = world.store.replace_base(data, cursor).unwrap();
        assert_eq!(changed.arrived, [COLLECTION], "round {round}");
        world.deliver();
        for (b, a) in before.iter().zip(world.diff_counts()) {
            assert!(a <= b + 1, "round {round}: {} diffs for one arrival", a - b);
        }
        world.check(round, "arrived");
        if round == 2 {
            world.store.read_view(|view| {
                world
                    .registry
                    .ensure_index(view, COLLECTION, FieldPath::new("due"))
            });
        }
        for step in 0..40 {
            let what = match rng.below(3) {
                0 => local_write(&world, &mut rng, &mut seq),
                1 => {
                    pulled_page(&world, &mut rng, &mut cursor);
                    "pulled page"
                }
                _ => settle(&world, &mut rng, &mut cursor),
            };
            world.deliver();
            world.check(round * 100 + step, what);
        }
    }
}

struct Idle;

impl Attachment for Idle {
    fn is_idle(&self) -> bool {
        true
    }
}

#[test]
fn a_query_nobody_holds_or_reads_is_dropped_when_another_opens() {
    let store = Store::open_in_memory();
    let registry: Arc<Registry<Idle>> = Arc::new(Registry::default());
    store.set_observer(registry.clone());
    let open =
        |spec: QuerySpec| store.read_view(|view| registry.open(view, COLLECTION, spec, || Idle));
    let held = open(QuerySpec::default());
    let same = open(QuerySpec::default());
    assert!(Arc::ptr_eq(&held, &same), "one live query per spec");
    drop(open(QuerySpec {
        limit: Some(1),
        ..QuerySpec::default()
    }));
    assert_eq!(registry.live_count(), 2);
    drop((held, same));
    let _other = open(QuerySpec {
        offset: 1,
        ..QuerySpec::default()
    });
    assert_eq!(registry.live_count(), 1, "only the one just opened is kept");
}
