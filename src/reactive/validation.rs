//! Pull: bringing a computed or an effect up to date before it is read or run.
//!
//! A node marked `Check` walks its sources depth first with an explicit stack (never the call
//! stack): a source still `Check` is walked in turn, a `Dirty` one is recomputed, and a source
//! whose version moved since this node read it makes this node `Dirty`. The graph lock is
//! released only to run a function; on resuming, a frame whose node was reached by a
//! propagation meanwhile (its `marks` moved) starts over, so no change is missed.

use std::cell::{Cell, RefCell};

use super::graph::{self, thread_id, Guard, Kind, NodeId, State, NIL};
use super::queue::Hold;

/// Stack red zone below which a run continues on a fresh stack segment.
const RED_ZONE: usize = 96 * 1024;
/// Size of each fresh stack segment.
const SEGMENT: usize = 1024 * 1024;
/// Runs nested this deep on one thread before the stack is checked at all.
const SHALLOW: u32 = 8;

/// One node being validated: where its scan of its sources stands.
#[derive(Clone, Copy)]
struct Frame {
    id: NodeId,
    link: u32,
    marks: u32,
}

thread_local! {
    /// Spare frame stacks, so validating allocates nothing in the steady state.
    static STACKS: RefCell<Vec<Vec<Frame>>> = const { RefCell::new(Vec::new()) };
    /// How many runs are nested on this thread.
    static NESTING: Cell<u32> = const { Cell::new(0) };
}

fn frame(g: &Guard, id: NodeId) -> Frame {
    let node = &g.nodes[id.index as usize];
    Frame {
        id,
        link: node.deps_head,
        marks: node.marks,
    }
}

/// Reports a computed read while it computes: by itself (directly or through its sources), or
/// through computeds that other threads are running and waiting on.
pub(crate) fn cycle() -> ! {
    panic!("reactive cycle: a computed was read while computing, by itself or through others")
}

/// Decides whether `root` must run, recomputing stale computeds upstream on the way.
/// Leaves `root` `Clean` when it need not run. The lock may be released meanwhile.
pub(crate) fn validate(mut g: Guard, root: NodeId) -> (Guard, bool) {
    match g.get(root).map(|n| n.state) {
        None | Some(State::Clean) => return (g, false),
        Some(State::Dirty) => return (g, true),
        Some(State::Check) => {}
    }
    let me = thread_id();
    let mut stack = STACKS.with(|s| s.borrow_mut().pop()).unwrap_or_default();
    stack.push(frame(&g, root));
    let verdict = 'outer: loop {
        let Some(top) = stack.last_mut() else {
            break false;
        };
        let Some(node) = g.get(top.id) else {
            stack.pop();
            continue;
        };
        if node.running != 0 {
            if top.id == root && node.kind == Kind::Effect {
                // Running on another thread, which re-runs it after if needed.
                break false;
            }
            if g.would_deadlock(top.id.index, me) {
                cycle();
            }
            g = graph::wait_for(g, top.id.index);
            continue;
        }
        if node.marks != top.marks {
            top.marks = node.marks;
            top.link = node.deps_head;
        }
        let mut dirty = match node.state {
            State::Clean => {
                stack.pop();
                continue;
            }
            State::Dirty => true,
            State::Check => false,
        };
        while !dirty && top.link != NIL {
            let link = g.links[top.link as usize];
            let dep = &g.nodes[link.dep as usize];
            if dep.kind == Kind::Computed && (dep.running != 0 || dep.state != State::Clean) {
                let dep_id = g.id_of(link.dep);
                if dep.running != 0 && g.would_deadlock(link.dep, me) {
                    // Running up this thread's stack (or a ring of threads): reached through
                    // a source read last time, maybe no longer. Count it as changed; if the
                    // run reads it again, that read reports the cycle.
                    dirty = true;
                    break;
                } else if dep.running != 0 {
                    g = graph::wait_for(g, link.dep);
                } else if dep.state == State::Dirty {
                    g = recompute(g, dep_id);
                } else {
                    let f = frame(&g, dep_id);
                    stack.push(f);
                }
                continue 'outer;
            }
            if dep.version != link.version {
                dirty = true;
            } else {
                top.link = link.next_dep;
            }
        }
        let id = top.id;
        stack.pop();
        if !dirty {
            if let Some(node) = g.get_mut(id) {
                node.state = State::Clean;
            }
            continue;
        }
        if id == root {
            break true;
        }
        if let Some(node) = g.get_mut(id) {
            node.state = State::Dirty;
        }
        g = recompute(g, id);
    };
    stack.clear();
    STACKS.with(|s| s.borrow_mut().push(stack));
    (g, verdict)
}

/// Marks the end of a run, also when the function panics.
struct RunEnd {
    id: NodeId,
    changed: Option<bool>,
}

impl Drop for RunEnd {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get() - 1));
        if self.changed.is_none() {
            // The function panicked. A computed is left dirty (the next read runs it again); an
            // effect stays clean, subscribed to what it read, so it is not stuck flagged.
            let mut g = graph::lock();
            if let Some(node) = g.get_mut(self.id) {
                if node.kind == Kind::Computed {
                    node.state = State::Dirty;
                }
            }
            g.finish_run(self.id, false);
        }
    }
}

/// Runs the function of `id` (a computed or an effect) with the lock released. The node must
/// not be running. Returns the lock, taken again.
pub(crate) fn recompute(mut g: Guard, id: NodeId) -> Guard {
    let Some(node) = g.get_mut(id) else {
        return g;
    };
    node.running = thread_id();
    node.state = State::Clean;
    let kind = node.kind;
    let runner = node.runner.as_ref().and_then(|r| r.upgrade());
    g.begin_tracking(id.index);
    drop(g);
    // Effects woken by writes inside a computed's function wait until its run is over (they
    // might read it); whoever called into the graph flushes them then.
    let hold = (kind == Kind::Computed).then(Hold::new);
    let nesting = NESTING.with(|n| n.replace(n.get() + 1));
    let mut end = RunEnd { id, changed: None };
    let changed = match &runner {
        Some(r) if nesting < SHALLOW => r.run(id),
        Some(r) => stacker::maybe_grow(RED_ZONE, SEGMENT, || r.run(id)),
        None => false,
    };
    end.changed = Some(changed);
    // The runner may be the last handle: drop it unlocked (its node is then gone).
    drop(runner);
    let mut g = graph::lock();
    g.finish_run(id, changed);
    drop(end);
    drop(hold);
    g
}
