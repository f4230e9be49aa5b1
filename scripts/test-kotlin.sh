#!/usr/bin/env bash
# The Kotlin bindings' suite, from a fresh machine: Maven (with its local repository in
# $MIZU_CACHE/m2, outside the clone) builds the Rust library (release) and the reference server,
# generates the UniFFI Kotlin code from the library, compiles it with the wrapper, runs the JUnit 5
# tests (Surefire) and installs the jar (into that local repository); then the JVM todo example
# (examples/kotlin) builds against it and runs.
# Non-interactive; fails loudly.
#
# Needs a JDK 17+, Maven 3.8+ and a Rust toolchain (cargo); Maven Central must be reachable on
# the first run. Set MIZU_KOTLIN_BENCH=1 to also run the benchmark (writes
# bindings/kotlin/BENCH-RESULTS.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

for tool in java jar mvn cargo python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-kotlin.sh: '$tool' is not installed; the Kotlin suite needs a JDK 17+ (java, jar), Maven and cargo" >&2
        exit 1
    fi
done

mvn_args=(-B -q -Dmaven.repo.local="$MIZU_CACHE/m2" -Dstyle.color=never)

echo "test-kotlin.sh: mvn install (cargo builds, uniffi-bindgen, kotlinc, JUnit 5 tests, jar into \$MIZU_CACHE/m2)"
# -q hides Surefire's summary; print it from the reports whatever the outcome.
status=0
reports=bindings/kotlin/target/surefire-reports
rm -rf "$reports" # a report left by an earlier run (or the benchmark) must not be counted
(cd bindings/kotlin && mvn "${mvn_args[@]}" install) || status=$?
if compgen -G "$reports/TEST-*.xml" >/dev/null; then
    python3 - "$reports" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
t = f = e = s = 0
for path in sorted(glob.glob(sys.argv[1] + "/TEST-*.xml")):
    root = ET.parse(path).getroot()
    t += int(root.get("tests", 0)); f += int(root.get("failures", 0))
    e += int(root.get("errors", 0)); s += int(root.get("skipped", 0))
    for case in root.iter("testcase"):
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            print(f"FAILED {root.get('name')}.{case.get('name')}: {bad.get('message')}")
print(f"Tests run: {t}, Failures: {f}, Errors: {e}, Skipped: {s}")
print(f"kotlin: {t - f - e - s} passed, {f + e} failed")
PY
fi
if [ "$status" -ne 0 ]; then
    echo "test-kotlin.sh: mvn install failed (exit $status)" >&2
    exit "$status"
fi

jar="bindings/kotlin/target/mizu-sync-0.1.0.jar"
if ! jar tf "$jar" | grep "^linux-x86-64/libmizu_sync.so$" >/dev/null; then
    echo "test-kotlin.sh: $jar does not carry linux-x86-64/libmizu_sync.so" >&2
    exit 1
fi

echo "test-kotlin.sh: running examples/kotlin (the todo program) against the installed jar"
export MIZU_SYNC_SERVER_BIN="${CARGO_TARGET_DIR}/debug/mizu-sync-server"
(cd examples/kotlin && mvn "${mvn_args[@]}" compile exec:java)

if [ "${MIZU_KOTLIN_BENCH:-0}" = "1" ]; then
    echo "test-kotlin.sh: benchmark (bindings/kotlin/BENCH-RESULTS.md)"
    (cd bindings/kotlin && mvn "${mvn_args[@]}" -Dmizu.cargo.skip=true -Dmizu.excludedGroups=none -Dgroups=bench -Dtest=SignalBenchmark \
        surefire:test)
fi
