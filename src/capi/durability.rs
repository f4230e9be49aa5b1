//! `mizu_client_durability`: the store file's durability mode, read back from SQLite (the mode
//! itself is the `durability` of the options JSON, see `mizu_client_new`).

use super::boundary::{call, Out};
use super::handle_types::{self, MizuClient};
use super::status::MizuStatus;
use crate::Durability;

/// How hard each commit of the app's writes to the store file is pushed to disk (SQLite's
/// `synchronous`; the numbers are SQLite's own). What the server sent (snapshots, pulled
/// changes, acknowledgements) commits without its own fsync in every mode: a power loss may take
/// the store back to an earlier cursor, and the client fetches it again.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "C names them MIZU_DURABILITY_*")]
pub enum MizuDurability {
    /// No file: the store is in memory.
    MizuDurabilityMemory = 0,
    /// `"normal"`: commits survive a process kill; the last ones may be lost on power loss.
    MizuDurabilityNormal = 1,
    /// `"full"` (the default): each commit is fsynced, and survives a power loss too.
    MizuDurabilityFull = 2,
}

/// Stores the durability mode the client's store file is in, as SQLite reports it, in `*out`
/// (`MIZU_DURABILITY_MEMORY` for a store in memory): a check that the `durability` option took
/// effect.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL `out`; `MIZU_ERR_CLOSED` after `mizu_client_close`;
/// `MIZU_ERR_STORAGE` when SQLite cannot answer.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_durability(
    client: *const MizuClient,
    out: *mut MizuDurability,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a MizuDurability.
        let out = unsafe { Out::new(out, "out", MizuDurability::MizuDurabilityMemory) }?;
        let mode = handle_types::client(client)?.durability()?;
        out.set(match mode {
            None => MizuDurability::MizuDurabilityMemory,
            Some(Durability::Normal) => MizuDurability::MizuDurabilityNormal,
            Some(Durability::Full) => MizuDurability::MizuDurabilityFull,
        });
        Ok(())
    })
}
