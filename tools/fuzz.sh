#!/bin/bash
# tools/fuzz.sh BUILD_DIR SECONDS TARGET...: run each libFuzzer target for
# SECONDS, one after the other (`make fuzz`, docs/developer/fuzzing.md), and
# print one summary line per target. Fails (after running every target) if
# any target found a crash, leak, timeout or sanitizer report; the input that
# did it is in BUILD_DIR/artifacts/TARGET/ and the logs in BUILD_DIR/logs/.
# Two phases per target: fuzzing with libFuzzer's per-input leak check off
# (with libtorch loaded, each check scans a ~350 MB heap: 8 instead of
# thousands of executions per second), then one leak-checked execution of
# every input of the resulting corpus (-runs=0), which fails on any leak.
set -u
build=$1 seconds=$2
shift 2
failed=()
summary=$build/fuzz-summary.txt
: > "$summary"
for t in "$@"; do
    bin=$build/fuzz/$t
    corpus=$build/corpus/$t
    log=$build/logs/$t.log
    mkdir -p "$corpus" "$build/artifacts/$t" "$build/logs"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    seeds=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
    echo "== fuzz $t: ${seeds} seeds, ${seconds} s"
    # corpus: new inputs go to build/corpus/$t (first dir); the committed seeds
    # and regression inputs are read too. -timeout: one input may take 20 s
    # (libtorch under ASan is slow); -rss_limit_mb also caps single mallocs.
    dirs=("$corpus" "tests/fuzz/corpus/$t")
    [ -d "tests/fixtures/fuzz/$t" ] && dirs+=("tests/fixtures/fuzz/$t")
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ASAN_OPTIONS=detect_leaks=0 "$bin" "${dict[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "${dirs[@]}" > "$log" 2>&1
    rc=$?
    leaks=skipped
    if [ "$rc" = 0 ]; then
        ASAN_OPTIONS=detect_leaks=1 "$bin" -runs=0 -timeout=20 -rss_limit_mb=2048 -detect_leaks=1 \
            -artifact_prefix="$build/artifacts/$t/" "${dirs[@]}" > "$build/logs/$t.leaks.log" 2>&1
        rc=$?
        leaks=$([ "$rc" = 0 ] && echo none || echo FOUND)
    fi
    cov0=$(grep -m1 -oE 'INITED cov: [0-9]+' "$log" | grep -oE '[0-9]+$')
    cov1=$(grep -oE '(DONE|#[0-9]+).*cov: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
    ft0=$(grep -m1 -oE 'INITED cov: [0-9]+ ft: [0-9]+' "$log" | grep -oE '[0-9]+$')
    ft1=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
    rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
    files=$(find "$corpus" -type f | wc -l)
    line="fuzz $t: ${seconds} s, ${execs:-?} execs (${rate:-?}/s), cov ${cov0:-?} -> ${cov1:-?} edges (ft ${ft0:-?} -> ${ft1:-?}), corpus ${seeds} seeds + ${files} found, leaks ${leaks}, exit ${rc}"
    echo "$line" | tee -a "$summary"
    if [ "$rc" != 0 ]; then
        failed+=("$t")
        grep -hE 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" "$build/logs/$t.leaks.log" 2>/dev/null | head -8
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in: ${failed[*]} (inputs in $build/artifacts/, logs in $build/logs/)"
    exit 1
fi
