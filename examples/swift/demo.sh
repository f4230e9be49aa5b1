#!/usr/bin/env bash
# Runs the todo example as two devices (two SQLite files) against a reference server started
# here, and checks that the second device sees what the first one did. Used by
# scripts/test-swift.sh; usage: demo.sh PATH-TO-mizu-todo (needs $MIZU_SYNC_SERVER_BIN).
set -euo pipefail

todo="$1"
work="$(mktemp -d)"
server_out="$work/server.out"
"$MIZU_SYNC_SERVER_BIN" --addr 127.0.0.1:0 >"$server_out" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$server_out" 2>/dev/null && break
    sleep 0.05
done
url="$(sed -n 's/^listening on \(http:.*\)$/\1\/_sync/p' "$server_out")"
[ -n "$url" ] || { echo "demo.sh: the server did not start" >&2; exit 1; }

phone=("$todo" --server "$url" --db "$work/phone.db")
laptop=("$todo" --server "$url" --db "$work/laptop.db")

echo "--- phone: add Buy milk"
"${phone[@]}" add Buy milk
id="$("${phone[@]}" list | sed -n 's/^\[ \] \(todo-[0-9a-f]*\) .*/\1/p')"
echo "--- laptop: done $id"
"${laptop[@]}" done "$id"
echo "--- phone: list"
out="$("${phone[@]}" list)"
echo "$out"
grep -q "^\[x\] $id  Buy milk$" <<<"$out" || { echo "demo.sh: the phone did not see the laptop's change" >&2; exit 1; }
echo "demo.sh: ok"
