//! The process-wide graph: nodes, the edges between them, and push propagation.
//!
//! Every node (signal, computed, effect) has a slot in one arena behind one mutex, [`GRAPH`]. The
//! mutex guards bookkeeping only (states, edges, versions); it is never held while user code runs.
//! Values live beside the nodes, in the handles, each behind its own small lock.
//!
//! A subscriber keeps the computeds it read alive (through its links), so a computed made and
//! read inside another's function lives as long as it is needed; sources never keep their
//! subscribers alive, so the graph holds no cycle.
//!
//! Edges are [`Link`]s in a second arena, threaded on two doubly linked lists: the sources list
//! of the subscriber and the subscribers list of the source, so linking, re-tracking and
//! unlinking are O(1) each (the layout of alien-signals, with indices instead of pointers).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};

use super::disposal::dispose;

/// "No link": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// A node's identity: its arena slot and the generation of that slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct NodeId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// What a node is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Signal,
    Computed,
    Effect,
}

/// Whether a subscriber's cached result can be trusted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum State {
    /// Up to date.
    Clean,
    /// A source further up changed: the direct sources must be checked first.
    Check,
    /// A direct source changed: must re-run.
    Dirty,
}

/// The user side of a computed or an effect: runs its function once, while tracking.
pub(crate) trait Run: Holder {
    /// Runs the function; returns whether the node's value changed.
    fn run(&self, id: NodeId) -> bool;
}

/// A strong reference a link holds on its source (a computed), kept alive while read.
pub(crate) trait Holder: Send + Sync {}
impl<T: Send + Sync> Holder for T {}

/// What a link keeps alive.
pub(crate) type Keep = Arc<dyn Holder>;

/// One node of the graph.
pub(crate) struct Node {
    pub(crate) generation: u32,
    pub(crate) live: bool,
    pub(crate) kind: Kind,
    pub(crate) state: State,
    /// The thread id ([`thread_id`]) running this node's function, 0 if none.
    pub(crate) running: u64,
    pub(crate) stopped: bool,
    /// Bumped each time propagation reaches this node: a validation in progress restarts.
    pub(crate) marks: u32,
    /// Bumped each time this node's value changes.
    pub(crate) version: u64,
    /// Bumped at the start of each run: tells a link made in this run from an older one.
    pub(super) epoch: u32,
    pub(crate) deps_head: u32,
    pub(crate) deps_tail: u32,
    pub(super) subs_head: u32,
    pub(super) subs_tail: u32,
    pub(crate) runner: Option<Weak<dyn Run>>,
    /// A detached effect keeps itself alive through its node until stopped.
    pub(crate) keep: Option<Arc<dyn Run>>,
}

/// One edge: `dep` (a source) is read by `sub` (a subscriber).
#[derive(Clone, Copy)]
pub(crate) struct Link {
    pub(crate) dep: u32,
    pub(super) sub: u32,
    /// The source's version when the subscriber last read it.
    pub(crate) version: u64,
    pub(super) epoch: u32,
    pub(super) prev_dep: u32,
    pub(crate) next_dep: u32,
    pub(super) prev_sub: u32,
    pub(super) next_sub: u32,
}

/// The arena of nodes and links.
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    pub(crate) links: Vec<Link>,
    /// What each link keeps alive, by link index.
    pub(super) holds: Vec<Option<Keep>>,
    pub(super) free_links: Vec<u32>,
    /// Handles released under the lock, dropped as soon as it is released.
    pub(super) graveyard: Vec<Keep>,
    /// Scratch stack of propagation, kept to avoid allocating per write.
    stack: Vec<(u32, bool)>,
    /// Threads blocked in [`wait_for`], each with the node whose run it waits for.
    waiting: Vec<(u64, u32)>,
}

/// The one graph of the process.
static GRAPH: Mutex<Graph> = Mutex::new(Graph::new());
/// Signalled when a run finishes while some thread waits for it.
static WAKE: Condvar = Condvar::new();

/// The graph lock's guard. Whatever was released under the lock is dropped after unlocking,
/// since dropping a node's last handle takes the lock again.
pub(crate) struct Guard(Option<MutexGuard<'static, Graph>>);

impl Deref for Guard {
    type Target = Graph;
    fn deref(&self) -> &Graph {
        self.0.as_ref().expect("guard is held")
    }
}

impl DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Graph {
        self.0.as_mut().expect("guard is held")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(mut g) = self.0.take() else {
            return;
        };
        if g.graveyard.is_empty() {
            return;
        }
        let dead = std::mem::take(&mut g.graveyard);
        drop(g);
        dispose(dead);
    }
}

/// Locks the graph. The lock is never held while user code runs, so a panic cannot poison a
/// half-done update; a poisoned lock is taken over as is.
pub(crate) fn lock() -> Guard {
    Guard(Some(GRAPH.lock().unwrap_or_else(PoisonError::into_inner)))
}

/// Releases the lock until the run of `node` (on another thread) may have finished, then
/// takes it again. Callers first rule out a deadlock with [`Graph::would_deadlock`].
pub(crate) fn wait_for(mut g: Guard, node: u32) -> Guard {
    let me = thread_id();
    g.waiting.push((me, node));
    let inner = g.0.take().expect("guard is held");
    let mut inner = WAKE.wait(inner).unwrap_or_else(PoisonError::into_inner);
    if let Some(at) = inner.waiting.iter().position(|&(t, _)| t == me) {
        inner.waiting.swap_remove(at);
    }
    Guard(Some(inner))
}

/// A small number naming the current thread (never 0), cheaper than `thread::current().id()`.
pub(crate) fn thread_id() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| match id.get() {
        0 => {
            let next = NEXT.fetch_add(1, Ordering::Relaxed);
            id.set(next);
            next
        }
        known => known,
    })
}

impl Graph {
    const fn new() -> Self {
        Graph {
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            links: Vec::new(),
            holds: Vec::new(),
            free_links: Vec::new(),
            graveyard: Vec::new(),
            stack: Vec::new(),
            waiting: Vec::new(),
        }
    }

    /// Adds a node; computeds and effects start `Dirty` (never run).
    pub(crate) fn add(&mut self, kind: Kind) -> NodeId {
        let state = if kind == Kind::Signal {
            State::Clean
        } else {
            State::Dirty
        };
        let node = Node {
            generation: 0,
            live: true,
            kind,
            state,
            running: 0,
            stopped: false,
            marks: 0,
            version: 0,
            epoch: 0,
            deps_head: NIL,
            deps_tail: NIL,
            subs_head: NIL,
            subs_tail: NIL,
            runner: None,
            keep: None,
        };
        match self.free_nodes.pop() {
            Some(index) => {
                let slot = &mut self.nodes[index as usize];
                let generation = slot.generation.wrapping_add(1);
                *slot = Node { generation, ..node };
                NodeId { index, generation }
            }
            None => {
                let index = u32::try_from(self.nodes.len()).expect("more than 2^32 reactive nodes");
                self.nodes.push(node);
                NodeId {
                    index,
                    generation: 0,
                }
            }
        }
    }

    /// The node, if it is still the one `id` names.
    pub(crate) fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes
            .get(id.index as usize)
            .filter(|n| n.live && n.generation == id.generation)
    }

    /// The node, mutably, if it is still the one `id` names.
    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes
            .get_mut(id.index as usize)
            .filter(|n| n.live && n.generation == id.generation)
    }

    /// The id of the live node at `index`.
    pub(crate) fn id_of(&self, index: u32) -> NodeId {
        NodeId {
            index,
            generation: self.nodes[index as usize].generation,
        }
    }

    /// Removes a node and all its edges.
    pub(crate) fn remove(&mut self, id: NodeId) {
        if self.get(id).is_none() {
            return;
        }
        self.clear_deps_after(id.index, NIL);
        let mut link = self.nodes[id.index as usize].subs_head;
        while link != NIL {
            let l = self.links[link as usize];
            let sub = &mut self.nodes[l.sub as usize];
            // A validation of the subscriber in progress must restart: its cursor may be here.
            sub.marks = sub.marks.wrapping_add(1);
            if sub.deps_tail == link {
                sub.deps_tail = l.prev_dep;
            }
            self.unlink_dep_side(link);
            self.free_link(link);
            link = l.next_sub;
        }
        let node = &mut self.nodes[id.index as usize];
        node.live = false;
        node.subs_head = NIL;
        node.subs_tail = NIL;
        node.runner = None;
        if let Some(keep) = node.keep.take() {
            self.graveyard.push(keep);
        }
        self.free_nodes.push(id.index);
    }

    /// A source's value changed: bumps its version and marks everything downstream, direct
    /// subscribers `Dirty`, the rest `Check`. Effects that were clean go to `queue`.
    pub(crate) fn propagate(&mut self, source: u32, queue: &mut impl FnMut(NodeId)) {
        let node = &mut self.nodes[source as usize];
        node.version += 1;
        let mut stack = std::mem::take(&mut self.stack);
        stack.push((node.subs_head, true));
        self.mark_downstream(stack, queue);
    }

    /// `sub`, running, has just started reading a computed that a write marked during the
    /// computed's own run, before `sub` was linked to it: that write's propagation did not reach
    /// `sub`. Marks `sub` `Check` (and what is downstream of it) the way it would have, so the
    /// change is not lost: an effect runs again, a computed is checked at its next read.
    pub(crate) fn mark_raced(&mut self, sub: u32, queue: &mut impl FnMut(NodeId)) {
        let mut stack = std::mem::take(&mut self.stack);
        self.mark(sub, false, &mut stack, queue);
        self.mark_downstream(stack, queue);
    }

    /// Marks the subscribers of the links on `stack`, and their subscribers in turn.
    fn mark_downstream(&mut self, mut stack: Vec<(u32, bool)>, queue: &mut impl FnMut(NodeId)) {
        while let Some((link, direct)) = stack.pop() {
            if link == NIL {
                continue;
            }
            let l = self.links[link as usize];
            stack.push((l.next_sub, direct));
            self.mark(l.sub, direct, &mut stack, queue);
        }
        self.stack = stack;
    }

    /// Marks one subscriber: `Dirty` when reached `direct`ly from the changed source, else
    /// `Check`. A subscriber that was clean passes the mark on (a computed) or is queued (an
    /// effect).
    #[inline]
    fn mark(
        &mut self,
        index: u32,
        direct: bool,
        stack: &mut Vec<(u32, bool)>,
        queue: &mut impl FnMut(NodeId),
    ) {
        let sub = &mut self.nodes[index as usize];
        sub.marks = sub.marks.wrapping_add(1);
        let was_clean = sub.state == State::Clean;
        if direct {
            sub.state = State::Dirty;
        } else if was_clean {
            sub.state = State::Check;
        }
        if !was_clean {
            return;
        }
        match sub.kind {
            Kind::Effect if !sub.stopped => queue(NodeId {
                index,
                generation: sub.generation,
            }),
            Kind::Computed => stack.push((sub.subs_head, false)),
            _ => {}
        }
    }

    /// Whether waiting for the run of `node` would close a ring of threads each waiting for a
    /// run the next one is doing, back to `me`: a dependency cycle across threads.
    pub(crate) fn would_deadlock(&self, node: u32, me: u64) -> bool {
        let mut owner = self.nodes[node as usize].running;
        for _ in 0..=self.waiting.len() {
            if owner == me {
                return true;
            }
            match self.waiting.iter().find(|&&(t, _)| t == owner) {
                Some(&(_, next)) => owner = self.nodes[next as usize].running,
                None => return false,
            }
        }
        false
    }

    /// A run ended: keeps the sources it read, releases waiters, records a changed value.
    pub(crate) fn finish_run(&mut self, id: NodeId, changed: bool) {
        let waiters = self.waiting.len();
        let Some(node) = self.get_mut(id) else {
            if waiters > 0 {
                WAKE.notify_all();
            }
            return;
        };
        node.running = 0;
        if changed {
            node.version += 1;
        }
        let stopped = node.stopped;
        if stopped {
            self.clear_deps(id.index);
        } else {
            self.end_tracking(id.index);
        }
        if waiters > 0 {
            WAKE.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(g: &Graph, sub: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut link = g.nodes[sub as usize].deps_head;
        while link != NIL {
            out.push(g.links[link as usize].dep);
            link = g.links[link as usize].next_dep;
        }
        out
    }

    fn subs(g: &Graph, dep: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut link = g.nodes[dep as usize].subs_head;
        while link != NIL {
            out.push(g.links[link as usize].sub);
            link = g.links[link as usize].next_sub;
        }
        out
    }

    fn run(g: &mut Graph, sub: u32, reads: &[u32]) {
        g.begin_tracking(sub);
        for &dep in reads {
            g.link(dep, sub, || None);
        }
        g.end_tracking(sub);
    }

    #[test]
    fn re_tracking_reuses_edges_and_drops_the_unread_ones() {
        let mut g = Graph::new();
        let (a, b, c) = (
            g.add(Kind::Signal),
            g.add(Kind::Signal),
            g.add(Kind::Signal),
        );
        let sub = g.add(Kind::Computed);
        run(&mut g, sub.index, &[a.index, b.index, a.index, b.index]);
        assert_eq!(
            deps(&g, sub.index),
            [a.index, b.index],
            "repeated reads link once"
        );
        let links_used = g.links.len();
        run(&mut g, sub.index, &[a.index, b.index]);
        assert_eq!(
            g.links.len(),
            links_used,
            "the same reads reuse the same links"
        );
        run(&mut g, sub.index, &[c.index, a.index]);
        assert_eq!(deps(&g, sub.index), [c.index, a.index]);
        assert_eq!(subs(&g, b.index), Vec::<u32>::new(), "b is no longer read");
        assert_eq!(subs(&g, a.index), [sub.index]);
    }

    #[test]
    fn removing_a_node_unlinks_both_sides_and_recycles_its_slot() {
        let mut g = Graph::new();
        let source = g.add(Kind::Signal);
        let middle = g.add(Kind::Computed);
        let sink = g.add(Kind::Effect);
        run(&mut g, middle.index, &[source.index]);
        run(&mut g, sink.index, &[middle.index]);
        let marks = g.nodes[sink.index as usize].marks;
        g.remove(middle);
        assert!(g.get(middle).is_none());
        assert_eq!(subs(&g, source.index), Vec::<u32>::new());
        assert_eq!(deps(&g, sink.index), Vec::<u32>::new());
        assert_ne!(
            g.nodes[sink.index as usize].marks, marks,
            "validators restart"
        );
        let again = g.add(Kind::Signal);
        assert_eq!(again.index, middle.index);
        assert_ne!(again.generation, middle.generation);
        assert!(g.get(middle).is_none(), "the old id stays dead");
    }

    #[test]
    fn propagation_marks_direct_subscribers_dirty_the_rest_check_and_queues_effects_once() {
        let mut g = Graph::new();
        let source = g.add(Kind::Signal);
        let (left, right) = (g.add(Kind::Computed), g.add(Kind::Computed));
        let effect = g.add(Kind::Effect);
        for node in [left, right, effect] {
            g.get_mut(node).unwrap().state = State::Clean;
        }
        run(&mut g, left.index, &[source.index]);
        run(&mut g, right.index, &[source.index]);
        run(&mut g, effect.index, &[left.index, right.index]);
        let mut queued = Vec::new();
        g.propagate(source.index, &mut |id| queued.push(id));
        assert_eq!(queued, [effect], "a diamond queues its effect once");
        assert_eq!(g.get(left).unwrap().state, State::Dirty);
        assert_eq!(g.get(right).unwrap().state, State::Dirty);
        assert_eq!(g.get(effect).unwrap().state, State::Check);
        assert_eq!(g.get(source).unwrap().version, 1);
        queued.clear();
        g.propagate(source.index, &mut |id| queued.push(id));
        assert!(queued.is_empty(), "already flagged: not queued again");
    }
}
