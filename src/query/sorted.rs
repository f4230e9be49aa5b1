//! [`SortedList`]: an ordered sequence with positions, for indexes and live results.
//!
//! A list of sorted blocks of at most [`MAX_BLOCK`] items (the layout of Python's
//! `sortedcontainers`): finding an item is a binary search over the blocks' last items and then
//! within one block, O(log n); inserting or removing moves at most one block's items; the
//! position of an item is the lengths of the blocks before it, kept in a Fenwick tree
//! (O(log n); rebuilt only when a block splits or empties, O(n / MAX_BLOCK), rarely). Items are
//! stored inline with little slack, which keeps an index near its items' own size.

use std::cmp::Ordering;

/// Most items in one block; a fuller block is split in two. About the square root of the cost
/// ratio of moving an item (in a block) to adding up a block length (for a position): for
/// 48-byte items and 100,000 of them, 256 balances the two at well under a microsecond each.
const MAX_BLOCK: usize = 256;

/// Items kept sorted by a comparator the caller passes to every call (it must be a total order
/// and the same on every call).
#[derive(Debug, Clone)]
pub(crate) struct SortedList<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
    /// A Fenwick tree over the blocks' lengths (1-based): the items before a block in O(log n).
    lengths: Vec<usize>,
    /// A copy of each block's last item, side by side: finding the block of an item searches
    /// this small array instead of touching one block per probe (cache misses dominate at
    /// 100,000 items). About 0.2 bytes per item.
    fences: Vec<T>,
}

impl<T> Default for SortedList<T> {
    fn default() -> Self {
        SortedList {
            blocks: Vec::new(),
            len: 0,
            lengths: vec![0],
            fences: Vec::new(),
        }
    }
}

/// The lowest set bit of `i`.
fn low_bit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl<T: Clone> SortedList<T> {
    /// A list of `items`, which must already be sorted.
    pub(crate) fn from_sorted(items: Vec<T>) -> Self {
        let len = items.len();
        let mut blocks = Vec::with_capacity(len.div_ceil(MAX_BLOCK / 2));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let block: Vec<T> = items.by_ref().take(MAX_BLOCK / 2).collect();
            blocks.push(block);
        }
        let fences = blocks
            .iter()
            .filter_map(|b: &Vec<T>| b.last().cloned())
            .collect();
        let mut list = SortedList {
            blocks,
            len,
            lengths: Vec::new(),
            fences,
        };
        list.rebuild_lengths();
        list
    }

    fn rebuild_lengths(&mut self) {
        let n = self.blocks.len();
        self.lengths.clear();
        self.lengths.resize(n + 1, 0);
        for i in 1..=n {
            self.lengths[i] += self.blocks[i - 1].len();
            let parent = i + low_bit(i);
            if parent <= n {
                self.lengths[parent] += self.lengths[i];
            }
        }
    }

    /// Block `block` gained (`grew`) or lost one item.
    fn adjust_length(&mut self, block: usize, grew: bool) {
        let mut i = block + 1;
        while i < self.lengths.len() {
            if grew {
                self.lengths[i] += 1;
            } else {
                self.lengths[i] -= 1;
            }
            i += low_bit(i);
        }
    }

    /// How many items.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The block that holds (or would hold) `item`, and the position of `item` in it: `Ok` when
    /// an equal item is there.
    fn locate(&self, item: &T, cmp: &impl Fn(&T, &T) -> Ordering) -> (usize, Result<usize, usize>) {
        if self.blocks.is_empty() {
            return (0, Err(0));
        }
        let block = self
            .fences
            .partition_point(|last| cmp(last, item) == Ordering::Less)
            .min(self.blocks.len() - 1);
        (
            block,
            self.blocks[block].binary_search_by(|probe| cmp(probe, item)),
        )
    }

    fn items_before(&self, block: usize) -> usize {
        let (mut i, mut sum) = (block, 0);
        while i > 0 {
            sum += self.lengths[i];
            i -= low_bit(i);
        }
        sum
    }

    /// The position of `item`: `Ok` when an equal item is in the list, `Err` where it would go.
    pub(crate) fn position(
        &self,
        item: &T,
        cmp: impl Fn(&T, &T) -> Ordering,
    ) -> Result<usize, usize> {
        let (block, found) = self.locate(item, &cmp);
        let before = self.items_before(block);
        found.map(|i| before + i).map_err(|i| before + i)
    }

    /// Inserts `item` (after any equal ones) and returns its position.
    pub(crate) fn insert(&mut self, item: T, cmp: impl Fn(&T, &T) -> Ordering) -> usize {
        if self.blocks.is_empty() {
            self.fences.push(item.clone());
            self.blocks.push(vec![item]);
            self.len = 1;
            self.rebuild_lengths();
            return 0;
        }
        let (block, found) = self.locate(&item, &cmp);
        let at = match found {
            Ok(i) | Err(i) => i,
        };
        let position = self.items_before(block) + at;
        let items = &mut self.blocks[block];
        if items.len() == items.capacity() {
            // Grow by an eighth, not by doubling: an index stays near its items' own size.
            items.reserve_exact((items.len() / 8).max(4));
        }
        items.insert(at, item);
        if at + 1 == items.len() {
            self.fences[block] = items[at].clone();
        }
        self.len += 1;
        if items.len() > MAX_BLOCK {
            let mut upper = items.split_off(MAX_BLOCK / 2);
            items.shrink_to_fit();
            upper.shrink_to_fit();
            self.fences[block] = items.last().expect("half a block").clone();
            self.fences
                .insert(block + 1, upper.last().expect("half a block").clone());
            self.blocks.insert(block + 1, upper);
            self.rebuild_lengths();
        } else {
            self.adjust_length(block, true);
        }
        position
    }

    /// Removes the item equal to `item` and returns its position, or `None` when there is none.
    pub(crate) fn remove(&mut self, item: &T, cmp: impl Fn(&T, &T) -> Ordering) -> Option<usize> {
        let (block, found) = self.locate(item, &cmp);
        let at = found.ok()?;
        let position = self.items_before(block) + at;
        let items = &mut self.blocks[block];
        items.remove(at);
        self.len -= 1;
        if items.is_empty() {
            self.blocks.remove(block);
            self.fences.remove(block);
            self.rebuild_lengths();
            return Some(position);
        }
        if at == items.len() {
            self.fences[block] = items[at - 1].clone();
        }
        if items.capacity() > 2 * items.len() + 16 {
            items.shrink_to(items.len() + items.len() / 8);
        }
        self.adjust_length(block, false);
        Some(position)
    }

    /// The item at `position`.
    #[cfg(test)]
    pub(crate) fn get(&self, position: usize) -> Option<&T> {
        let (block, at) = self.find(position);
        self.blocks.get(block)?.get(at)
    }

    /// The block holding `position`, and the position within it (O(log n), by descending the
    /// Fenwick tree); `(blocks.len(), 0)` past the end.
    fn find(&self, mut position: usize) -> (usize, usize) {
        if position >= self.len {
            return (self.blocks.len(), 0);
        }
        let n = self.blocks.len();
        let mut block = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = block + step;
            if next <= n && self.lengths[next] <= position {
                block = next;
                position -= self.lengths[next];
            }
            step /= 2;
        }
        (block, position)
    }

    /// The items from `position` on, in order.
    pub(crate) fn iter_from(&self, position: usize) -> impl Iterator<Item = &T> {
        let (first, position) = self.find(position);
        self.blocks
            .get(first..)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .flat_map(move |(i, block)| block[if i == 0 { position } else { 0 }..].iter())
    }

    /// Every item, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.blocks.iter().flatten()
    }

    /// Bytes of item storage (capacity × item size, plus the block table), for accounting.
    pub(crate) fn storage_bytes(&self) -> usize {
        let items: usize = self.blocks.iter().map(Vec::capacity).sum();
        items * std::mem::size_of::<T>()
            + self.blocks.capacity() * std::mem::size_of::<Vec<T>>()
            + self.lengths.capacity() * std::mem::size_of::<usize>()
            + self.fences.capacity() * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_sorted_vec_through_random_inserts_and_removes() {
        let mut rng = mizu_test_support::Rng::new(7);
        let mut next = move || rng.next_u64();
        let mut list = SortedList::default();
        let mut model: Vec<u64> = Vec::new();
        let cmp = |a: &u64, b: &u64| a.cmp(b);
        for step in 0..40_000 {
            let value = next() % 5_000;
            if next().is_multiple_of(3) {
                let expected = model.binary_search(&value).ok();
                if let Some(i) = expected {
                    model.remove(i);
                }
                let got = list.remove(&value, cmp);
                assert_eq!(got, expected, "step {step}");
            } else if model.binary_search(&value).is_err() {
                let at = model.partition_point(|x| *x < value);
                model.insert(at, value);
                assert_eq!(list.insert(value, cmp), at, "step {step}");
            }
            if step % 997 == 0 {
                assert_eq!(list.iter().copied().collect::<Vec<_>>(), model);
                assert_eq!(list.len(), model.len());
                let probe = next() % (model.len() as u64 + 1);
                let probe = probe as usize;
                assert_eq!(list.get(probe), model.get(probe));
                assert_eq!(
                    list.iter_from(probe).copied().collect::<Vec<_>>(),
                    model[probe.min(model.len())..]
                );
            }
        }
        for (i, value) in model.iter().enumerate() {
            assert_eq!(list.position(value, cmp), Ok(i));
        }
    }

    #[test]
    fn builds_from_sorted_items() {
        let items: Vec<u32> = (0..5_000).collect();
        let list = SortedList::from_sorted(items.clone());
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), items);
        assert_eq!(list.position(&4_000, |a, b| a.cmp(b)), Ok(4_000));
        assert_eq!(list.position(&9_000, |a, b| a.cmp(b)), Err(5_000));
    }
}
