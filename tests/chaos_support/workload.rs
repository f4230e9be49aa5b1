//! The writers' workload: creates, updates and deletes on a small set of entity ids shared by
//! every client, plus app-defined mutations, each write carrying a unique marker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use mizu_sync::{Client, Error};
use serde_json::{json, Value};

use super::backend::{COUNTER_ADD, TALLY_CREATE};
use super::ledger::Ledger;
use super::verdict::ITEMS;
use mizu_test_support::Rng;

/// How many entity ids the writers share.
pub const SHARED_IDS: u64 = 8;

/// What the writers did, for the report.
#[derive(Debug, Default)]
pub struct WriteCounts {
    pub sets: AtomicU64,
    pub creates: AtomicU64,
    pub deletes: AtomicU64,
    pub app: AtomicU64,
    /// Calls that returned an error (a create of an id that exists locally).
    pub refused: AtomicU64,
}

impl WriteCounts {
    pub fn total(&self) -> u64 {
        [&self.sets, &self.creates, &self.deletes, &self.app]
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }
}

/// One client's writer.
pub struct Writer<'a> {
    pub client: &'a Client,
    pub number: usize,
    pub ledger: &'a Ledger,
    pub counts: &'a WriteCounts,
    /// Whether the server understands `counter.add` (else `tally.create` is used).
    pub app_logic: bool,
}

impl Writer<'_> {
    /// Writes until `deadline`, pausing a little between writes.
    pub fn run(&self, mut rng: Rng, deadline: Instant) {
        let items = self.client.collection::<Value>(ITEMS);
        let mut seq = 0u64;
        while Instant::now() < deadline {
            seq += 1;
            let marker = format!("c{}-{seq}", self.number);
            let value = json!({ "marker": marker, "client": self.number, "seq": seq });
            let entity = items.get(format!("item-{}", rng.below(SHARED_IDS)));
            match rng.below(100) {
                0..=44 => {
                    let result = entity.set(value);
                    self.ledger.collection_write(&result);
                    self.tally(&result, &self.counts.sets);
                }
                45..=54 => {
                    let result = items.create(entity.id(), value);
                    self.ledger.collection_write(&result);
                    self.tally(&result, &self.counts.creates);
                }
                55..=79 => {
                    let result = entity.delete();
                    self.ledger.collection_write(&result);
                    self.tally(&result, &self.counts.deletes);
                }
                _ => self.app_mutation(&mut rng, &marker),
            }
            thread::sleep(Duration::from_millis(rng.between(1, 20)));
        }
    }

    fn app_mutation(&self, rng: &mut Rng, marker: &str) {
        let (name, args) = if self.app_logic {
            let args = json!({ "id": format!("counter-{}", rng.below(2)), "by": rng.between(1, 5), "w": marker });
            (COUNTER_ADD, args)
        } else {
            let args = json!({ "id": marker, "data": { "marker": marker } });
            (TALLY_CREATE, args)
        };
        let id = self
            .client
            .mutate(name, Some(args.clone()))
            .expect("an app-defined mutation queues");
        self.ledger.app_mutation(id, name, args);
        self.counts.app.fetch_add(1, Ordering::SeqCst);
    }

    fn tally<T>(&self, result: &Result<T, Error>, counter: &AtomicU64) {
        match result {
            Ok(_) => counter.fetch_add(1, Ordering::SeqCst),
            Err(Error::InvalidArgument(_)) => self.counts.refused.fetch_add(1, Ordering::SeqCst),
            Err(e) => panic!("writer {}: a local write failed: {e}", self.number),
        };
    }
}
