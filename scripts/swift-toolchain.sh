#!/usr/bin/env bash
# Builds, once, a Debian trixie root filesystem holding the Swift toolchain (Debian's `swiftlang`
# package with its recommended packages) at $MIZU_CACHE/swift-rootfs, and prints its path.
# Reruns reuse it. Debian bookworm ships no Swift; trixie does. Needs root (debootstrap, chroot).
#
# Enter it with scripts/swift-run.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

rootfs="$MIZU_CACHE/swift-rootfs"
ready="$rootfs/.mizu-swift-ready"
if [ -f "$ready" ]; then
    echo "$rootfs"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "swift-toolchain.sh: needs root (debootstrap and chroot)" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "swift-toolchain.sh: installing debootstrap" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

partial="$rootfs.partial"
rm -rf "$partial"
echo "swift-toolchain.sh: debootstrap trixie into $partial" >&2
debootstrap --variant=minbase trixie "$partial" http://deb.debian.org/debian >&2
cp /etc/resolv.conf "$partial/etc/resolv.conf"
echo "swift-toolchain.sh: installing swiftlang in the chroot" >&2
unshare --mount --fork /bin/sh -c "
    mount -t proc proc '$partial/proc' &&
    chroot '$partial' /bin/sh -c 'apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swiftlang &&
        apt-get clean &&
        swift --version'
" >&2
touch "$partial/.mizu-swift-ready"
rm -rf "$rootfs"
mv "$partial" "$rootfs"
echo "$rootfs"
