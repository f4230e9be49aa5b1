//! Replays, on stable Rust, every input the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) were
//! seeded with or ever crashed on, through the same harness functions (`mizu_sync::__fuzz`),
//! plus a few thousand deterministic pseudo-random inputs per harness.
//!
//! A crash found by the fuzzer is added as a file under `fuzz/regressions/<target>/` (named
//! after what it found) and fixed; this test then keeps it fixed.

#![cfg(feature = "fuzzing")]

use std::fs;
use std::path::PathBuf;

use mizu_sync::__fuzz;
use mizu_test_support::Rng;

type Harness = fn(&[u8]);

const TARGETS: [(&str, Harness); 5] = [
    ("sync_session", __fuzz::sync_session),
    ("live_message", __fuzz::live_message),
    ("codec_round_trip", __fuzz::codec_round_trip),
    ("store_operations", __fuzz::store_operations),
    ("snapshot_body", __fuzz::snapshot_body),
];

/// The files under `fuzz/<kind>/<target>/`, sorted by name.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        // A target the fuzzer never crashed has no regressions folder (git keeps no empty ones).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && kind == "regressions" => {
            return Vec::new()
        }
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

fn replay(kind: &str) -> usize {
    let mut replayed = 0;
    for (target, harness) in TARGETS {
        for (path, bytes) in inputs(kind, target) {
            eprintln!("replaying {}", path.display());
            harness(&bytes);
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn every_crash_the_fuzzer_found_stays_fixed() {
    let replayed = replay("regressions");
    assert!(
        replayed >= 3,
        "the three crash inputs found so far are replayed, not {replayed}"
    );
}

#[test]
fn every_seed_input_passes_its_harness() {
    assert!(replay("seeds") >= TARGETS.len(), "each target has seeds");
}

/// Deterministic inputs from the tests' seeded generator.
struct Inputs(Rng);

impl Inputs {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Random bytes, or a seed with a few bytes flipped, up to 256 bytes.
    fn input(&mut self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = match (self.next() % 2, seeds.len()) {
            (0, n) if n > 0 => seeds[self.next() as usize % n].clone(),
            _ => (0..self.next() % 256).map(|_| self.next() as u8).collect(),
        };
        for _ in 0..self.next() % 4 {
            if !bytes.is_empty() {
                let at = self.next() as usize % bytes.len();
                bytes[at] = self.next() as u8;
            }
        }
        bytes
    }
}

#[test]
fn the_harnesses_hold_on_pseudo_random_inputs() {
    for (target, harness) in TARGETS {
        let seeds: Vec<Vec<u8>> = inputs("seeds", target)
            .into_iter()
            .map(|(_, bytes)| bytes)
            .collect();
        let mut inputs = Inputs(Rng::new(0x6d69_7a75 ^ target.len() as u64));
        for _ in 0..2000 {
            harness(&inputs.input(&seeds));
        }
    }
}
