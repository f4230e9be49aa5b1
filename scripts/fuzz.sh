#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (nightly Rust, libFuzzer).
# Separate from scripts/test-all.sh: the crashes it ever found are replayed on stable by
# tests/fuzz_regressions.rs, which is part of the normal test run.
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh     # longer (FUZZ_MAX_LEN: largest input, default 4096)
#   scripts/fuzz.sh sync_session codec_round_trip
#
# Installs cargo-fuzz (pinned, --locked) into $MIZU_CACHE/tools when missing. Corpora and crash
# artifacts live in $MIZU_CACHE/fuzz/<target>/ (outside the clone), seeded from fuzz/seeds/.
# Exits non-zero if any target found a crash; the crashing inputs are listed at the end.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

seconds="${FUZZ_SECONDS:-60}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
# The crate denies unsafe code, so panics and overflows (debug assertions are on) are what the
# targets hunt; AddressSanitizer would mostly slow them down. FUZZ_SANITIZER=address to add it.
sanitizer="${FUZZ_SANITIZER:-none}"
cargo_fuzz_version="0.13.2"
tools="$MIZU_CACHE/tools"
export PATH="$tools/bin:$PATH"
# Nightly builds with sanitizer flags: a target dir of their own, so stable caches stay warm.
export CARGO_TARGET_DIR="$MIZU_CACHE/target-fuzz-nightly"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "fuzz: the '$toolchain' toolchain is missing: rustup toolchain install $toolchain" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz $cargo_fuzz_version into $tools"
    CARGO_TARGET_DIR="$MIZU_CACHE/target-tools" \
        cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --root "$tools"
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

crashes=()
for target in "${targets[@]}"; do
    corpus="$MIZU_CACHE/fuzz/$target/corpus"
    artifacts="$MIZU_CACHE/fuzz/$target/artifacts"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "fuzz/seeds/$target" ]; then
        cp -n "fuzz/seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    echo
    echo "=== fuzz: $target for ${seconds}s (corpus: $(find "$corpus" -type f | wc -l) inputs)"
    stamp="$(mktemp)"
    status=0
    cargo "+$toolchain" fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$target" "$corpus" -- \
        -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict=fuzz/dict/json.dict -artifact_prefix="$artifacts/" || status=$?
    echo "=== fuzz $target: exit $status, corpus $(find "$corpus" -type f | wc -l) inputs"
    if [ "$status" -ne 0 ]; then
        while IFS= read -r file; do crashes+=("$file"); done < <(find "$artifacts" -type f -newer "$stamp")
        [ "${#crashes[@]}" -gt 0 ] || crashes+=("$target (exit $status, no artifact)")
    fi
    rm -f "$stamp"
done

echo
if [ "${#crashes[@]}" -ne 0 ]; then
    echo "fuzz: crashes found (add each to tests/fuzz_regressions.rs):"
    printf '  %s\n' "${crashes[@]}"
    exit 1
fi
echo "fuzz: no crashes in ${#targets[@]} targets"
