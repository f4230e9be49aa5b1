//! The client options as JSON text, and the C callbacks struct, turned into [`crate::Options`].

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::callback::{
    MizuConnectivityFn, MizuErrorFn, MizuLogFn, MizuLogLevel, MizuReleaseFn, MizuSyncFn,
    MizuVoidFn, UserData,
};
use super::status::{c_text, status_of, CError};
use crate::Options;

/// The callbacks of a client, all optional (NULL), sharing one `user_data`.
///
/// # Threading
/// `on_sync`, `on_connectivity` and `on_error` (like the effects and listeners woken by server
/// changes) run on the client's sync thread, or, when `on_pending` is set, on the thread that
/// calls `mizu_client_dispatch_pending`. They may call back into the library, except
/// `mizu_client_sync` and `mizu_client_flush` on the sync thread (which then fail with
/// `MIZU_ERR_INVALID_ARGUMENT` instead of deadlocking).
#[repr(C)]
pub struct MizuClientCallbacks {
    /// Passed to every callback below.
    pub user_data: *mut c_void,
    /// After each completed pull or snapshot, with the new cursor.
    pub on_sync: MizuSyncFn,
    /// On each connectivity transition, with `true` when the client went online.
    pub on_connectivity: MizuConnectivityFn,
    /// With each surfaced error (network trouble, a rejected mutation, ...).
    pub on_error: MizuErrorFn,
    /// Non-NULL gives the client a delivery queue: the callbacks above and the effects and
    /// listeners woken by server changes are queued instead of run on the sync thread, and
    /// `on_pending` is called (on a library thread; do not dispatch from inside it) when
    /// deliveries start waiting. Then call `mizu_client_dispatch_pending` on the thread where
    /// they should run, for example by posting to your UI loop from `on_pending`.
    pub on_pending: MizuVoidFn,
    /// Called once when the client and every handle made from it are freed, or before
    /// `mizu_client_new` returns when it fails: the callbacks are never called after it.
    pub release: MizuReleaseFn,
    /// Receives the engine's log records at `min_log_level` or above, at once on the library
    /// thread that decided (never through the delivery queue), with no library lock held.
    pub on_log: MizuLogFn,
    /// The least severe `MizuLogLevel` passed to `on_log`; 0 (a zero-initialized struct) means
    /// `MIZU_LOG_INFO`.
    pub min_log_level: u32,
}

/// The options JSON, strictly: unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsJson {
    base_url: String,
    scope: Option<String>,
    storage_path: Option<String>,
    encryption_key: Option<Secret>,
    durability: Option<String>,
    live_url: Option<String>,
    push_interval_ms: Option<u64>,
    pull_interval_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
    backoff_min_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
    push_batch_size: Option<usize>,
    pull_limit: Option<u32>,
    max_snapshot_bytes: Option<u64>,
    headers: Option<BTreeMap<String, String>>,
}

/// A key that `Debug` never prints.
#[derive(Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Parses the options JSON (see `mizu_client_new`).
pub(crate) fn parse(text: &str) -> Result<Options, CError> {
    let json: OptionsJson =
        serde_json::from_str(text).map_err(|e| CError::json("options_json", &e))?;
    let mut options = Options::new(json.base_url);
    if let Some(scope) = json.scope {
        options = options.scope(scope);
    }
    if let Some(path) = json.storage_path {
        options = options.storage_path(path);
    }
    if let Some(Secret(key)) = json.encryption_key {
        options = options.encryption_key(key);
    }
    if let Some(durability) = json.durability {
        options = options.durability(match durability.as_str() {
            "full" => crate::Durability::Full,
            "normal" => crate::Durability::Normal,
            other => {
                return Err(CError::invalid(format!(
                    "durability must be \"full\" or \"normal\", not {other:?}"
                )))
            }
        });
    }
    if let Some(url) = json.live_url {
        options = options.live_url(url);
    }
    if let Some(ms) = json.push_interval_ms {
        options = options.push_interval(positive("push_interval_ms", ms)?);
    }
    if let Some(ms) = json.pull_interval_ms {
        options = options.pull_interval(positive("pull_interval_ms", ms)?);
    }
    if let Some(ms) = json.request_timeout_ms {
        options = options.request_timeout(positive("request_timeout_ms", ms)?);
    }
    let min = json.backoff_min_ms.map(|ms| positive("backoff_min_ms", ms));
    let max = json.backoff_max_ms.map(|ms| positive("backoff_max_ms", ms));
    if min.is_some() || max.is_some() {
        let min = min.transpose()?.unwrap_or(options.backoff_min);
        let max = max.transpose()?.unwrap_or(options.backoff_max);
        options = options.backoff(min, max);
    }
    if let Some(size) = json.push_batch_size {
        if size == 0 || size > 100 {
            return Err(CError::invalid("push_batch_size must be within 1..=100"));
        }
        options = options.push_batch_size(size);
    }
    if let Some(limit) = json.pull_limit {
        if limit == 0 {
            return Err(CError::invalid("pull_limit must be positive"));
        }
        options = options.pull_limit(limit);
    }
    if let Some(limit) = json.max_snapshot_bytes {
        if limit == 0 {
            return Err(CError::invalid("max_snapshot_bytes must be positive"));
        }
        options = options.max_snapshot_bytes(limit);
    }
    for (name, value) in json.headers.unwrap_or_default() {
        options = options.header(name, value);
    }
    Ok(options)
}

fn positive(name: &str, ms: u64) -> Result<Duration, CError> {
    if ms == 0 {
        return Err(CError::invalid(format!("{name} must be positive")));
    }
    Ok(Duration::from_millis(ms))
}

/// Installs the C callbacks on `options`; `user_data` is released when the last of them goes.
pub(crate) fn with_callbacks(
    mut options: Options,
    callbacks: &MizuClientCallbacks,
    user_data: Arc<UserData>,
) -> Options {
    if let Some(f) = callbacks.on_sync {
        let ud = user_data.clone();
        // SAFETY: the caller registered `f` for this user_data, callable from the sync thread.
        options = options.on_sync(move |cursor| unsafe { f(ud.ptr(), cursor) });
    }
    if let Some(f) = callbacks.on_connectivity {
        let ud = user_data.clone();
        // SAFETY: as for on_sync.
        options = options.on_connectivity(move |online| unsafe { f(ud.ptr(), online) });
    }
    if let Some(f) = callbacks.on_pending {
        let ud = user_data.clone();
        // SAFETY: as for on_sync (called from library threads).
        options = options.delivery_queue(move || unsafe { f(ud.ptr()) });
    }
    if let Some(f) = callbacks.on_log {
        let ud = user_data.clone();
        let minimum = MizuLogLevel::minimum(callbacks.min_log_level);
        options = options.log_sink(minimum, move |record| {
            let target = c_text(record.target);
            let message = c_text(&record.message);
            let level = MizuLogLevel::of(record.level);
            // SAFETY: as for on_sync (called from library threads); both strings outlive the
            // call, as documented (lent).
            unsafe { f(ud.ptr(), level, target.as_ptr(), message.as_ptr()) }
        });
    }
    if let Some(f) = callbacks.on_error {
        let ud = user_data;
        options = options.on_error(move |e| {
            let message = c_text(&e.to_string());
            // SAFETY: as for on_sync; `message` outlives the call, as documented (lent).
            unsafe { f(ud.ptr(), status_of(e), message.as_ptr()) }
        });
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::MizuStatus;

    #[test]
    fn reads_every_documented_option() {
        let options = parse(
            r#"{"base_url":"http://h/_sync","scope":"s","storage_path":"/tmp/x.db",
                "live_url":"ws://h/ws","push_interval_ms":10,"pull_interval_ms":20,
                "request_timeout_ms":30,"backoff_min_ms":5,"backoff_max_ms":50,
                "push_batch_size":7,"pull_limit":9,"headers":{"X-A":"1"}}"#,
        )
        .expect("valid options");
        assert_eq!(options.scope, "s");
        assert_eq!(options.pull_interval, Duration::from_millis(20));
        assert_eq!(options.backoff_max, Duration::from_millis(50));
        assert_eq!(options.push_batch_size, 7);
        assert_eq!(options.headers, [("X-A".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn reads_the_encryption_key_and_never_prints_it() {
        let text = r#"{"base_url":"http://h/_sync","storage_path":"/tmp/x.db",
                       "encryption_key":"hunter2-hunter2"}"#;
        let options = parse(text).expect("valid options");
        assert_eq!(options.encryption_key.as_deref(), Some("hunter2-hunter2"));
        assert!(!format!("{options:?}").contains("hunter2"));
        let json: OptionsJson = serde_json::from_str(text).unwrap();
        assert!(!format!("{json:?}").contains("hunter2"));
    }

    #[test]
    fn reads_the_durability_and_refuses_an_unknown_mode() {
        let base = r#"{"base_url":"http://h/_sync","storage_path":"/tmp/x.db""#;
        let parsed = |extra: &str| parse(&format!("{base}{extra}}}"));
        assert_eq!(parsed("").unwrap().durability, crate::Durability::Full);
        let normal = parsed(r#","durability":"normal""#).unwrap();
        assert_eq!(normal.durability, crate::Durability::Normal);
        let full = parsed(r#","durability":"full""#).unwrap();
        assert_eq!(full.durability, crate::Durability::Full);
        let unknown = parsed(r#","durability":"off""#).unwrap_err();
        assert_eq!(unknown.status, MizuStatus::MizuErrInvalidArgument);
        assert!(
            unknown.message.contains("durability"),
            "{}",
            unknown.message
        );
        let wrong_type = parsed(r#","durability":1"#).unwrap_err();
        assert_eq!(wrong_type.status, MizuStatus::MizuErrInvalidArgument);
    }

    #[test]
    fn refuses_unknown_keys_and_malformed_text() {
        let unknown = parse(r#"{"base_url":"http://h","colour":"blue"}"#).unwrap_err();
        assert_eq!(unknown.status, MizuStatus::MizuErrInvalidArgument);
        assert!(unknown.message.contains("colour"), "{}", unknown.message);
        let malformed = parse("{\"base_url\":").unwrap_err();
        assert_eq!(malformed.status, MizuStatus::MizuErrInvalidJson);
        let zero = parse(r#"{"base_url":"http://h","pull_interval_ms":0}"#).unwrap_err();
        assert_eq!(zero.status, MizuStatus::MizuErrInvalidArgument);
    }
}
