# The pass/fail bookkeeping of the suites that print `ok - NAME` / `not ok - NAME` lines
# (scripts/test-c.sh, scripts/test-release.sh). Source it, call `pass NAME` / `fail NAME` per
# check, and end with `report_checks`: it lists the failures, prints `N passed, M failed` and
# returns non-zero when any check failed.

passed=0
failed=0
failures=()

pass() {
    passed=$((passed + 1))
    echo "ok - $1"
}

fail() {
    failed=$((failed + 1))
    failures+=("$1")
    echo "not ok - $1"
}

report_checks() {
    echo
    if [ "$failed" -ne 0 ]; then
        printf 'failed: %s\n' "${failures[@]}"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
