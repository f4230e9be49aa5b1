//! [`Durability`]: how hard a commit to the store file is pushed to disk (SQLite's
//! `PRAGMA synchronous` under WAL).

use std::fmt;

/// How durable a committed write to the store file is. The file is always in WAL mode; this
/// chooses SQLite's `synchronous` setting.
///
/// | Mode | Process killed | Power loss / OS crash | Cost per write |
/// |---|---|---|---|
/// | [`Full`](Self::Full) (default) | nothing committed is lost | nothing committed is lost | one fsync of the WAL |
/// | [`Normal`](Self::Normal) | nothing committed is lost | the last commits may be lost (the file stays consistent) | no fsync (only at checkpoints) |
///
/// With `Normal`, a write the app was told is saved can vanish after a power cut, together with
/// its queued mutation (so it never reaches the server either); the store never ends up
/// corrupted or half-written. Choose it when the write rate matters more than the last second of
/// writes on power loss (for example data the server can send again).
///
/// The mode governs what the app writes and discards, and the server's rejections. What else
/// the server sent (a snapshot, pulled changes, the acknowledgements of a push) is committed
/// without an fsync of its own in both modes: a power cut may take the store back to an earlier
/// cursor (with the base that cursor covers, never a part of it), and the client fetches the
/// rest again; a lost acknowledgement makes it push the mutation again, which the server
/// answers `ok` by its id. The app's next fsynced write makes everything committed before it
/// durable too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// `synchronous = FULL`: each commit is fsynced before the write returns.
    #[default]
    Full,
    /// `synchronous = NORMAL`: commits survive a process kill, not necessarily a power loss.
    Normal,
}

impl Durability {
    /// The value of SQLite's `PRAGMA synchronous` for this mode.
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }

    /// The mode of SQLite's numeric `PRAGMA synchronous` answer (1 NORMAL, 2 FULL), if it is one
    /// of ours.
    pub(crate) fn from_pragma(value: i64) -> Option<Durability> {
        match value {
            1 => Some(Durability::Normal),
            2 => Some(Durability::Full),
            _ => None,
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Durability::Full => "full",
            Durability::Normal => "normal",
        })
    }
}
