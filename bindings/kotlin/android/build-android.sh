#!/usr/bin/env bash
# Builds libmizu_sync.so for Android ABIs with cargo-ndk into an AAR-style jniLibs tree, and
# generates the Android flavour of the Kotlin bindings (android = true):
#
#   bindings/kotlin/target/android/jniLibs/{arm64-v8a,armeabi-v7a,x86_64,x86}/libmizu_sync.so
#   bindings/kotlin/target/android/kotlin/dev/mizu/sync/ffi/mizu_sync.kt
#
# Copy jniLibs/ to your module's src/main/jniLibs (or an AAR's jni/), the generated file and
# bindings/kotlin/src/main/kotlin to its Kotlin sources, and depend on
# net.java.dev.jna:jna:5.x@aar, kotlinx-coroutines-android and kotlinx-serialization-json.
#
# Needs: ANDROID_NDK_HOME (an Android NDK, r26 or newer), rustup, and cargo-ndk (installed from
# crates.io when missing). ABIS overrides the ABI list; API (default 24) the minimum API level.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

if [ -z "${ANDROID_NDK_HOME:-}" ] || [ ! -d "$ANDROID_NDK_HOME" ]; then
    echo "build-android.sh: set ANDROID_NDK_HOME to an Android NDK (r26+); none is set or it does not exist" >&2
    exit 1
fi
abis=(${ABIS:-arm64-v8a armeabi-v7a x86_64 x86})
api="${API:-24}"

declare -A triple=(
    [arm64-v8a]=aarch64-linux-android [armeabi-v7a]=armv7-linux-androideabi
    [x86_64]=x86_64-linux-android [x86]=i686-linux-android
)
for abi in "${abis[@]}"; do
    rustup target add "${triple[$abi]}"
done
command -v cargo-ndk >/dev/null 2>&1 || cargo install --locked cargo-ndk

out="bindings/kotlin/target/android"
targets=()
for abi in "${abis[@]}"; do targets+=(-t "$abi"); done
cargo ndk --platform "$api" "${targets[@]}" -o "$out/jniLibs" build --release --lib

# Library mode reads the UniFFI metadata from any one of the built libraries.
cargo run --quiet --bin uniffi-bindgen -- generate \
    --library "$out/jniLibs/${abis[0]}/libmizu_sync.so" \
    --config bindings/kotlin/android/uniffi-android.toml \
    --language kotlin --out-dir "$out/kotlin" --no-format
echo "build-android.sh: $out/jniLibs and $out/kotlin are ready"
