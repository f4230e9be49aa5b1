#!/usr/bin/env bash
# Builds what users install, into dist/ (git-ignored), all at the one version of Cargo.toml:
#
#   dist/mizu_sync-<v>-py3-none-manylinux2014_x86_64...whl   the Python wheel: the native library
#                                                  built with maturin + zig against glibc 2.17,
#                                                  maturin's manylinux compliance check passed;
#                                                  installs and runs with no Rust toolchain
#   dist/mizu_sync-<v>.tar.gz                      the Python sdist (builds from source: needs Rust)
#   dist/maven/mizu-sync-<v>{,-sources,-javadoc}.jar, .pom
#                                                  the Kotlin/JVM artifact (jar with the native
#                                                  library and the R8/ProGuard consumer rules,
#                                                  sources jar, Dokka docs jar, POM), also installed
#                                                  into the local Maven repository $MIZU_CACHE/m2
#   dist/mizu-sync-c-<v>-linux-x86_64.tar.gz       the C package: include/mizu_sync.h, lib/
#                                                  libmizu_sync.{so,a}, lib/pkgconfig/mizu-sync.pc,
#                                                  lib/cmake/MizuSync (find_package(MizuSync))
#   dist/mizu-sync-swift-<v>.tar.gz                the Swift source package (bindings/swift, with
#                                                  the committed generated bindings); Apple
#                                                  binaries come from scripts/build-xcframework.sh,
#                                                  which is NOT verified here (no macOS)
#
#   scripts/release.sh                  # everything
#   scripts/release.sh python c         # only some of: python kotlin c swift
#
# Reuses the release build the other suites make ($CARGO_TARGET_DIR/release, for the C package and
# the jar); the wheel is a separate build (target x86_64-unknown-linux-gnu, linked by zig for
# glibc 2.17). Tools are cached under $MIZU_CACHE: maturin, ziglang and mypy in
# $MIZU_CACHE/release-venv, Dokka and the Maven plugins in $MIZU_CACHE/m2.
# Needs python3, cargo, a JDK 17+ and Maven; PyPI and Maven Central on the first run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

version="$(python3 scripts/version.py)"
dist="$root/dist"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(python kotlin c swift)
wants() {
    local p
    for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done
    return 1
}
mkdir -p "$dist"
python3 scripts/version.py check

# The wheel's manylinux policy: glibc 2.17 (manylinux2014), the oldest Rust's standard library
# supports, reached from a newer host through zig's linker with its own glibc stubs.
MANYLINUX="${MIZU_MANYLINUX:-manylinux2014}"

release_venv() {
    venv="$MIZU_CACHE/release-venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    # Pinned: the zig version decides which glibc stubs are linked against.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "maturin>=1.9,<2" "ziglang==0.17.1" "mypy==2.4.1"
}

build_python() {
    release_venv
    rm -f "$dist"/mizu_sync-*.whl "$dist"/mizu_sync-*.tar.gz
    echo "release.sh: Python wheel ($MANYLINUX, maturin --zig) and sdist"
    # maturin --zig runs `python -m ziglang` from PATH: the venv's python.
    # zig's linker turns rustc's `--strip-debug` (pyproject's `-C strip=debuginfo`) into a full
    # strip, which removes the UniFFI metadata symbols uniffi-bindgen reads from .symtab: this
    # build has no debug info to strip instead (CARGO_PROFILE_RELEASE_DEBUG=0) and keeps the
    # symbol table (`-C strip=none`, which replaces pyproject's rustc-args).
    (cd bindings/python && PATH="$venv/bin:$PATH" CARGO_PROFILE_RELEASE_DEBUG=0 maturin build \
        --quiet --release --zig --compatibility "$MANYLINUX" --out "$dist" -- -C strip=none)
    (cd bindings/python && PATH="$venv/bin:$PATH" maturin sdist --out "$dist")
    # maturin keeps only the crate (and its path dependencies) in the sdist's workspace, so the
    # workspace's uniffi-bindgen (the exact uniffi version, which maturin runs to generate the
    # Python module) would be missing and the sdist would not build: put it back.
    python3 - "$(ls "$dist"/mizu_sync-*.tar.gz)" <<'PY'
import io, json, re, sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
top = members[0][0].name.split("/")[0]
out = []
for m, data in members:
    if m.name == f"{top}/Cargo.toml":
        text = data.decode()
        assert "\n[workspace]\n" in text, "no [workspace] in the sdist's Cargo.toml"
        # Keep the members maturin listed (path dependencies such as tests/support), add ours.
        at = text.index("\n[workspace]\n")
        head, table = text[:at], text[at:]
        listed = re.search(r"^members = \[(.*?)\]\n", table, flags=re.M | re.S)
        names = ["."] + [n for n in re.findall(r'"([^"]+)"', listed.group(1) if listed else "")
                         if n not in (".", "uniffi-bindgen")] + ["uniffi-bindgen"]
        table = re.sub(r"^(default-)?members = \[.*?\]\n", "", table, flags=re.M | re.S)
        table = table.replace("\n[workspace]\n", "\n[workspace]\nmembers = %s\n"
                              'default-members = [".", "uniffi-bindgen"]\n' % json.dumps(names), 1)
        text = head + table
        data = text.encode()
        m.size = len(data)
    out.append((m, data))
for name in ("uniffi-bindgen/Cargo.toml", "uniffi-bindgen/src/main.rs"):
    data = open(name, "rb").read()
    info = tarfile.TarInfo(f"{top}/{name}")
    info.size, info.mode, info.mtime = len(data), 0o644, out[0][0].mtime
    out.append((info, data))
with tarfile.open(path, "w:gz") as t:
    for m, data in out:
        t.addfile(m, io.BytesIO(data) if data is not None else None)
PY
}

build_kotlin() {
    echo "release.sh: Kotlin/JVM artifact (mvn -Prelease install: jar, sources, Dokka docs, POM)"
    local mvn_args=(-B -q -Dmaven.repo.local="$MIZU_CACHE/m2" -Dstyle.color=never)
    # The jar carries the library without its debug info (the release profile keeps line tables
    # for the benchmarks: 107 MB instead of ~14), symbols kept (uniffi-bindgen reads them).
    cargo build --quiet --release --lib
    local native="$CARGO_TARGET_DIR/release-jvm"
    mkdir -p "$native"
    strip --strip-debug -o "$native/libmizu_sync.so" "$CARGO_TARGET_DIR/release/libmizu_sync.so"
    # The tests are the kotlin suite's (scripts/test-kotlin.sh); here only the packaging.
    (cd bindings/kotlin && mvn "${mvn_args[@]}" -Prelease -DskipTests -Dmizu.native.dir="$native" install)
    rm -rf "$dist/maven"
    mkdir -p "$dist/maven"
    local base="$MIZU_CACHE/m2/dev/mizu/mizu-sync/$version"
    cp "$base/mizu-sync-$version.jar" "$base/mizu-sync-$version-sources.jar" \
        "$base/mizu-sync-$version-javadoc.jar" "$base/mizu-sync-$version.pom" "$dist/maven/"
}

build_c() {
    echo "release.sh: C package (header, shared + static library, pkg-config, CMake)"
    cargo build --quiet --release --lib
    local name="mizu-sync-c-$version-linux-x86_64"
    local stage="$CARGO_TARGET_DIR/release-stage"
    rm -rf "$stage" && mkdir -p "$stage"
    make -s -C bindings/c ROOT="$root" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
        PREFIX="$stage/$name" install
    # Relocatable pkg-config file: the prefix is where the .pc file lies, wherever unpacked.
    sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$stage/$name/lib/pkgconfig/mizu-sync.pc"
    # Shipped without debug info (the release profile keeps line tables for benchmarks).
    strip --strip-debug "$stage/$name/lib/libmizu_sync.so" "$stage/$name/lib/libmizu_sync.a"
    cp LICENSE-MIT LICENSE-APACHE bindings/c/README.md "$stage/$name/"
    rm -f "$dist"/mizu-sync-c-*.tar.gz
    tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$dist/$name.tar.gz" "$name"
}

build_swift() {
    echo "release.sh: Swift source package"
    rm -f "$dist"/mizu-sync-swift-*.tar.gz
    # The committed tree (generated bindings included), as SwiftPM would check it out.
    git archive --format=tar.gz --prefix="mizu-sync-swift-$version/" \
        -o "$dist/mizu-sync-swift-$version.tar.gz" HEAD:bindings/swift
}

wants python && build_python
wants c && build_c
wants kotlin && build_kotlin
wants swift && build_swift

echo "release.sh: version $version in dist/:"
(cd "$dist" && find . -maxdepth 2 -type f | sort | sed 's|^\./|  |')
