//! The reconnect delay: exponential backoff with jitter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::LiveConfig;

/// The delay before the next attempt after `failures` failed ones in a row: exponential from
/// `backoff_min`, capped at `backoff_max`, with "equal jitter" (half fixed, half random).
pub(super) fn backoff(cfg: &LiveConfig, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.min(16));
    let delay = cfg.backoff_min.saturating_mul(factor).min(cfg.backoff_max);
    let half = delay / 2;
    half + half.mul_f64(random_fraction())
}

/// A random number in `[0, 1)` from std's randomly keyed hasher (good enough for jitter).
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_backoff_within_its_bounds_and_growing() {
        let mut cfg = LiveConfig::new("ws://h", "s");
        cfg.backoff_min = Duration::from_millis(100);
        cfg.backoff_max = Duration::from_millis(1000);
        for failures in 0..40 {
            let cap = (100u64 << failures.min(10)).min(1000);
            let delay = backoff(&cfg, failures).as_millis() as u64;
            assert!(
                delay >= cap / 2 && delay <= cap,
                "{failures}: {delay} not in [{}, {cap}]",
                cap / 2
            );
        }
    }
}
