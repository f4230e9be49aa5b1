//! Retry delays: exponential between bounds, with jitter from a seeded generator.

use std::time::Duration;

/// Exponential backoff with "equal jitter": the n-th consecutive failure waits a delay drawn
/// uniformly from `[d/2, d]` (never below `min`), where `d = min(max, min * 2^n)`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
    rng: SplitMix64,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            min,
            max,
            failures: 0,
            rng: SplitMix64(seed),
        }
    }

    /// The delay before retrying after one more consecutive failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .min
            .checked_mul(1u32.checked_shl(self.failures).unwrap_or(u32::MAX))
            .map_or(self.max, |d| d.min(self.max));
        self.failures = self.failures.saturating_add(1);
        self.jitter(ceiling)
    }

    /// The long delay after an auth failure: around `max`, whatever the failure count.
    pub(crate) fn long_delay(&mut self) -> Duration {
        self.jitter(self.max)
    }

    /// Back to the shortest delay (after a success).
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// A delay drawn uniformly from `[max(ceiling/2, min), ceiling]`.
    fn jitter(&mut self, ceiling: Duration) -> Duration {
        let floor = (ceiling / 2).max(self.min);
        let span = ceiling.saturating_sub(floor).as_nanos();
        if span == 0 {
            return ceiling;
        }
        let offset = u128::from(self.rng.next()) % (span + 1);
        // `offset <= span`, and span fits a Duration, so the conversion cannot truncate.
        floor + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX))
    }
}

/// SplitMix64: a tiny, good-enough generator for jitter and for seeded tests (not for anything
/// secret).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    /// The next number of the sequence.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(30);

    #[test]
    fn grows_exponentially_within_jittered_bounds() {
        let mut backoff = Backoff::new(MIN, MAX, 7);
        let mut delays = Vec::new();
        for n in 0..10u32 {
            let ceiling = (MIN * 2u32.pow(n)).min(MAX);
            let delay = backoff.next_delay();
            assert!(
                delay <= ceiling && delay >= (ceiling / 2).max(MIN),
                "{n}: {delay:?}"
            );
            delays.push(delay);
        }
        assert!(delays[9] > delays[2]);
        assert!(
            delays[6..].iter().any(|d| *d != MAX),
            "jitter below the cap"
        );
    }

    #[test]
    fn is_deterministic_per_seed_and_differs_between_seeds() {
        let run = |seed| {
            let mut b = Backoff::new(MIN, MAX, seed);
            (0..8).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn restarts_from_the_minimum_after_a_reset_and_survives_many_failures() {
        let mut backoff = Backoff::new(MIN, MAX, 3);
        for _ in 0..200 {
            assert!(backoff.next_delay() <= MAX);
        }
        backoff.reset();
        assert_eq!(backoff.next_delay(), MIN);
        let long = backoff.long_delay();
        assert!(long >= MAX / 2 && long <= MAX);
    }
}
