#!/usr/bin/env bash
# Generates the UniFFI Swift bindings from the release library into the package's sources:
#   Sources/MizuSyncFFI/MizuSyncFFI.swift, Sources/MizuSyncFFIC/MizuSyncFFIC.h and
#   Sources/MizuSyncFFIC/module.modulemap (UniFFI's MizuSyncFFIC.modulemap, renamed).
# They are committed, so that the package works without a Rust toolchain once the native
# library is at hand. With --check, compares a fresh generation with the committed files
# instead, and fails when they differ (run by scripts/test-swift.sh).
#
# Needs `cargo build --release --lib` first (the bindgen reads the library's metadata).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: generate.sh [--check]" >&2; exit 2 ;;
esac

library="$CARGO_TARGET_DIR/release/libmizu_sync.so"
[ "$(uname -s)" = Darwin ] && library="$CARGO_TARGET_DIR/release/libmizu_sync.dylib"
if [ ! -f "$library" ]; then
    echo "generate.sh: $library is missing; run 'cargo build --release --lib' first" >&2
    exit 1
fi

out="$CARGO_TARGET_DIR/swift-generated"
rm -rf "$out"
cargo run --quiet --bin uniffi-bindgen -- generate --library "$library" --language swift \
    --out-dir "$out" --no-format

package="$root/bindings/swift/Sources"
pairs=(
    "$out/MizuSyncFFI.swift:$package/MizuSyncFFI/MizuSyncFFI.swift"
    "$out/MizuSyncFFIC.h:$package/MizuSyncFFIC/MizuSyncFFIC.h"
    "$out/MizuSyncFFIC.modulemap:$package/MizuSyncFFIC/module.modulemap"
)
stale=0
for pair in "${pairs[@]}"; do
    fresh="${pair%%:*}"
    committed="${pair#*:}"
    if [ "$check" -eq 1 ]; then
        if ! diff -q "$fresh" "$committed" >/dev/null 2>&1; then
            echo "generate.sh: ${committed#"$root"/} differs from a fresh generation" >&2
            stale=1
        fi
    else
        mkdir -p "$(dirname "$committed")"
        cp "$fresh" "$committed"
    fi
done
if [ "$stale" -ne 0 ]; then
    echo "generate.sh: the committed Swift bindings are stale; run bindings/swift/generate.sh" >&2
    exit 1
fi
[ "$check" -eq 1 ] && echo "generate.sh: committed Swift bindings match a fresh generation"
exit 0
