//! Support for the chaos and concurrency suites: a seeded fault-injecting TCP proxy, the
//! server under test with ways to read it from outside (and, for the reference server, from
//! inside), a recording of what the clients queued, the writers' workload, the
//! exactly-once audit and a deadlock watchdog.

#![allow(dead_code)]

pub mod backend;
pub mod ledger;
pub mod proxy;
pub mod verdict;
pub mod watchdog;
pub mod workload;

use std::time::Duration;

/// A duration in seconds from the environment variable `var`, or `default`.
pub fn env_secs(var: &str, default: f64) -> Duration {
    let secs = match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or_else(|| panic!("{var} must be a positive number of seconds, not {text:?}")),
        Err(_) => default,
    };
    Duration::from_secs_f64(secs)
}
