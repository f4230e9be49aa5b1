#!/usr/bin/env bash
# The Python bindings' suite, from a fresh machine: a venv in $MIZU_CACHE (outside the clone),
# maturin + pytest + the package built from source (`pip install ./bindings/python`, a release
# wheel with the native library and the generated module), the reference server binary, then
# pytest and the example. Non-interactive; fails loudly.
#
# Needs python3 (3.9+) with the venv module, and a Rust toolchain (cargo).
# Set MIZU_PYTHON_BENCH=1 to also run the hot-operation benchmark (bench/bench_signals.py, with its
# pure-Python peer reaktiv installed; its table is recorded in BENCHMARKS.md) and the live query
# benchmark (bench/query_bench.py).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "test-python.sh: $python is not installed; the Python suite needs Python 3.9+" >&2
    exit 1
fi

venv="$MIZU_CACHE/venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "test-python.sh: creating $venv"
    "$python" -m venv "$venv" || {
        echo "test-python.sh: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "maturin>=1.9,<2" "pytest>=7"
# maturin's build backend runs the `maturin` executable from PATH.
export PATH="$venv/bin:$PATH"

# The wheel: maturin builds the library and runs the workspace's uniffi-bindgen, both in
# $CARGO_TARGET_DIR, so reruns are incremental. --force-reinstall picks up source changes.
# Tests use a dev-profile library by default (it reuses the debug dependencies the Rust suite
# built); MIZU_PYTHON_PROFILE=release builds what `pip install` ships. The benchmark always
# uses release.
profile="${MIZU_PYTHON_PROFILE:-dev}"
if [ "${MIZU_PYTHON_BENCH:-0}" = "1" ]; then
    profile=release
fi
export MATURIN_PEP517_ARGS="--profile $profile"
echo "test-python.sh: building and installing the wheel (pip install ./bindings/python, $profile)"
# --no-build-isolation: use the venv's maturin (no download per run).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    --no-build-isolation \
    ./bindings/python

echo "test-python.sh: building the reference server"
cargo build --quiet --features server --bin mizu-sync-server
export MIZU_SYNC_SERVER_BIN="$CARGO_TARGET_DIR/debug/mizu-sync-server"

# Run from outside the clone's package sources so that the installed wheel is what is tested.
(cd bindings/python && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)

echo "test-python.sh: running examples/python/todo.py"
"$venv/bin/python" examples/python/todo.py

if [ "${MIZU_PYTHON_BENCH:-0}" = "1" ]; then
    # The benchmark's pure-Python peer (the package's `bench` extra).
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "reaktiv>=0.24,<0.25"
    "$venv/bin/python" bindings/python/bench/bench_signals.py
    "$venv/bin/python" bindings/python/bench/query_bench.py
fi
