//! Test support shared by mizu-sync's unit tests (in `src/`), its integration tests
//! (`tests/`) and its benchmarks (`benches/`): one seeded random number generator, one wait for
//! a condition, temporary directories, and the scripted HTTP and WebSocket servers the
//! transport tests talk to. Not published; it does not depend on mizu-sync, so the crate's own
//! `#[cfg(test)]` modules can use it as a dev-dependency.

pub mod http_server;
pub mod js_random;
pub mod proxy;
pub mod rng;
pub mod ws_server;

use std::time::{Duration, Instant};

pub use rng::Rng;
pub use tempfile::TempDir;

/// Longest a test waits for something that should happen soon.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `condition` every few milliseconds until it holds; panics with `what` ("the client is
/// online") when [`WAIT`] passes first. For conditions nothing signals: where a test can be
/// woken (a channel, a condition variable), it waits on that instead.
pub fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    wait_until_within(WAIT, what, condition)
}

/// [`wait_until`] with its own bound, for the few waits that are slow by nature (megabytes
/// written by a debug build).
pub fn wait_until_within(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A fresh temporary directory (removed when dropped), named after `name` for debugging.
pub fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("mizu-{name}-"))
        .tempdir()
        .expect("a temporary directory")
}
