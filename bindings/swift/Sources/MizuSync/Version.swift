// The package's version: the crate's (Cargo.toml), stamped here by `scripts/version.py stamp`
// and checked by `scripts/version.py check` (scripts/test-all.sh, suite `release`).

/// The version of mizu-sync this package is (the same as the Rust crate, the wheel, the Maven
/// artifact and the C header's `MIZU_SYNC_VERSION`).
public let mizuSyncVersion = "0.1.0"
