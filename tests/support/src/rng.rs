//! The one seeded random number generator of the tests and benchmarks ([`fastrand`]'s wyrand),
//! with the draws they make, and the seed of a run: printed, and overridden by an environment
//! variable, so that every random decision can be replayed.

use std::time::{SystemTime, UNIX_EPOCH};

/// A seeded generator: the same seed gives the same sequence.
#[derive(Debug, Clone)]
pub struct Rng(fastrand::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// An independent stream for `stream` (a client, a connection, a thread) of this seed.
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut parent =
            fastrand::Rng::with_seed(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Rng(fastrand::Rng::with_seed(parent.u64(..)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.u64(..n)
    }

    /// A value in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0.u64(lo..=hi)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The seed of a run of `test`: the environment variable `var` when set (decimal or `0x` hex;
/// `random` means the clock), else the clock. Printed, so that a failing run can be replayed.
pub fn seed(test: &str, var: &str) -> u64 {
    let seed = match std::env::var(var) {
        Ok(text) if text.trim() == "random" => from_clock(),
        Ok(text) => parse_seed(&text).unwrap_or_else(|| {
            panic!("{var} must be a u64 (decimal or 0x hex) or `random`, not {text:?}")
        }),
        Err(_) => from_clock(),
    };
    eprintln!("{test}: seed {seed} (replay with {var}={seed})");
    seed
}

fn from_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0x5eed, |d| d.as_nanos() as u64)
}

/// A seed as `MIZU_*_SEED` gives it: decimal or `0x` hex.
pub fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            assert!(rng.below(3) < 3);
            assert!((5..=9).contains(&rng.between(5, 9)));
        }
        assert!(!Rng::new(2).chance(0));
        assert!(Rng::new(2).chance(100));
    }
}
