//! The edges of the graph: linking a subscriber to the sources it reads, re-tracking them on
//! each run, and unlinking them. Each edge sits on two doubly linked lists (the subscriber's
//! sources and the source's subscribers), so every operation here is O(1) per edge.

use super::graph::{Graph, Keep, Link, NIL};

impl Graph {
    /// Returns a link to the free list; what it kept alive is dropped after unlocking.
    pub(super) fn free_link(&mut self, link: u32) {
        if let Some(keep) = self.holds[link as usize].take() {
            self.graveyard.push(keep);
        }
        self.free_links.push(link);
    }

    /// Starts re-tracking the sources of `sub` (a run begins).
    pub(crate) fn begin_tracking(&mut self, sub: u32) {
        let node = &mut self.nodes[sub as usize];
        node.epoch = node.epoch.wrapping_add(1);
        node.deps_tail = NIL;
    }

    /// Ends re-tracking: drops the sources the run did not read again.
    pub(crate) fn end_tracking(&mut self, sub: u32) {
        let tail = self.nodes[sub as usize].deps_tail;
        self.clear_deps_after(sub, tail);
    }

    /// Drops every source of `sub` (a stopped effect).
    pub(crate) fn clear_deps(&mut self, sub: u32) {
        self.clear_deps_after(sub, NIL);
        self.nodes[sub as usize].deps_tail = NIL;
    }

    /// Records that `sub` read `dep` in its current run; a new link holds what `keep` gives.
    pub(crate) fn link(&mut self, dep: u32, sub: u32, keep: impl FnOnce() -> Option<Keep>) {
        let version = self.nodes[dep as usize].version;
        let node = &self.nodes[sub as usize];
        let (tail, epoch) = (node.deps_tail, node.epoch);
        if tail != NIL && self.links[tail as usize].dep == dep {
            self.links[tail as usize].version = version;
            return;
        }
        let next = if tail == NIL {
            node.deps_head
        } else {
            self.links[tail as usize].next_dep
        };
        if next != NIL && self.links[next as usize].dep == dep {
            let l = &mut self.links[next as usize];
            l.version = version;
            l.epoch = epoch;
            self.nodes[sub as usize].deps_tail = next;
            return;
        }
        let last_sub = self.nodes[dep as usize].subs_tail;
        if last_sub != NIL {
            let l = &mut self.links[last_sub as usize];
            if l.sub == sub && l.epoch == epoch {
                // Read before in this same run.
                l.version = version;
                return;
            }
        }
        let new = Link {
            dep,
            sub,
            version,
            epoch,
            prev_dep: tail,
            next_dep: next,
            prev_sub: last_sub,
            next_sub: NIL,
        };
        let link = match self.free_links.pop() {
            Some(i) => {
                self.links[i as usize] = new;
                self.holds[i as usize] = keep();
                i
            }
            None => {
                self.links.push(new);
                self.holds.push(keep());
                u32::try_from(self.links.len() - 1).expect("more than 2^32 reactive edges")
            }
        };
        if tail == NIL {
            self.nodes[sub as usize].deps_head = link;
        } else {
            self.links[tail as usize].next_dep = link;
        }
        if next != NIL {
            self.links[next as usize].prev_dep = link;
        }
        self.nodes[sub as usize].deps_tail = link;
        if last_sub == NIL {
            self.nodes[dep as usize].subs_head = link;
        } else {
            self.links[last_sub as usize].next_sub = link;
        }
        self.nodes[dep as usize].subs_tail = link;
    }

    /// Unlinks and frees every source link of `sub` after `tail` (all of them if `tail` is NIL).
    pub(super) fn clear_deps_after(&mut self, sub: u32, tail: u32) {
        let mut link = if tail == NIL {
            self.nodes[sub as usize].deps_head
        } else {
            self.links[tail as usize].next_dep
        };
        while link != NIL {
            let l = self.links[link as usize];
            self.unlink_sub_side(link);
            self.free_link(link);
            link = l.next_dep;
        }
        if tail == NIL {
            self.nodes[sub as usize].deps_head = NIL;
        } else {
            self.links[tail as usize].next_dep = NIL;
        }
    }

    /// Takes `link` out of its source's subscribers list.
    pub(super) fn unlink_sub_side(&mut self, link: u32) {
        let l = self.links[link as usize];
        if l.prev_sub == NIL {
            self.nodes[l.dep as usize].subs_head = l.next_sub;
        } else {
            self.links[l.prev_sub as usize].next_sub = l.next_sub;
        }
        if l.next_sub == NIL {
            self.nodes[l.dep as usize].subs_tail = l.prev_sub;
        } else {
            self.links[l.next_sub as usize].prev_sub = l.prev_sub;
        }
    }

    /// Takes `link` out of its subscriber's sources list.
    pub(super) fn unlink_dep_side(&mut self, link: u32) {
        let l = self.links[link as usize];
        if l.prev_dep == NIL {
            self.nodes[l.sub as usize].deps_head = l.next_dep;
        } else {
            self.links[l.prev_dep as usize].next_dep = l.next_dep;
        }
        if l.next_dep != NIL {
            self.links[l.next_dep as usize].prev_dep = l.prev_dep;
        }
    }
}
