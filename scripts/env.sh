# Shared environment of the project's scripts: build caches in a fixed place outside the clone,
# so reruns on the same machine are warm and a fresh clone never rebuilds from scratch twice.
export MIZU_CACHE="${MIZU_CACHE:-$HOME/.cache/mizu-sync}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MIZU_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$MIZU_CACHE"
