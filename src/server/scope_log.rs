//! The change log and dedupe set of one scope, with mizu's memory-log semantics: cursors come
//! from one counter shared by all scopes, `since` is exclusive, and trimming remembers the
//! oldest retained cursor so older ones are reported as too old.

use std::collections::HashSet;
use std::sync::Arc;

use crate::protocol::wire::Change;

/// The retained changes of one scope, its head and the mutation ids it has seen.
#[derive(Debug, Default)]
pub(crate) struct ScopeLog {
    /// Retained changes, ascending by cursor (shared with the pages that serve them, so a
    /// pull copies no change).
    pub(crate) changes: Vec<Arc<Change>>,
    /// Cursor of the scope's last change (0 when it has none); mizu's `Log.Cursor`.
    pub(crate) head: u64,
    /// Set by a trim that removed something: cursors `0 < c < min_cursor` are too old.
    pub(crate) min_cursor: Option<u64>,
    /// Ids of mutations applied successfully in this scope.
    pub(crate) seen: HashSet<String>,
}

/// A pull from a cursor the log no longer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CursorTooOld;

impl ScopeLog {
    /// Up to `limit` changes with `cursor > after`, ascending.
    pub(crate) fn since(&self, after: u64, limit: usize) -> Result<&[Arc<Change>], CursorTooOld> {
        if let Some(min) = self.min_cursor {
            if after > 0 && after < min {
                return Err(CursorTooOld);
            }
        }
        let start = self.changes.partition_point(|c| c.cursor <= after);
        let end = start.saturating_add(limit).min(self.changes.len());
        Ok(&self.changes[start..end])
    }

    /// Removes the changes with `cursor < before`, like mizu's `memory.Log.Trim`: the oldest
    /// retained cursor is remembered only when something was removed. Returns whether it was.
    pub(crate) fn trim(&mut self, before: u64) -> bool {
        let cut = self.changes.partition_point(|c| c.cursor < before);
        if cut == 0 {
            return false;
        }
        self.changes.drain(..cut);
        self.min_cursor = Some(before);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(cursors: &[u64]) -> ScopeLog {
        ScopeLog {
            changes: cursors
                .iter()
                .map(|&cursor| {
                    Arc::new(Change {
                        cursor,
                        scope: "s".into(),
                        time: String::new(),
                        data: None,
                    })
                })
                .collect(),
            head: cursors.last().copied().unwrap_or(0),
            ..ScopeLog::default()
        }
    }

    fn cursors(changes: &[Arc<Change>]) -> Vec<u64> {
        changes.iter().map(|c| c.cursor).collect()
    }

    #[test]
    fn returns_changes_after_the_cursor_exclusively() {
        let l = log(&[2, 5, 9]);
        assert_eq!(cursors(l.since(0, 10).unwrap()), vec![2, 5, 9]);
        assert_eq!(cursors(l.since(2, 10).unwrap()), vec![5, 9]);
        assert_eq!(cursors(l.since(3, 1).unwrap()), vec![5]);
        assert!(l.since(9, 10).unwrap().is_empty());
    }

    #[test]
    fn trims_up_to_the_head_and_reports_older_cursors_as_too_old() {
        let mut l = log(&[2, 5, 9]);
        assert!(l.trim(9));
        assert_eq!(l.since(5, 10), Err(CursorTooOld));
        assert_eq!(l.since(8, 10), Err(CursorTooOld));
        assert_eq!(cursors(l.since(0, 10).unwrap()), vec![9]);
        assert!(l.since(9, 10).unwrap().is_empty());
        assert!(!l.trim(9), "nothing older than the head is left");
    }

    #[test]
    fn trimming_nothing_marks_nothing_too_old() {
        let mut l = log(&[7]);
        assert!(!l.trim(7));
        assert_eq!(cursors(l.since(3, 10).unwrap()), vec![7]);
    }
}
