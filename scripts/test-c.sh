#!/usr/bin/env bash
# The C API suite: builds libmizu_sync (release: the shared and static libraries) and the
# reference server, checks that the committed header bindings/c/include/mizu_sync.h is what
# cbindgen generates now, compiles the C tests with gcc -Wall -Wextra -Werror (and the C++
# consumer test_cpp.cpp with g++ -pedantic), runs each under
# valgrind (memcheck: no errors, no definite / indirect / possible leaks) against a reference
# server, builds and runs examples/c (shared, static, and through the pkg-config file), and
# prints `N passed, M failed`.
#
#   scripts/test-c.sh            # everything
#   scripts/test-c.sh --update   # regenerate the committed header instead of checking it
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

CBINDGEN_VERSION=0.29.2
work="$MIZU_CACHE/c-tests"
mkdir -p "$work"
# shellcheck source=scripts/checks.sh
source "$root/scripts/checks.sh"

# --- tools -------------------------------------------------------------------------------
cbindgen="$MIZU_CACHE/tools/bin/cbindgen"
if ! "$cbindgen" --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    echo "installing cbindgen $CBINDGEN_VERSION into $MIZU_CACHE/tools"
    cargo install cbindgen --locked --version "$CBINDGEN_VERSION" --root "$MIZU_CACHE/tools"
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && apt-get install -y -qq valgrind
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq valgrind
    fi
fi
for tool in gcc g++ make pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "test-c.sh: '$tool' is missing" >&2
        exit 1
    }
done

# --- build ---------------------------------------------------------------------------------
cargo build --release --lib
cargo build --features server --bin mizu-sync-server
libdir="$CARGO_TARGET_DIR/release"
server_bin="$CARGO_TARGET_DIR/debug/mizu-sync-server"

# --- header --------------------------------------------------------------------------------
header=bindings/c/include/mizu_sync.h
# The version macros (MIZU_SYNC_VERSION_MAJOR/MINOR/PATCH, MIZU_SYNC_VERSION) come from
# Cargo.toml: cbindgen.toml plus an `after_includes` made by scripts/version.py.
python3 - "$work/cbindgen.toml" <<'PY'
import json, subprocess, sys
macros = subprocess.run([sys.executable, "scripts/version.py", "macros"], check=True,
                        capture_output=True, text=True).stdout
text = "/* The version of mizu-sync (Cargo.toml). */\n" + macros
with open(sys.argv[1], "w") as out:
    out.write("after_includes = " + json.dumps(text) + "\n" + open("cbindgen.toml").read())
PY
if ! "$cbindgen" --config "$work/cbindgen.toml" --crate mizu-sync --output "$work/mizu_sync.h" \
    2>"$work/cbindgen.log"; then
    cat "$work/cbindgen.log" >&2
    fail "header_generates"
elif [ "${1:-}" = "--update" ]; then
    cp "$work/mizu_sync.h" "$header"
    pass "header_updated"
elif diff -u "$header" "$work/mizu_sync.h"; then
    pass "header_matches_cbindgen_output"
else
    fail "header_matches_cbindgen_output (run scripts/test-c.sh --update and commit)"
fi

# --- reference server ----------------------------------------------------------------------
start_reference_server "$server_bin" "$work"
export MIZU_TEST_BASE_URL="$server_url"
export MIZU_SERVER_BIN="$server_bin"

# --- C tests under valgrind ----------------------------------------------------------------
cflags=(-std=c11 -g -O1 -Wall -Wextra -Werror -Ibindings/c/include -Ibindings/c/tests)
valgrind_args=(
    --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99
    --suppressions=bindings/c/tests/valgrind.supp
)
# The C++ consumer (test_cpp.cpp) checks that the header is valid C++ too, next to <cstdlib>.
cxxflags=(-std=c++17 -pedantic -g -O1 -Wall -Wextra -Werror -Ibindings/c/include -Ibindings/c/tests)
gcc "${cflags[@]}" -c bindings/c/tests/support.c -o "$work/support.o"
for source in bindings/c/tests/test_*.c bindings/c/tests/test_*.cpp; do
    name="$(basename "${source%.*}")"
    binary="$work/$name"
    case "$source" in
    *.cpp) compile=(g++ "${cxxflags[@]}") ;;
    *) compile=(gcc "${cflags[@]}") ;;
    esac
    if ! "${compile[@]}" "$source" "$work/support.o" -o "$binary" \
        -L"$libdir" -lmizu_sync -Wl,-rpath,"$libdir" -lpthread; then
        fail "$name compiles"
        continue
    fi
    set +e
    valgrind "${valgrind_args[@]}" "$binary" >"$work/$name.out" 2>"$work/$name.err"
    code=$?
    set -e
    while read -r line; do
        case "$line" in
        "ok - "*) pass "$name: ${line#ok - }" ;;
        "not ok - "*) fail "$name: ${line#not ok - }" ;;
        esac
    done <"$work/$name.out"
    if [ "$code" -eq 99 ]; then
        fail "$name: valgrind reports errors or leaks"
    elif [ "$code" -ne 0 ] && ! grep -q '^not ok - ' "$work/$name.out"; then
        fail "$name: exited with $code"
    fi
    if [ "$code" -ne 0 ]; then
        sed 's/^/    /' "$work/$name.err"
    fi
done

# --- example -------------------------------------------------------------------------------
make_args=(ROOT="$root" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" LIBDIR="$libdir")
if make -s -C examples/c "${make_args[@]}" todo todo-static >"$work/example-build.log" 2>&1; then
    pass "example_todo_builds_shared_and_static"
    for variant in todo todo-static; do
        if (cd examples/c && "./$variant" "$MIZU_TEST_BASE_URL" "c-example-$variant-$$") \
            >"$work/$variant.out" 2>&1; then
            pass "example_${variant//-/_}_converges"
        else
            sed 's/^/    /' "$work/$variant.out"
            fail "example_${variant//-/_}_converges"
        fi
    done
    make -s -C examples/c clean >/dev/null
else
    sed 's/^/    /' "$work/example-build.log"
    fail "example_todo_builds_shared_and_static"
fi

# --- pkg-config ----------------------------------------------------------------------------
prefix="$work/prefix"
rm -rf "$prefix"
# shellcheck disable=SC2046 # pkg-config prints flags meant to be split into words
if make -s -C bindings/c "${make_args[@]}" PREFIX="$prefix" install >"$work/install.log" 2>&1 &&
    gcc -std=c11 -Wall -Wextra -Werror examples/c/todo.c -o "$work/todo-pkg-config" \
        $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs mizu-sync) \
        -Wl,-rpath,"$prefix/lib" &&
    "$work/todo-pkg-config" "$MIZU_TEST_BASE_URL" "c-example-pkg-config-$$" >"$work/todo-pkg-config.out" 2>&1; then
    pass "pkg_config_file_builds_the_example"
else
    sed 's/^/    /' "$work/install.log"
    fail "pkg_config_file_builds_the_example"
fi
rm -f bindings/c/mizu-sync.pc

report_checks
