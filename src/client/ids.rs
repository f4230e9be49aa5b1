//! Mutation ids: unique per scope across all clients, generated once per write and reused on
//! every retry (the server dedupes by them).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Generates ids of the form `<client id>-<time>-<counter>-<random>`.
///
/// The client id is random and persisted with the store; the time (nanoseconds, hex) and a
/// process-wide counter keep ids of one client distinct across restarts; the random part
/// guards against a clock that goes backwards.
pub(crate) struct IdGenerator {
    client_id: std::sync::RwLock<String>,
    counter: AtomicU64,
    random: RandomState,
}

impl IdGenerator {
    /// A generator for the client `client_id`.
    pub(crate) fn new(client_id: String) -> Self {
        IdGenerator {
            client_id: std::sync::RwLock::new(client_id),
            counter: AtomicU64::new(0),
            random: RandomState::new(),
        }
    }

    /// The next id.
    pub(crate) fn next_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut h = self.random.build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        let client_id = self
            .client_id
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        format!(
            "{}-{:x}-{:x}-{:08x}",
            client_id,
            nanos,
            n,
            h.finish() as u32
        )
    }
}

impl IdGenerator {
    /// Makes later ids those of `client_id` (after the store was wiped).
    pub(crate) fn reset(&self, client_id: String) {
        *self
            .client_id
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = client_id;
    }
}

/// When the mutation `id` (made by [`IdGenerator::next_id`]) was made, if it says.
pub(crate) fn made_at(id: &str) -> Option<SystemTime> {
    let mut parts = id.rsplitn(4, '-');
    let (_random, _counter, nanos) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    let nanos = u128::from_str_radix(nanos, 16).ok()?;
    let nanos = u64::try_from(nanos).ok()?;
    Some(UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn an_id_says_when_it_was_made() {
        let before = SystemTime::now();
        let id = IdGenerator::new("c-1".into()).next_id();
        let made = made_at(&id).unwrap();
        assert!(made >= before - std::time::Duration::from_millis(1) && made <= SystemTime::now());
        assert_eq!(made_at("not-an-id"), None);
    }

    #[test]
    fn generates_distinct_ids_across_threads() {
        let gen = std::sync::Arc::new(IdGenerator::new("c1".into()));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let gen = gen.clone();
                std::thread::spawn(move || (0..10_000).map(|_| gen.next_id()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for id in h.join().unwrap() {
                assert!(id.starts_with("c1-"));
                assert!(all.insert(id), "duplicate id");
            }
        }
        assert_eq!(all.len(), 40_000);
    }
}
