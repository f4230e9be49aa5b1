#!/usr/bin/env bash
# The Swift binding's hot-path benchmark (issue 14): builds the Rust library (release), then
# builds and runs bindings/swift's MizuSyncBench executable in release mode (`swift run -c
# release`) inside the Swift root filesystem (scripts/swift-run.sh). Prints a Markdown table:
# a plain Swift peer, the bare generated call, the bare direct call, and the wrapper's
# signals, entities, effects and observers, with the load average at the start and the end.
#
# MIZU_SWIFT_BENCH_N (default 20000) and MIZU_SWIFT_BENCH_RUNS (default 5) pass through.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

bash scripts/swift-toolchain.sh >/dev/null
cargo build --quiet --release --lib

inside="export MIZU_SYNC_LIB_DIR=/work/target/release"
inside="$inside MIZU_SWIFT_BENCH_N=${MIZU_SWIFT_BENCH_N:-20000}"
inside="$inside MIZU_SWIFT_BENCH_RUNS=${MIZU_SWIFT_BENCH_RUNS:-5}"
bash scripts/swift-run.sh "$inside && swift --version 2>&1 | head -n 1 && \
    swift build -c release --package-path bindings/swift \
        --scratch-path /work/target/swift-bench --product MizuSyncBench && \
    /work/target/swift-bench/release/MizuSyncBench"
