#!/usr/bin/env bash
# The release suite: builds what users install (scripts/release.sh, into dist/) and uses each
# artifact the way its users would, outside the repository:
#
#   python   the wheel goes into a fresh virtual environment, installed and run by processes
#            whose PATH has no cargo or rustc; the Python suite and examples/python/todo.py run
#            against it; `mypy --strict` passes on the installed package and the example; the
#            sdist builds a wheel from source
#   kotlin   the artifact holds the native library, the R8/ProGuard rules, a sources jar and a
#            Dokka docs jar, and a POM with what Maven Central asks for; a fresh Maven project
#            (a copy of examples/kotlin outside the repository) depends on it by coordinates from
#            the local repository only (offline) and runs the todo program
#   c        the tarball is unpacked; a CMake project (find_package(MizuSync), the imported
#            targets MizuSync::mizu_sync and MizuSync::mizu_sync_static) and a pkg-config build
#            each compile examples/c/todo.c against it and run it against a reference server
#   version  every artifact has Cargo.toml's version (scripts/version.py check --dist), and the
#            check fails when one does not
#
# Prints `N passed, M failed`; exit status 1 on any failure. MIZU_RELEASE_SKIP_BUILD=1 tests
# what dist/ holds without rebuilding it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

work="$MIZU_CACHE/release-tests"
rm -rf "$work"
mkdir -p "$work"
dist="$root/dist"
# shellcheck source=scripts/checks.sh
source "$root/scripts/checks.sh"
# check NAME COMMAND...: runs the command with its output in $work/NAME.log, shown on failure.
check() {
    local name="$1"
    shift
    if "$@" >"$work/$name.log" 2>&1; then
        pass "$name"
    else
        sed 's/^/    /' "$work/$name.log" | tail -n 60
        fail "$name"
    fi
}

version="$(python3 scripts/version.py)"
if [ "${MIZU_RELEASE_SKIP_BUILD:-0}" != 1 ]; then
    bash scripts/release.sh
fi
cargo build --quiet --features server --bin mizu-sync-server
server_bin="$CARGO_TARGET_DIR/debug/mizu-sync-server"

# A PATH without the Rust toolchain: the system directories, and the real Python's directory.
real_python="$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"
bare_path="$(dirname "$real_python"):/usr/local/bin:/usr/bin:/bin"
if PATH="$bare_path" command -v cargo >/dev/null || PATH="$bare_path" command -v rustc >/dev/null; then
    echo "test-release.sh: cargo or rustc is in $bare_path; cannot test the wheel without Rust" >&2
    exit 1
fi
bare() { env -u CARGO_TARGET_DIR -u CARGO_HOME -u RUSTUP_HOME PATH="$bare_path" "$@"; }

# --- version -------------------------------------------------------------------------------
check version_all_artifacts_agree python3 scripts/version.py check --dist "$dist" --m2 "$MIZU_CACHE/m2"
# The check itself fails on a difference: a wheel of another version among the artifacts ...
mkdir -p "$work/dist-other"
for f in "$dist"/*; do ln -s "$f" "$work/dist-other/$(basename "$f")"; done
wheel="$(cd "$dist" && ls mizu_sync-*.whl)"
rm "$work/dist-other/$wheel"
ln -s "$dist/$wheel" "$work/dist-other/${wheel/mizu_sync-$version-/mizu_sync-0.0.1-}"
# version_check_fails PATTERN ARGS...: the check exits 1 and names what differs.
version_check_fails() {
    local pattern="$1" out
    shift
    ! out="$(python3 scripts/version.py check "$@" 2>&1)" && echo "$out" && grep -q -- "$pattern" <<<"$out"
}
check version_check_fails_on_another_wheel_version version_check_fails "wheel mizu_sync-0.0.1-" \
    --dist "$work/dist-other"
# ... and Cargo.toml moved on without the others.
sed "0,/^version = \".*\"/s//version = \"9.9.9\"/" Cargo.toml >"$work/Cargo.toml"
check version_check_fails_on_a_new_crate_version version_check_fails "bindings/kotlin/pom.xml" \
    --cargo-toml "$work/Cargo.toml"

# --- python --------------------------------------------------------------------------------
venv="$work/venv"
wheel_path="$dist/$wheel"
check wheel_is_manylinux_2_17 bash -c "[[ '$wheel' == *manylinux_2_17_x86_64* ]]"
# Independently of maturin's compliance check: no symbol needs a glibc newer than 2.17.
check wheel_library_needs_glibc_2_17_at_most bash -c "
    mkdir -p '$work/wheel' && cd '$work/wheel' && unzip -q -o '$dist/$wheel' &&
    newest=\$(objdump -T mizu_sync/_native/libmizu_sync.so | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1) &&
    echo \"newest: \$newest\" && [ \"\$(printf '%s\\n' \"\$newest\" GLIBC_2.17 | sort -V | tail -n 1)\" = GLIBC_2.17 ]"
check wheel_installs_without_rust bare bash -c "
    '$real_python' -m venv '$venv' &&
    '$venv/bin/python' -m pip install --quiet --disable-pip-version-check '$wheel_path' 'pytest>=7' 'mypy==2.4.1'"
export MIZU_SYNC_SERVER_BIN="$server_bin"
check wheel_is_what_is_imported bare "$venv/bin/python" -c "
import mizu_sync, sys
assert mizu_sync.__file__.startswith('$venv/'), mizu_sync.__file__
assert mizu_sync.__version__ == '$version', mizu_sync.__version__
print(mizu_sync.__file__, mizu_sync.__version__)"
check python_suite_against_wheel bare bash -c \
    "cd bindings/python && '$venv/bin/python' -m pytest -q -p no:cacheprovider tests"
check python_example_against_wheel bare "$venv/bin/python" examples/python/todo.py
check mypy_strict_package bare "$venv/bin/python" -m mypy --config-file bindings/python/pyproject.toml \
    --cache-dir "$work/mypy-cache" -p mizu_sync
check mypy_strict_examples bare "$venv/bin/python" -m mypy --config-file bindings/python/pyproject.toml \
    --cache-dir "$work/mypy-cache" examples/python/todo.py
# The sdist builds a wheel from source (this one needs Rust: the release venv's maturin, the
# shared target directory, so only the crate itself is rebuilt).
sdist="$(ls "$dist"/mizu_sync-*.tar.gz)"
check sdist_builds_a_wheel bash -c "
    mkdir -p '$work/sdist' && cd '$work/sdist' &&
    PATH='$MIZU_CACHE/release-venv/bin':\"\$PATH\" '$MIZU_CACHE/release-venv/bin/python' -m pip wheel \
        --quiet --disable-pip-version-check --no-deps --no-build-isolation -w out '$sdist' &&
    ls out/mizu_sync-$version-*.whl"

# --- kotlin --------------------------------------------------------------------------------
m2="$MIZU_CACHE/m2"
base="$m2/dev/mizu/mizu-sync/$version"
# grep reads the whole listing (no -q): an early exit would SIGPIPE unzip, failing under pipefail.
jar_has() { unzip -l "$1" | awk '{print $4}' | grep -x "$2" >/dev/null; }
check jar_has_native_library jar_has "$base/mizu-sync-$version.jar" linux-x86-64/libmizu_sync.so
check jar_library_has_no_debug_info bash -c "
    mkdir -p '$work/jar' && cd '$work/jar' && unzip -q -o '$base/mizu-sync-$version.jar' linux-x86-64/libmizu_sync.so &&
    ! readelf -S linux-x86-64/libmizu_sync.so | grep -q '\.debug_info' &&
    nm linux-x86-64/libmizu_sync.so | grep -q UNIFFI_META"
check jar_has_r8_rules bash -c "unzip -p '$base/mizu-sync-$version.jar' META-INF/proguard/mizu-sync.pro |
    grep -qx -- '-keep class dev.mizu.sync.ffi.\*\* { \*; }'"
check sources_jar_has_wrapper_and_generated bash -c "
    unzip -l '$base/mizu-sync-$version-sources.jar' | grep -q ' dev/mizu/sync/Client.kt$' &&
    unzip -l '$base/mizu-sync-$version-sources.jar' | grep -q ' dev/mizu/sync/ffi/mizu_sync.kt$'"
check docs_jar_is_dokka bash -c "
    unzip -l '$base/mizu-sync-$version-javadoc.jar' | grep -q ' index.html$' &&
    unzip -l '$base/mizu-sync-$version-javadoc.jar' | grep -qi 'dev.mizu.sync/'"
check pom_has_central_metadata python3 - "$base/mizu-sync-$version.pom" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
pom = ET.parse(sys.argv[1]).getroot()
need = ["m:name", "m:description", "m:url", "m:licenses/m:license/m:name",
        "m:licenses/m:license/m:url", "m:developers/m:developer/m:name",
        "m:developers/m:developer/m:email", "m:scm/m:connection",
        "m:scm/m:developerConnection", "m:scm/m:url"]
missing = [p for p in need if not (pom.findtext(p, namespaces=ns) or "").strip()]
assert not missing, missing
PY
consumer="$work/maven-consumer"
mkdir -p "$consumer"
cp -r examples/kotlin/pom.xml examples/kotlin/src "$consumer/"
check maven_consumer_runs_example bash -c "
    cd '$consumer' && mvn -B -q -o -Dmaven.repo.local='$m2' -Dstyle.color=never compile exec:java"

# --- c -------------------------------------------------------------------------------------
ctar="$(ls "$dist"/mizu-sync-c-*.tar.gz)"
tar -C "$work" -xzf "$ctar"
cpkg="$work/$(basename "$ctar" .tar.gz)"
start_reference_server "$server_bin" "$work"
url="$server_url"

cmake_proj="$work/cmake-consumer"
mkdir -p "$cmake_proj"
cp examples/c/todo.c "$cmake_proj/"
cat >"$cmake_proj/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(mizu_todo C)
find_package(MizuSync $version REQUIRED)
if(NOT MizuSync_VERSION STREQUAL "$version")
    message(FATAL_ERROR "MizuSync \${MizuSync_VERSION}, expected $version")
endif()
add_executable(todo todo.c)
target_link_libraries(todo PRIVATE MizuSync::mizu_sync)
add_executable(todo-static todo.c)
target_link_libraries(todo-static PRIVATE MizuSync::mizu_sync_static)
EOF
check cmake_find_package_builds bash -c "
    cmake -S '$cmake_proj' -B '$cmake_proj/build' -DCMAKE_PREFIX_PATH='$cpkg' -DCMAKE_BUILD_TYPE=Release &&
    cmake --build '$cmake_proj/build'"
check cmake_example_runs "$cmake_proj/build/todo" "$url" "release-cmake-$$"
check cmake_example_static_runs "$cmake_proj/build/todo-static" "$url" "release-cmake-static-$$"
check cmake_static_has_no_library_dependency bash -c \
    "! ldd '$cmake_proj/build/todo-static' | grep -q libmizu_sync"
check cmake_rejects_another_minor bash -c "
    mkdir -p '$work/cmake-old' && printf '%s\n' 'cmake_minimum_required(VERSION 3.16)' \
        'project(old C)' 'find_package(MizuSync 99.0 REQUIRED)' >'$work/cmake-old/CMakeLists.txt' &&
    ! cmake -S '$work/cmake-old' -B '$work/cmake-old/build' -DCMAKE_PREFIX_PATH='$cpkg'"

pc_build="$work/pkg-config-consumer"
mkdir -p "$pc_build"
export PKG_CONFIG_PATH="$cpkg/lib/pkgconfig"
check pkg_config_version bash -c "[ \"\$(pkg-config --modversion mizu-sync)\" = '$version' ]"
# shellcheck disable=SC2016 # expanded by the inner shell
check pkg_config_builds bash -c '
    cc -std=c11 -Wall -Wextra -Werror examples/c/todo.c -o "$0/todo" \
        $(pkg-config --cflags --libs mizu-sync) -Wl,-rpath,"$(pkg-config --variable=libdir mizu-sync)"' \
    "$pc_build"
check pkg_config_example_runs "$pc_build/todo" "$url" "release-pkg-config-$$"
check c_version_macros bash -c "
    printf '%s\n' '#include <mizu_sync.h>' '#include <stdio.h>' \
        'int main(void) { printf(\"%d.%d.%d %s\\n\", MIZU_SYNC_VERSION_MAJOR, MIZU_SYNC_VERSION_MINOR,' \
        '    MIZU_SYNC_VERSION_PATCH, MIZU_SYNC_VERSION); return 0; }' >'$pc_build/v.c' &&
    cc \$(pkg-config --cflags mizu-sync) '$pc_build/v.c' -o '$pc_build/v' &&
    [ \"\$('$pc_build/v')\" = '$version $version' ]"

report_checks
