#!/bin/bash
# Run the C tests and the Lua specs, then print one line "N passed, N failed"
# (and skipped). Usage: tests/run_all.sh BUILD_DIR [c|lua]. Exit 1 on any failure.
# Every check prints a TAP line; a test program that dies without saying
# "not ok" still counts as one failure.
set -u
build=${1:-build}
only=${2:-all}
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {  # $1: label, reads TAP on stdin (already tee'd to the terminal)
    local p f s
    p=$(grep -cE '^ok [0-9]+' "$log" || true)
    s=$(grep -cE '^ok [0-9]+ .*# ?SKIP' "$log" || true)
    s0=$(grep -cE '^1\.\.0 # SKIP' "$log" || true)
    f=$(grep -cE '^not ok [0-9]+' "$log" || true)
    passed=$((passed + p - s)); skipped=$((skipped + s + s0)); failed=$((failed + f))
    if [ "$2" != 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $1 exited with status $2"
        failed=$((failed + 1))
    fi
}

if [ "$only" != lua ]; then
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        echo "# $t"
        "$t" > "$log" 2>&1
        rc=$?
        grep -vE '^ok [0-9]+ - ' "$log" | grep -v '^1\.\.' || true
        count "$t" "$rc"
    done
fi

if [ "$only" != c ]; then
    echo "# Lua specs (busted under $build/lpose)"
    LPOSE_TEST_BUILD=$build "$build"/lpose run /usr/bin/busted --no-auto-insulate -o TAP tests/lua > "$log" 2>&1
    rc=$?
    grep -vE '^ok [0-9]+ - ' "$log" || true
    count "busted" "$rc"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
