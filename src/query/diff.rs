//! [`DiffOp`]: the keyed changes that turn a query's previous result into its next one, and
//! the window diff that computes them for a windowed (offset / limit) query.

use std::collections::{HashMap, HashSet};

use compact_str::CompactString;

/// One step of a keyed diff. A diff is a list of steps applied **in order**: each index refers
/// to the list as the steps before it left it (the convention of DiffUtil's
/// `ListUpdateCallback` and of sequential table-view updates). [`apply_diff`] does exactly that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffOp<V> {
    /// The row at `index` left the result.
    Removed {
        /// Its position.
        index: usize,
        /// Its id.
        id: String,
    },
    /// A row entered the result at `index`.
    Inserted {
        /// Its position.
        index: usize,
        /// Its id.
        id: String,
        /// Its value.
        value: V,
    },
    /// The row at `from` moved to `to` (removed, then inserted at `to`).
    Moved {
        /// Where it was.
        from: usize,
        /// Where it is now.
        to: usize,
        /// Its id.
        id: String,
    },
    /// The row at `index` has a new value.
    Updated {
        /// Its position.
        index: usize,
        /// Its id.
        id: String,
        /// Its new value.
        value: V,
    },
}

impl<V> DiffOp<V> {
    /// The id of the row this step is about.
    pub fn id(&self) -> &str {
        match self {
            DiffOp::Removed { id, .. }
            | DiffOp::Inserted { id, .. }
            | DiffOp::Moved { id, .. }
            | DiffOp::Updated { id, .. } => id,
        }
    }

    /// The same step with its value mapped (for typed decoding).
    pub fn try_map<W, E>(self, f: impl FnOnce(V) -> Result<W, E>) -> Result<DiffOp<W>, E> {
        Ok(match self {
            DiffOp::Removed { index, id } => DiffOp::Removed { index, id },
            DiffOp::Inserted { index, id, value } => DiffOp::Inserted {
                index,
                id,
                value: f(value)?,
            },
            DiffOp::Moved { from, to, id } => DiffOp::Moved { from, to, id },
            DiffOp::Updated { index, id, value } => DiffOp::Updated {
                index,
                id,
                value: f(value)?,
            },
        })
    }
}

/// Applies `ops` in order to `rows` (id, value): what a list UI does with a diff.
///
/// # Panics
/// When an index is out of range: the diff was not made for this list.
///
/// ```
/// use mizu_sync::query::{apply_diff, DiffOp};
///
/// let mut rows = vec![("a".to_string(), 1), ("b".to_string(), 2)];
/// apply_diff(&mut rows, &[
///     DiffOp::Moved { from: 1, to: 0, id: "b".into() },
///     DiffOp::Inserted { index: 2, id: "c".into(), value: 3 },
///     DiffOp::Removed { index: 1, id: "a".into() },
/// ]);
/// assert_eq!(rows, vec![("b".to_string(), 2), ("c".to_string(), 3)]);
/// ```
pub fn apply_diff<V: Clone>(rows: &mut Vec<(String, V)>, ops: &[DiffOp<V>]) {
    for op in ops {
        match op {
            DiffOp::Removed { index, .. } => {
                rows.remove(*index);
            }
            DiffOp::Inserted { index, id, value } => {
                rows.insert(*index, (id.clone(), value.clone()))
            }
            DiffOp::Moved { from, to, .. } => {
                let row = rows.remove(*from);
                rows.insert(*to, row);
            }
            DiffOp::Updated { index, value, .. } => rows[*index].1 = value.clone(),
        }
    }
}

/// A structural step of a window diff, before values are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Removed(usize, CompactString),
    Inserted(usize, CompactString),
    Moved(usize, usize, CompactString),
}

/// The steps (removals, then moves and insertions in target order) that turn the id list `old`
/// into `new`; ids are unique within each. O((|old| + |new|) · moves).
pub(crate) fn window_steps(old: &[CompactString], new: &[CompactString]) -> Vec<Step> {
    let wanted: HashSet<&str> = new.iter().map(CompactString::as_str).collect();
    let mut steps = Vec::new();
    let mut current: Vec<CompactString> = Vec::with_capacity(old.len().max(new.len()));
    for (index, id) in old.iter().enumerate().rev() {
        if !wanted.contains(id.as_str()) {
            steps.push(Step::Removed(index, id.clone()));
        }
    }
    current.extend(
        old.iter()
            .filter(|id| wanted.contains(id.as_str()))
            .cloned(),
    );
    let target: HashMap<&str, usize> = new
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut j = 0;
    while j < new.len() {
        if current.get(j) == Some(&new[j]) {
            j += 1;
            continue;
        }
        // The row here belongs further down, and everything between slides up by one: one move
        // down instead of one move up per row in between.
        if let Some(here) = current.get(j) {
            let to = target[here.as_str()];
            if to > j && to < current.len() && current[j + 1..=to] == new[j..to] {
                let row = current.remove(j);
                steps.push(Step::Moved(j, to, row.clone()));
                current.insert(to, row);
                continue;
            }
        }
        match current[j..].iter().position(|id| *id == new[j]) {
            Some(offset) => {
                let from = j + offset;
                let row = current.remove(from);
                steps.push(Step::Moved(from, j, row.clone()));
                current.insert(j, row);
            }
            None => {
                steps.push(Step::Inserted(j, new[j].clone()));
                current.insert(j, new[j].clone());
            }
        }
        j += 1;
    }
    debug_assert_eq!(current, new);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<CompactString> {
        text.chars()
            .map(|c| CompactString::from(c.to_string()))
            .collect()
    }

    fn replay(old: &[CompactString], steps: &[Step]) -> Vec<CompactString> {
        let mut list = old.to_vec();
        for step in steps {
            match step {
                Step::Removed(i, id) => assert_eq!(list.remove(*i), *id),
                Step::Inserted(i, id) => list.insert(*i, id.clone()),
                Step::Moved(from, to, id) => {
                    let row = list.remove(*from);
                    assert_eq!(row, *id);
                    list.insert(*to, row);
                }
            }
        }
        list
    }

    #[test]
    fn turns_any_window_into_any_other() {
        let mut seed = 3u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let alphabet: Vec<char> = "abcdefghijklmnop".chars().collect();
        for _ in 0..3_000 {
            let pick = |next: &mut dyn FnMut(u64) -> u64| {
                let len = next(10) as usize;
                let mut chosen: Vec<char> = alphabet.clone();
                for i in (1..chosen.len()).rev() {
                    chosen.swap(i, next(i as u64 + 1) as usize);
                }
                chosen.truncate(len);
                chosen.into_iter().collect::<String>()
            };
            let old = ids(&pick(&mut next));
            let new = ids(&pick(&mut next));
            let steps = window_steps(&old, &new);
            assert_eq!(replay(&old, &steps), new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn a_single_row_moving_either_way_is_one_move() {
        let old = ids("abcdef");
        assert_eq!(
            window_steps(&old, &ids("bcdeaf")),
            vec![Step::Moved(0, 4, "a".into())]
        );
        assert_eq!(
            window_steps(&old, &ids("eabcdf")),
            vec![Step::Moved(4, 0, "e".into())]
        );
        assert_eq!(
            window_steps(&old, &ids("bcdefg")),
            vec![Step::Removed(0, "a".into()), Step::Inserted(5, "g".into())]
        );
    }
}
