//! [`QuerySignals`]: the reactive side of a live query (its triggers), and how the
//! client tells readers and listeners of a transaction's changes ([`Woken`]).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::client::triggers::Triggers;
use crate::protocol::entity::EntityKey;
use crate::query::{Attachment, Dirty, Feed, Registry};
use crate::reactive::{batch, Signal};
use crate::store::Changed;

/// Version counters a query read subscribes to: one for its result, one for its count.
pub(crate) struct QuerySignals {
    pub(crate) result: Signal<u64>,
    pub(crate) count: Signal<u64>,
}

impl QuerySignals {
    pub(crate) fn new() -> Self {
        QuerySignals {
            result: Signal::new(0),
            count: Signal::new(0),
        }
    }
}

impl Attachment for QuerySignals {
    fn is_idle(&self) -> bool {
        self.result.is_unshared_and_unobserved() && self.count.is_unshared_and_unobserved()
    }
}

fn bump(signal: &Signal<u64>) {
    signal.update(|v| v.wrapping_add(1));
}

/// The live queries and collection feeds a transaction changed, taken from the registry when
/// the transaction commits so that its listeners are told where the transaction's are.
pub(crate) struct Woken {
    dirty: Vec<Dirty<QuerySignals>>,
    feeds: Vec<Arc<Feed>>,
}

impl Woken {
    /// Takes what the transactions committed since the last call changed.
    pub(crate) fn take(queries: &Registry<QuerySignals>) -> Woken {
        let (dirty, feeds) = queries.take_dirty();
        Woken { dirty, feeds }
    }

    /// Wakes the readers of `changed` and of the live queries whose result or count changed,
    /// in one batch with `also` (effects run once, after it), then delivers the queries' diffs
    /// and the collections' feeds. No lock is held while effects and listeners run. Returns how
    /// many listeners or effects panicked (each panic is caught).
    pub(crate) fn wake(
        self,
        triggers: &Triggers,
        changed: &Changed,
        exists: impl Fn(&EntityKey) -> bool,
        also: impl FnOnce(),
    ) -> usize {
        let Woken { dirty, feeds } = self;
        let mut panics = 0;
        let woke = catch_unwind(AssertUnwindSafe(|| {
            batch(|| {
                triggers.notify(changed, exists);
                for d in &dirty {
                    let signals = d.query.attachment();
                    if d.outcome.result {
                        bump(&signals.result);
                    }
                    if d.outcome.count {
                        bump(&signals.count);
                    }
                }
                also();
            })
        }));
        if woke.is_err() {
            panics += 1;
        }
        for d in &dirty {
            panics += d.query.deliver();
        }
        for feed in &feeds {
            panics += feed.deliver();
        }
        panics
    }
}
