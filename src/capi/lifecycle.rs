//! `mizu_client_clear`, `mizu_client_pending`, `mizu_client_discard`, `mizu_entity_sync_state`,
//! `mizu_client_wait_for_first_sync`, `mizu_client_sync_once`: logging out, the queue, where
//! each entity stands with the server, the first sync, and one bounded background sync.

use std::ffi::c_char;
use std::time::Duration;

use serde_json::json;

use super::boundary::{call, text, Out};
use super::handle_types::{self, MizuClient, MizuEntity};
use super::status::MizuStatus;
use super::strings::give;
use crate::{ClearOptions, SyncState};

/// Deletes everything local, for a logout: when `flush_within_ms` is not 0 (and the client is
/// started), first pushes for at most that long; then stops syncing, deletes the store's files
/// (the SQLite file with its WAL and SHM files), and starts afresh with an empty store and a
/// new client id, syncing again if it was. Effects and listeners wake to the empty state.
///
/// # Errors
/// `MIZU_ERR_PENDING_WRITES` when writes still wait for the server and `discard_pending` is
/// false: nothing is deleted, and the message says how many. `MIZU_ERR_STORAGE` when the files
/// cannot be deleted or recreated (close the client then); `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread but the client's sync thread (it waits for it).
#[no_mangle]
pub extern "C" fn mizu_client_clear(
    client: *const MizuClient,
    flush_within_ms: u64,
    discard_pending: bool,
) -> MizuStatus {
    call(|| {
        let options = ClearOptions {
            flush_within: (flush_within_ms > 0).then(|| Duration::from_millis(flush_within_ms)),
            discard_pending,
        };
        Ok(handle_types::client(client)?.clear(options)?)
    })
}

/// Stores the mutations waiting for the server as a JSON array in `*out`, oldest first:
/// `[{"id":"...", "name":"todo.update", "scope":"...", "age_ms":n, "attempts":n}]`
/// (`attempts`: pushes since the process started).
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_pending(
    client: *const MizuClient,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let queued: Vec<_> = handle_types::client(client)?
            .pending()
            .into_iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "name": m.name,
                    "scope": m.scope,
                    "age_ms": u64::try_from(m.age.as_millis()).unwrap_or(u64::MAX),
                    "attempts": m.attempts,
                })
            })
            .collect();
        out.set(give(&serde_json::Value::from(queued).to_string()));
        Ok(())
    })
}

/// Rolls back the queued mutation `mutation_id` as a server rejection would: its optimistic
/// effect is undone, its entity's sync state becomes rejected, and `on_error` is called with
/// `MIZU_ERR_REJECTED` ("discarded by the app").
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` when no queued mutation has that id, or for NULL;
/// `MIZU_ERR_STORAGE`; `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_discard(
    client: *const MizuClient,
    mutation_id: *const c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string valid for this call.
        let id = unsafe { text(mutation_id, "mutation_id") }?;
        Ok(handle_types::client(client)?.discard(id)?)
    })
}

/// Stores where the entity stands with the server as JSON text in `*out`:
/// `{"state":"synced"}`, `{"state":"pending","mutations":n}` (local writes wait for the
/// server) or `{"state":"rejected","reason":"..."}` (its last local write was rejected and
/// rolled back).
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread. Tracked inside a computed or an effect: it re-runs when the queue changes.
#[no_mangle]
pub extern "C" fn mizu_entity_sync_state(
    entity: *const MizuEntity,
    out: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a pointer.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let state = match handle_types::entity(entity)?.sync_state() {
            SyncState::Synced => json!({"state": "synced"}),
            SyncState::Pending { mutations } => json!({"state": "pending", "mutations": mutations}),
            SyncState::Rejected { reason } => json!({"state": "rejected", "reason": reason}),
        };
        out.set(give(&state.to_string()));
        Ok(())
    })
}

/// Waits until a first full catch-up with the server has completed (at once when one ever
/// has: it is stored with the data), or `timeout_ms` elapses.
///
/// # Errors
/// `MIZU_ERR_TIMEOUT`; `MIZU_ERR_NOT_STARTED`; `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread but the client's sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_wait_for_first_sync(
    client: *const MizuClient,
    timeout_ms: u64,
) -> MizuStatus {
    call(|| {
        Ok(handle_types::client(client)?.wait_for_first_sync(Duration::from_millis(timeout_ms))?)
    })
}

/// Pushes and pulls until caught up or `within_ms` has passed (for an OS background task), and
/// stores what it did as JSON text in `*out_report` (when not NULL): `{"pushed":n, "pulled":n,
/// "caught_up":bool, "error":"..."|null, "elapsed_ms":n}`. A client that is not started is
/// started without its live connection and stopped after. A round's failures are retried until
/// the deadline and reported in `"error"`, not as the status.
///
/// # Errors
/// `MIZU_ERR_CLOSED`; `MIZU_ERR_INTERNAL` when the sync thread cannot start.
///
/// # Ownership
/// `*out_report` receives a new string the caller frees with `mizu_string_free`.
///
/// # Threading
/// Any thread but the client's sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_sync_once(
    client: *const MizuClient,
    within_ms: u64,
    out_report: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        let report = handle_types::client(client)?.sync_once(Duration::from_millis(within_ms))?;
        if !out_report.is_null() {
            let text = json!({
                "pushed": report.pushed,
                "pulled": report.pulled,
                "caught_up": report.caught_up,
                "error": report.error.map(|e| e.to_string()),
                "elapsed_ms": u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
            })
            .to_string();
            // SAFETY: the caller passes NULL (checked) or a pointer valid for writing a pointer.
            unsafe { *out_report = give(&text) };
        }
        Ok(())
    })
}
