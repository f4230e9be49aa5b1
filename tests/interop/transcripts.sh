#!/usr/bin/env bash
# Prints the raw HTTP and WebSocket transcripts quoted in README.md, observed
# against a fresh harness on 127.0.0.1. Needs go, curl and python3.
# Date and X-Request-Id response headers are left out (they change every run).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$("$root/scripts/interop-server.sh")"
out="$(mktemp)"
"$bin" -addr 127.0.0.1:0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
base="$(sed -n 's/^listening on //p' "$out")"
[ -n "$base" ] || { echo "harness did not start" >&2; exit 1; }

# post PATH BODY: one POST with a JSON body, printed as a transcript.
post() {
    printf '$ curl -si -X POST %s -H '\''Content-Type: application/json'\'' -d '\''%s'\''\n' "\$BASE$1" "$2"
    curl -si -X POST "$base$1" -H 'Content-Type: application/json' --data-binary "$2" |
        tr -d '\r' | grep -vi '^date:\|^x-request-id:'
    echo
}
# call METHOD PATH: one request without a body.
call() {
    printf '$ curl -si -X %s %s\n' "$1" "\$BASE$2"
    curl -si -X "$1" "$base$2" | tr -d '\r' | grep -vi '^date:\|^x-request-id:'
    echo
}

echo '--- push, pull, snapshot'
post /_sync/pull '{"cursor":0}'
post /_sync/push '{"mutations":[{"id":"m1","name":"todo.create","args":{"id":"t1","data":{"title":"milk"}}},{"id":"m2","name":"todo.create","args":{"id":"t1","data":{}}},{"id":"m3","scope":"s2","name":"todo.update","args":{"id":"t9","data":1}},{"id":"m4","name":"todo.archive","args":{"id":"t1"}}]}'
post /_sync/push '{"mutations":[{"id":"m5","name":"todo.update","args":{"id":"t1","data":{"title":"oat milk"}}},{"id":"m6","scope":"s2","name":"note.create","args":{"id":"n1","data":"hi"}},{"id":"m7","name":"todo.delete","args":{"id":"t1"}}]}'
echo '--- dedupe: m1 again'
post /_sync/push '{"mutations":[{"id":"m1","name":"todo.create","args":{"id":"t1","data":{"title":"milk"}}}]}'
echo '--- cursor gaps and paging'
post /_sync/pull '{"cursor":0,"limit":2}'
post /_sync/pull '{"scope":"s2","cursor":0}'
post /_sync/pull '{"cursor":3}'
post /_sync/snapshot '{}'
post /_sync/snapshot '{"scope":"s2"}'
echo '--- strict decoding and limits'
post /_sync/push '{"mutations":[{"id":"m8","name":"todo.create","args":{"id":"t2","data":1},"client":"c1","seq":1}]}'
post /_sync/push ''
post /_sync/push '{"mutations":[]}'
post /_sync/pull '{"cursor":0} {}'
post /_sync/snapshot '{"scope":"s2","cursor":0}'
python3 -c 'import json; print(json.dumps({"mutations":[{"id":"b%d"%i,"name":"n.create"} for i in range(101)]}))' >"$out.101"
printf '$ curl -si -X POST $BASE/_sync/push -H '\''Content-Type: application/json'\'' --data-binary @101-mutations.json\n'
curl -si -X POST "$base/_sync/push" -H 'Content-Type: application/json' --data-binary @"$out.101" | tr -d '\r' | grep -vi '^date:\|^x-request-id:'
echo
python3 -c 'print("{\"cursor\":0,\"scope\":\"" + "s"*65536 + "\"}")' >"$out.big"
printf '$ curl -si -X POST $BASE/_sync/pull -H '\''Content-Type: application/json'\'' --data-binary @65560-bytes.json\n'
curl -si -X POST "$base/_sync/pull" -H 'Content-Type: application/json' --data-binary @"$out.big" | tr -d '\r' | grep -vi '^date:\|^x-request-id:'
echo
rm -f "$out.101" "$out.big"
echo '--- routing'
call GET /_sync/pull
call POST /_sync/nope
echo '--- admin: trim, then 410'
post /_admin/trim '{}'
post /_sync/pull '{"cursor":1}'
post /_sync/pull '{"cursor":5}'
echo '--- admin: reject'
post /_admin/reject '{"name":"todo.create","arg_contains":"\"bad\"","error":"app: bad title"}'
post /_sync/push '{"mutations":[{"id":"r1","name":"todo.create","args":{"id":"t3","data":"bad"}},{"id":"r2","name":"todo.create","args":{"id":"t4","data":"good"}}]}'
post /_admin/reject '{"clear":true}'
echo '--- live'
call GET /ws
python3 - "${base#http://}" <<'PY'
import base64, os, socket, sys, json, urllib.request
host, port = sys.argv[1].split(":")

def frame(text):
    payload, mask = text.encode(), os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked

def read_frame(sock):
    head = sock.recv(2)
    n = head[1] & 0x7F
    data = b""
    while len(data) < n:
        data += sock.recv(n - len(data))
    return head[0] & 0x0F, data.decode()

s = socket.create_connection((host, int(port)))
key = base64.b64encode(os.urandom(16)).decode()
req = (f"GET /ws?scope=s2 HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
       f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n")
s.sendall(req.encode())
resp = b""
while b"\r\n\r\n" not in resp:
    resp += s.recv(1)
print("> GET /ws?scope=s2 (Upgrade: websocket, Sec-WebSocket-Version: 13)")
print("< " + resp.decode().split("\r\n")[0])
sub = '{"topic":"subscribe","data":{}}'
s.sendall(frame(sub))
print("> text " + sub)
s.sendall(bytes([0x89, 0x80]) + os.urandom(4))  # masked ping: its pong proves the subscribe was handled
op, _ = read_frame(s)
print("< pong" if op == 0x0A else f"< opcode {op}")
body = json.dumps({"mutations": [{"id": "w1", "scope": "s2", "name": "note.create",
                                  "args": {"id": "n2", "data": "live"}}]}).encode()
r = urllib.request.Request(f"http://{host}:{port}/_sync/push", body, {"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
print("(push w1 to scope s2)")
op, text = read_frame(s)
print(f"< text {text}")
PY
