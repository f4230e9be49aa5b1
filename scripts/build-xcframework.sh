#!/usr/bin/env bash
# Builds bindings/swift/MizuSyncFFIC.xcframework for Apple platforms: static libraries of the
# Rust crate for iOS (device), the iOS simulator (arm64 + x86_64) and macOS (arm64 + x86_64),
# each with the generated C header and module map. Package.swift uses it on Apple platforms.
#
# Runs on macOS with Xcode (xcodebuild, lipo) and rustup. NOT VERIFIED: the project's machines
# are Linux; this follows the standard Rust-to-XCFramework recipe (rustup targets, lipo per
# platform, xcodebuild -create-xcframework) and has never been run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null 2>&1; then
    echo "build-xcframework.sh: needs macOS with Xcode (xcodebuild)" >&2
    exit 1
fi

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    echo "build-xcframework.sh: cargo build --release --lib --target $target"
    cargo build --release --lib --target "$target"
done
lib() { echo "$CARGO_TARGET_DIR/$1/release/libmizu_sync.a"; }

work="$CARGO_TARGET_DIR/xcframework"
rm -rf "$work"
mkdir -p "$work/headers" "$work/ios-simulator" "$work/macos"
# The C module as the Swift package sees it on Linux: the header and `module.modulemap`.
cp bindings/swift/Sources/MizuSyncFFIC/MizuSyncFFIC.h bindings/swift/Sources/MizuSyncFFIC/module.modulemap \
    "$work/headers/"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-simulator/libmizu_sync.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libmizu_sync.a"

out="bindings/swift/MizuSyncFFIC.xcframework"
rm -rf "$out"
xcodebuild -create-xcframework \
    -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
    -library "$work/ios-simulator/libmizu_sync.a" -headers "$work/headers" \
    -library "$work/macos/libmizu_sync.a" -headers "$work/headers" \
    -output "$out"
echo "build-xcframework.sh: wrote $out"
