#!/usr/bin/env bash
# The Swift package's suite, from a fresh machine: the Swift toolchain (a Debian trixie root
# filesystem with swiftlang, built once by scripts/swift-toolchain.sh), the Rust library
# (release) and the reference server (debug) built on the host, a check that the committed
# generated bindings match a fresh generation, then `swift build` and `swift test` of
# bindings/swift and a run of the example (examples/swift/todo) inside the root filesystem.
# Non-interactive; fails loudly. Needs root (chroot) and a Rust toolchain.
#
# SwiftPM's build directories live in $CARGO_TARGET_DIR/swift-build and
# $CARGO_TARGET_DIR/swift-example (outside the clone), so reruns are warm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

step() { echo "test-swift.sh: $*"; }

step "Swift toolchain"
bash scripts/swift-toolchain.sh >/dev/null

step "building the Rust library (release) and the reference server"
cargo build --quiet --release --lib
cargo build --quiet --features server --bin mizu-sync-server

step "checking the committed generated bindings"
bash bindings/swift/generate.sh --check

# Paths as seen inside the root filesystem (scripts/swift-run.sh bind-mounts them).
inside="set -o pipefail && export MIZU_SYNC_LIB_DIR=/work/target/release"
inside="$inside MIZU_SYNC_SERVER_BIN=/work/target/debug/mizu-sync-server"
inside="$inside && swift --version 2>&1 | head -n 1"

step "swift build and swift test (bindings/swift)"
# A hung test fails the suite after ten minutes instead of hanging CI; SIGKILL reaches the
# test process too (swift test's whole process group).
status=0
bash scripts/swift-run.sh "$inside && \
    swift build --package-path bindings/swift --scratch-path /work/target/swift-build \
        --build-tests && \
    timeout --kill-after=10 600 swift test --package-path bindings/swift \
        --scratch-path /work/target/swift-build --skip-build 2>&1 | tee /work/target/swift-test.log" ||
    status=$?
# Beyond swift test's status: both frameworks must have run tests, and passed them.
log="$CARGO_TARGET_DIR/swift-test.log"
xctest="$(grep -E "^Test Suite 'All tests' (passed|failed)" -A 1 "$log" | tail -n 1 || true)"
testing="$(grep -E "Test run with [0-9]+ tests? (passed|failed)" "$log" | tail -n 1 || true)"
echo
step "XCTest: ${xctest:-no summary}"
step "Swift Testing: ${testing:-no summary}"
if [ "$status" -ne 0 ] ||
    ! grep -qE "^Test Suite 'All tests' passed" "$log" ||
    ! grep -qE "Executed [1-9][0-9]* tests?, with 0 failures" "$log" ||
    ! grep -qE "Test run with [1-9][0-9]* tests? passed" "$log"; then
    step "FAILED (status $status; full log: $log)" >&2
    exit 1
fi

step "building and running the example (examples/swift/todo)"
# SwiftPM has once been seen to miss a source file added to the path dependency
# (bindings/swift) in a warm scratch directory; a failed build is retried once from scratch.
example_build="swift build --package-path examples/swift/todo --scratch-path /work/target/swift-example"
bash scripts/swift-run.sh "$inside && \
    { $example_build || { echo 'test-swift.sh: retrying the example build from an empty cache' && \
        rm -rf /work/target/swift-example && $example_build; }; } && \
    bash examples/swift/demo.sh /work/target/swift-example/debug/mizu-todo"
step "ok"
