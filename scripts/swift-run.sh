#!/usr/bin/env bash
# Runs a shell command inside the Swift root filesystem (scripts/swift-toolchain.sh), with the
# repository bind-mounted at /work/repo and the cargo target directory at /work/target, in a
# private mount namespace (/proc mounted, as swift needs it). Usage: swift-run.sh 'swift test'
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"
rootfs="$(bash "$root/scripts/swift-toolchain.sh")"
mkdir -p "$rootfs/work/repo" "$rootfs/work/target" "$CARGO_TARGET_DIR"

exec unshare --mount --fork /bin/sh -c "
    mount -t proc proc '$rootfs/proc' &&
    mount --bind '$root' '$rootfs/work/repo' &&
    mount --bind '$CARGO_TARGET_DIR' '$rootfs/work/target' &&
    chroot '$rootfs' /bin/bash -c 'cd /work/repo && $*'
"
