#!/usr/bin/env bash
# Builds the interop harness (the real mizu server, tests/interop/harness) into
# $MIZU_CACHE/interop/mizu-harness and prints the binary's path on stdout.
#
# Needs Go 1.26 or newer. Modules come from the Go module cache (GOMODCACHE,
# default $(go env GOMODCACHE)); once they have been downloaded the build works
# offline. Rebuilds are incremental: an up-to-date binary is not relinked.
#
# Run it:  "$(scripts/interop-server.sh)" -addr 127.0.0.1:0
set -euo pipefail

if ! command -v go >/dev/null 2>&1; then
    echo "interop-server.sh: 'go' is not on PATH; the interop suite needs Go 1.26+ to build the mizu harness" >&2
    exit 1
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/env.sh
. "$root/scripts/env.sh"
out="$MIZU_CACHE/interop/mizu-harness"
mkdir -p "$(dirname "$out")"

# -mod=mod: never look for a vendor directory; go.sum pins every module.
# GOTOOLCHAIN=local: fail loudly instead of downloading another Go toolchain.
if ! (cd "$root/tests/interop/harness" &&
    GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local go build -o "$out" . >&2); then
    echo "interop-server.sh: building the mizu harness failed (see above)" >&2
    exit 1
fi
echo "$out"
