# Shared environment of the project's scripts: build caches in a fixed place outside the clone,
# so reruns on the same machine are warm and a fresh clone never rebuilds from scratch twice.
export MIZU_CACHE="${MIZU_CACHE:-$HOME/.cache/mizu-sync}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MIZU_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$MIZU_CACHE"

# Starts the reference server binary $1 on a free port of 127.0.0.1 (admin endpoints on), its
# output in directory $2; sets `server_pid` and `server_url` (`http://ADDR/_sync`) and kills
# it when the calling script exits. Exits the script when the server does not start.
start_reference_server() {
    local bin="$1" dir="$2" out="$2/server.out" addr=""
    "$bin" --addr 127.0.0.1:0 --admin >"$out" 2>"$dir/server.err" &
    server_pid=$!
    trap 'kill "$server_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 200); do
        addr="$(sed -n 's|^listening on http://||p' "$out")"
        [ -n "$addr" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$addr" ]; then
        cat "$dir/server.err" >&2
        echo "$(basename "$0"): the reference server did not start" >&2
        exit 1
    fi
    server_url="http://$addr/_sync"
}
