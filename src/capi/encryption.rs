//! `mizu_client_rekey`: changing the key of an encrypted store (the key itself is the
//! `encryption_key` of the options JSON, see `mizu_client_new`).

use std::ffi::c_char;

use super::boundary::{call, text};
use super::handle_types::{self, MizuClient};
use super::status::MizuStatus;

/// Re-encrypts the client's store file with `new_key` (NUL-terminated UTF-8), in one
/// transaction: from then on only `new_key` opens it (as the `encryption_key` of the options).
/// Takes time in proportion to the file's size.
///
/// # Errors
/// `MIZU_ERR_INVALID_ARGUMENT` for a NULL or empty key, or a client whose store was opened
/// without an `encryption_key` (plain or in memory); `MIZU_ERR_CLOSED` after
/// `mizu_client_close`; `MIZU_ERR_STORAGE` when the file cannot be rewritten (it then keeps the
/// old key).
///
/// # Ownership
/// `new_key` is only read during the call.
///
/// # Threading
/// Any thread; waits for a local write in progress.
#[no_mangle]
pub extern "C" fn mizu_client_rekey(
    client: *const MizuClient,
    new_key: *const c_char,
) -> MizuStatus {
    call(|| {
        let client = handle_types::client(client)?;
        // SAFETY: the caller passes a NUL-terminated string valid for this call (NULL is refused).
        let new_key = unsafe { text(new_key, "new_key") }?;
        Ok(client.rekey(new_key)?)
    })
}
