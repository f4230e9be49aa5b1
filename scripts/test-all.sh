#!/usr/bin/env bash
# The single entry point for every test suite of mizu-sync (README: "Run all tests").
# Installs what it needs, keeps build caches outside the clone, and fails loudly: a suite that
# cannot run is a failing suite, never a silent skip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

suites_passed=0
suites_failed=0
failed_names=()

run_suite() {
    local name="$1"
    shift
    echo
    echo "=== suite: $name"
    local start=$SECONDS
    if "$@"; then
        suites_passed=$((suites_passed + 1))
        echo "=== suite $name: ok ($((SECONDS - start)) s)"
    else
        suites_failed=$((suites_failed + 1))
        failed_names+=("$name")
        echo "=== suite $name: FAILED ($((SECONDS - start)) s)"
    fi
}

rust_lint() {
    cargo fmt --all --check &&
        cargo clippy --workspace --all-targets --all-features -- -D warnings &&
        RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features -p mizu-sync
}

rust_tests() {
    cargo test --all-features
}

# The README's demo command, kept true.
demo() {
    cargo run --quiet --example quickstart --features server
}

# The client scenario suite against the real mizu server (Go harness in tests/interop), and the
# harness's own tests. Go is on this machine kind; without it the suite fails, loudly.
interop() {
    if ! command -v go >/dev/null 2>&1; then
        echo "interop: 'go' is not installed; the interop suite cannot run (install Go 1.26+)" >&2
        return 1
    fi
    (cd tests/interop/harness && GOFLAGS=-mod=mod GOTOOLCHAIN=local go test ./...) &&
        MIZU_HARNESS_BIN="$(bash scripts/interop-server.sh)" &&
        MIZU_HARNESS_BIN="$MIZU_HARNESS_BIN" MIZU_SYNC_TEST_SERVER=mizu \
            cargo test --all-features --test client_sync --test chaos_sync --test concurrency_writers \
                --test query_sync --test client_async
}

run_suite rust-lint rust_lint
# bindings/README.md's naming table against the public names of every binding.
run_suite vocabulary python3 scripts/check-vocabulary.py
run_suite rust rust_tests
run_suite c bash scripts/test-c.sh
run_suite python bash scripts/test-python.sh
run_suite kotlin bash scripts/test-kotlin.sh
run_suite swift bash scripts/test-swift.sh
# What users install (scripts/release.sh into dist/), used from outside the repository; after the
# binding suites, whose release library and local Maven repository it reuses.
run_suite release bash scripts/test-release.sh
run_suite demo demo
run_suite interop-mizu interop

echo
echo "suites: $suites_passed passed, $suites_failed failed"
if [ "$suites_failed" -ne 0 ]; then
    echo "failed suites: ${failed_names[*]}"
    exit 1
fi
