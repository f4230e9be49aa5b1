//! Shared helpers for the benchmarks of `mizu-sync` against named peers.
