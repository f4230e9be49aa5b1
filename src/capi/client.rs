//! `mizu_client_*`: creating, running and closing a sync client.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::boundary::{call, json, text, Out};
use super::callback::UserData;
use super::handle_table::Object;
use super::handle_types::{self, issue, MizuClient, MizuCollection};
use super::options::{self, MizuClientCallbacks};
use super::status::{CError, MizuStatus};
use super::strings::give;
use crate::{Client, SyncStatus};

/// Creates a client from options given as JSON text, and opens its local store. Does not touch
/// the network (see `mizu_client_start`).
///
/// `options_json` is an object with `base_url` (required, e.g. `"http://127.0.0.1:8080/_sync"`)
/// and optionally `scope`, `storage_path` (a SQLite file; omitted keeps everything in memory),
/// `encryption_key` (encrypts the file with SQLCipher; needs `storage_path`; see
/// `mizu_client_rekey`), `durability` (`"full"`, the default: each commit is fsynced and
/// survives a power loss; or `"normal"`: no fsync per commit, faster writes that survive a process
/// kill but whose last commits may be lost on power loss; see `mizu_client_durability`), `live_url` (`"ws://host/ws?scope=S"`), `push_interval_ms`, `pull_interval_ms`,
/// `request_timeout_ms`, `backoff_min_ms`, `backoff_max_ms`, `push_batch_size` (1..=100),
/// `pull_limit`, `max_snapshot_bytes` (the largest snapshot accepted; a larger one is
/// `MIZU_ERR_SNAPSHOT_TOO_LARGE` through the status and `on_error`; omitted accepts any size;
/// one entity over 64 MiB is refused whatever the limit, as `MIZU_ERR_SERVER`)
/// and `headers` (an object of strings). Unknown keys are refused.
///
/// `callbacks` may be NULL; the struct is copied, and need not outlive the call.
///
/// # Errors
/// `MIZU_ERR_INVALID_JSON` for malformed JSON; `MIZU_ERR_INVALID_ARGUMENT` for an unknown key,
/// a wrong type, an out-of-range value or a NULL pointer; `MIZU_ERR_STORAGE` when the store
/// cannot be opened (for example a file another client holds open); `MIZU_ERR_WRONG_KEY` when
/// the file is encrypted and `encryption_key` is wrong or missing, or a key is given for a
/// plain file.
///
/// # Ownership
/// On success `*out` receives a new client handle, owned by the caller, to be freed with
/// `mizu_client_free`; on error `*out` is set to NULL. `callbacks->release` is called exactly
/// once: when the client and every handle made from it (collections, entities, their
/// subscriptions) are freed, or before this function returns if it fails.
///
/// # Threading
/// Any thread. The callbacks run on the client's sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_new(
    options_json: *const c_char,
    callbacks: *const MizuClientCallbacks,
    out: *mut *mut MizuClient,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a valid MizuClientCallbacks for this call. Copying
        // it first means its release runs on every path below, failure included.
        let callbacks = unsafe { callbacks.as_ref() };
        let user_data = callbacks.map(|c| Arc::new(UserData::new(c.user_data, c.release)));
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string valid for this call.
        let text = unsafe { text(options_json, "options_json") }?;
        let mut options = options::parse(text)?;
        if let (Some(callbacks), Some(user_data)) = (callbacks, user_data) {
            options = options::with_callbacks(options, callbacks, user_data);
        }
        let client = Client::new(options)?;
        out.set(issue(Object::Client(Arc::new(client))));
        Ok(())
    })
}

/// Starts syncing in the background (idempotent). Works with the server unreachable: the
/// client then works offline and catches up when the server comes back.
///
/// # Errors
/// `MIZU_ERR_CLOSED` after `mizu_client_close` or on a freed handle; `MIZU_ERR_INTERNAL` when a
/// thread cannot be started.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_start(client: *const MizuClient) -> MizuStatus {
    call(|| Ok(handle_types::client(client)?.start()?))
}

/// Stops syncing; local reads and writes go on working and `mizu_client_start` resumes. Waits
/// for the sync thread to finish its current step, never for a request in flight.
///
/// # Threading
/// Any thread, including a callback on the sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_stop(client: *const MizuClient) -> MizuStatus {
    call(|| {
        handle_types::client(client)?.stop();
        Ok(())
    })
}

/// Stops syncing and closes the store: every later call on this client, its collections and
/// entities fails with `MIZU_ERR_CLOSED`. Writes that already returned are durable. Idempotent.
/// The handle itself stays allocated until `mizu_client_free`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_close(client: *const MizuClient) -> MizuStatus {
    call(|| {
        handle_types::client(client)?.close();
        Ok(())
    })
}

/// Frees the client handle, closing the client (as `mizu_client_close`). Freeing NULL does
/// nothing.
///
/// # Errors
/// `MIZU_ERR_CLOSED` when the handle was already freed; `MIZU_ERR_INVALID_ARGUMENT` when it is
/// not a client handle.
///
/// # Ownership
/// Takes the handle; do not use it afterwards (a later use fails with `MIZU_ERR_CLOSED`).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_free(client: *mut MizuClient) -> MizuStatus {
    call(|| {
        if let Ok(inner) = handle_types::client(client) {
            inner.close();
        }
        handle_types::free(client, "client")
    })
}

/// Pushes everything pending, then pulls, and returns when both are done (each request bounded
/// by `request_timeout_ms`).
///
/// # Errors
/// The first error of the round (`MIZU_ERR_NETWORK`, `MIZU_ERR_TIMEOUT`, `MIZU_ERR_SERVER`,
/// ...); `MIZU_ERR_NOT_STARTED` before `mizu_client_start`; `MIZU_ERR_PAUSED` while paused;
/// `MIZU_ERR_INVALID_ARGUMENT` when called on the sync thread.
///
/// # Threading
/// Blocks the calling thread. Not from a client callback or an effect run by the sync thread.
#[no_mangle]
pub extern "C" fn mizu_client_sync(client: *const MizuClient) -> MizuStatus {
    call(|| Ok(handle_types::client(client)?.sync()?))
}

/// Waits until everything queued so far has been acknowledged by the server and pulled back,
/// or `timeout_ms` elapses.
///
/// # Errors
/// `MIZU_ERR_TIMEOUT` when the time runs out; `MIZU_ERR_NOT_STARTED` before
/// `mizu_client_start`; `MIZU_ERR_INVALID_ARGUMENT` when called on the sync thread.
///
/// # Threading
/// Blocks the calling thread, as `mizu_client_sync`.
#[no_mangle]
pub extern "C" fn mizu_client_flush(client: *const MizuClient, timeout_ms: u64) -> MizuStatus {
    call(|| Ok(handle_types::client(client)?.flush(Duration::from_millis(timeout_ms))?))
}

/// Queues an app-defined mutation named `name` with arguments `args_json` (JSON text, or NULL
/// for none); it has no local effect. Durable before it returns; pushed in the background.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for an empty name; `MIZU_ERR_INVALID_JSON`; `MIZU_ERR_STORAGE`;
/// `MIZU_ERR_CLOSED`.
///
/// # Ownership
/// `*out_id` receives the mutation's id, a new string the caller frees with `mizu_string_free`
/// (NULL on error). `out_id` may be NULL when the id is not wanted.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_mutate(
    client: *const MizuClient,
    name: *const c_char,
    args_json: *const c_char,
    out_id: *mut *mut c_char,
) -> MizuStatus {
    call(|| {
        let out = match out_id.is_null() {
            true => None,
            // SAFETY: not NULL; the caller passes a pointer valid for writing a string pointer.
            false => Some(unsafe { Out::new(out_id, "out_id", std::ptr::null_mut()) }?),
        };
        let client = handle_types::client(client)?;
        // SAFETY: the caller passes NUL-terminated strings valid for this call.
        let name = unsafe { text(name, "name") }?;
        let args = match args_json.is_null() {
            true => None,
            // SAFETY: as above.
            false => Some(unsafe { json(args_json, "args_json") }?),
        };
        let id = client.mutate(name, args)?;
        if let Some(out) = out {
            out.set(give(&id));
        }
        Ok(())
    })
}

/// Reads a number or flag of the client into `*out` (0 / false on error).
fn read<T: Copy>(
    client: *const MizuClient,
    out: *mut T,
    zero: T,
    f: impl FnOnce(&Client) -> T,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a T.
        let out = unsafe { Out::new(out, "out", zero) }?;
        out.set(f(&*handle_types::client(client)?));
        Ok(())
    })
}

/// Stores the pull cursor (the server log position the synced state is as of; 0 before the
/// first snapshot) in `*out`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_cursor(client: *const MizuClient, out: *mut u64) -> MizuStatus {
    read(client, out, 0, Client::cursor)
}

/// Stores how many local mutations wait to be acknowledged in `*out`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_pending_count(
    client: *const MizuClient,
    out: *mut usize,
) -> MizuStatus {
    read(client, out, 0, Client::pending_count)
}

/// Stores whether the last exchange with the server succeeded in `*out`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_is_online(client: *const MizuClient, out: *mut bool) -> MizuStatus {
    read(client, out, false, Client::is_online)
}

/// The sync status as JSON text: `{"online":bool, "syncing":bool, "pending":n,
/// "cursor":n|null, "last_error":"..."|null, "last_synced_ms":unix-ms|null, "paused":bool}`.
pub(crate) fn status_json(status: &SyncStatus) -> String {
    let synced = status.last_synced.map(|t| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    });
    json!({
        "online": status.online,
        "syncing": status.syncing,
        "pending": status.pending,
        "cursor": status.cursor,
        "last_error": status.last_error,
        "last_synced_ms": synced,
        "paused": status.paused,
        "has_synced": status.has_synced,
        "download": {"done": status.download.done, "total": status.download.total},
        "upload": {"done": status.upload.done, "total": status.upload.total},
    })
    .to_string()
}

/// Stores the sync status as JSON text in `*out`: `{"online":bool, "syncing":bool,
/// "pending":n, "cursor":n|null, "last_error":"..."|null, "last_synced_ms":n|null,
/// "paused":bool, "has_synced":bool, "download":{"done":n,"total":n},
/// "upload":{"done":n,"total":n}}`.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_status(
    client: *const MizuClient,
    out: *mut *mut c_char,
) -> MizuStatus {
    read(client, out, std::ptr::null_mut(), |c| {
        give(&status_json(&c.status().peek()))
    })
}

/// Stores this client's id (random, persisted with the store; the prefix of its mutation ids)
/// in `*out`.
///
/// # Ownership
/// `*out` receives a new string the caller frees with `mizu_string_free` (NULL on error).
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_id(client: *const MizuClient, out: *mut *mut c_char) -> MizuStatus {
    read(client, out, std::ptr::null_mut(), |c| give(&c.client_id()))
}

/// Pauses syncing (no requests) until `mizu_client_resume`; local writes keep queueing.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_pause(client: *const MizuClient) -> MizuStatus {
    call(|| {
        handle_types::client(client)?.pause();
        Ok(())
    })
}

/// Resumes syncing after `mizu_client_pause`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_resume(client: *const MizuClient) -> MizuStatus {
    call(|| {
        handle_types::client(client)?.resume();
        Ok(())
    })
}

/// Runs the client's waiting deliveries on the calling thread, in order: its callbacks, and the
/// effects and listeners woken by server changes, when the client was created with
/// `callbacks->on_pending` (otherwise there are none and `*out_count` is 0). Deliveries queued
/// while it runs run too. Stores how many ran in `*out_count` when it is not NULL. Returns
/// at once with a count of 0 when another thread is dispatching, or when called from inside a
/// delivery.
///
/// # Errors
/// `MIZU_ERR_CLOSED` after `mizu_client_close` or on a freed handle.
///
/// # Threading
/// The thread where the deliveries should run (for example the UI thread); typically called
/// after `on_pending`, by posting to that thread's loop.
#[no_mangle]
pub extern "C" fn mizu_client_dispatch_pending(
    client: *const MizuClient,
    out_count: *mut usize,
) -> MizuStatus {
    call(|| {
        let ran = handle_types::client(client)?.dispatch_pending()?;
        if !out_count.is_null() {
            // SAFETY: the caller passes NULL (checked above) or a pointer valid for writing.
            unsafe { *out_count = ran };
        }
        Ok(())
    })
}

/// Stores a handle to the collection named `name` in `*out`. Values are JSON.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for an empty or NULL name.
///
/// # Ownership
/// `*out` receives a new handle the caller frees with `mizu_collection_free` (NULL on error).
/// It keeps the client's store alive, not the client handle: after `mizu_client_free` its calls
/// fail with `MIZU_ERR_CLOSED`.
///
/// # Threading
/// Any thread.
#[no_mangle]
pub extern "C" fn mizu_client_collection(
    client: *const MizuClient,
    name: *const c_char,
    out: *mut *mut MizuCollection,
) -> MizuStatus {
    call(|| {
        // SAFETY: the caller passes NULL or a pointer valid for writing a handle.
        let out = unsafe { Out::new(out, "out", std::ptr::null_mut()) }?;
        let client = handle_types::client(client)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call.
        let name = unsafe { text(name, "name") }?;
        if name.is_empty() {
            return Err(CError::invalid("the collection name is empty"));
        }
        out.set(issue(Object::Collection(client.collection(name))));
        Ok(())
    })
}
