//! A small seeded random number generator (SplitMix64) and the run's seed, so that every chaos
//! decision can be replayed: the seed is printed and `MIZU_CHAOS_SEED` overrides it.

use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that fixes the seed of a run.
pub const SEED_VAR: &str = "MIZU_CHAOS_SEED";

/// The seed of this run: `MIZU_CHAOS_SEED` when set (decimal or `0x` hex), else the clock.
/// Printed, so that a failing run can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var(SEED_VAR) {
        Ok(text) => parse_seed(&text).unwrap_or_else(|| {
            panic!("{SEED_VAR} must be a u64 (decimal or 0x hex), not {text:?}")
        }),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed),
    };
    eprintln!("{test}: seed {seed} (replay with {SEED_VAR}={seed})");
    seed
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// SplitMix64: tiny, fast, and good enough to pick faults and operations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for `stream` (a client, a connection, a thread) of this seed.
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A value in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[test]
fn derived_streams_are_reproducible_and_distinct() {
    let (mut a, mut b) = (Rng::derive(7, 1), Rng::derive(7, 1));
    let mut c = Rng::derive(7, 2);
    let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
    assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
    assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
    assert_eq!(parse_seed("0x10"), Some(16));
    assert_eq!(parse_seed(" 42 "), Some(42));
    assert_eq!(parse_seed("x"), None);
}
