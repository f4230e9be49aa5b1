//! [`Progress`]: how far the current download (catching up with the server's log) and upload
//! (draining the queue) have come, as the engine sees them.

/// `done` of `total` (equal when complete). Downloads count server log positions (changes);
/// uploads count mutations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// How much is done.
    pub done: u64,
    /// How much there is, as known now (it grows when more becomes known).
    pub total: u64,
}

impl Progress {
    /// Whether everything known is done.
    pub fn is_complete(&self) -> bool {
        self.done >= self.total
    }

    /// `done / total`, 1.0 when there is nothing to do.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

/// The engine's bookkeeping behind [`Progress`].
///
/// A download starts when the server is known to be ahead of a caught-up client (a live
/// notification, a pull that returns changes or says more follow) and counts from the cursor
/// it started at to the furthest head known. An upload counts the mutations queued since the
/// queue was last empty, and how many of them left it.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    start: u64,
    head: u64,
    more: bool,
    up_done: u64,
    up_total: u64,
    last_pending: usize,
}

impl Tracker {
    pub(crate) fn new(cursor: u64) -> Self {
        Tracker {
            start: cursor,
            head: cursor,
            ..Tracker::default()
        }
    }

    fn caught_up(&self, cursor: u64) -> bool {
        cursor >= self.head && !self.more
    }

    /// The server says its log reaches `head` (a live notification).
    pub(crate) fn live_head(&mut self, cursor: u64, head: u64) {
        if head > self.head {
            if self.caught_up(cursor) {
                self.start = cursor;
            }
            self.head = head;
        }
    }

    /// A pull answered, before it is applied at `cursor`.
    pub(crate) fn pulled(&mut self, cursor: u64, has_more: bool, next_cursor: Option<u64>) {
        let ahead = has_more || next_cursor.is_some_and(|c| c > cursor);
        if ahead && self.caught_up(cursor) {
            self.start = cursor;
        }
        self.more = has_more;
        if let Some(c) = next_cursor {
            self.head = self.head.max(c);
        }
    }

    /// A snapshot answered at `cursor`.
    pub(crate) fn snapshotted(&mut self, cursor: u64) {
        self.more = false;
        self.head = self.head.max(cursor);
    }

    /// The download's progress with the store at `cursor`.
    pub(crate) fn download(&self, cursor: u64) -> Progress {
        let start = self.start.min(cursor);
        let end = self.head.max(cursor + u64::from(self.more));
        Progress {
            done: cursor - start,
            total: end - start,
        }
    }

    /// The queue now holds `pending` mutations not yet acknowledged.
    pub(crate) fn pending(&mut self, pending: usize) {
        let (now, last) = (pending as u64, self.last_pending as u64);
        if now > last {
            if self.up_done >= self.up_total {
                self.up_done = 0;
                self.up_total = 0;
            }
            self.up_total += now - last;
        } else {
            self.up_done = (self.up_done + (last - now)).min(self.up_total);
        }
        self.last_pending = pending;
    }

    /// The upload's progress.
    pub(crate) fn upload(&self) -> Progress {
        Progress {
            done: self.up_done,
            total: self.up_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_pull_rises_to_complete() {
        let mut t = Tracker::new(10);
        assert!(t.download(10).is_complete());
        t.pulled(10, true, Some(110));
        assert_eq!(
            t.download(10),
            Progress {
                done: 0,
                total: 100
            }
        );
        t.pulled(110, true, Some(210));
        assert_eq!(
            t.download(110),
            Progress {
                done: 100,
                total: 200
            }
        );
        t.pulled(210, false, Some(250));
        assert_eq!(
            t.download(250),
            Progress {
                done: 240,
                total: 240
            }
        );
        // Caught up: the next change starts a new download.
        t.live_head(250, 260);
        assert_eq!(t.download(250), Progress { done: 0, total: 10 });
    }

    #[test]
    fn a_live_head_sets_the_total_before_the_pull() {
        let mut t = Tracker::new(0);
        t.live_head(0, 5_000);
        assert_eq!(
            t.download(0),
            Progress {
                done: 0,
                total: 5_000
            }
        );
        t.pulled(0, true, Some(1_000));
        assert_eq!(
            t.download(1_000),
            Progress {
                done: 1_000,
                total: 5_000
            }
        );
    }

    #[test]
    fn an_upload_counts_from_the_last_empty_queue() {
        let mut t = Tracker::new(0);
        t.pending(3);
        assert_eq!(t.upload(), Progress { done: 0, total: 3 });
        t.pending(1);
        t.pending(2);
        assert_eq!(t.upload(), Progress { done: 2, total: 4 });
        t.pending(0);
        assert!(t.upload().is_complete());
        t.pending(1);
        assert_eq!(t.upload(), Progress { done: 0, total: 1 });
    }

    #[test]
    fn progress_never_goes_backwards_in_a_random_run() {
        let mut t = Tracker::new(0);
        let (mut cursor, mut last) = (0u64, Progress::default());
        let mut seed = 7u64;
        for _ in 0..10_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = seed >> 60;
            let more = seed & 1 == 1;
            let next = cursor + step;
            t.pulled(cursor, more, Some(next));
            cursor = next;
            let now = t.download(cursor);
            assert!(now.done <= now.total);
            if !last.is_complete() {
                assert!(now.done >= last.done, "{last:?} -> {now:?}");
            }
            last = now;
        }
    }
}
