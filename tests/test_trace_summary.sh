#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl trace-summary: the summary of a known trace word for word, a
# trace the test backend writes through SCHED_TRACE, and the refusal of a
# file that is not a trace.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-trace-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME STATUS STDOUT STDERR COMMAND...
expect() {
    name=$1 want_status=$2 want_out=$3 want_err=$4
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    if [ "$status" -ne "$want_status" ]; then
        echo "FAIL: $name: exit status $status, expected $want_status"
        failures=$((failures + 1))
    elif [ "$out" != "$want_out" ] || [ "$err" != "$want_err" ]; then
        echo "FAIL: $name: output differs"
        printf 'expected:\n%s\n%s\ngot:\n%s\n%s\n' "$want_out" "$want_err" "$out" "$err"
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

expect "summary of a known trace" 0 'seed 42: 6 steps, 3 tasks, virtual time 5000000 ns
tracks:
  background                   4 steps
  foreground executor 7        2 steps
busiest tasks:
  task 5 "io "disk""           3 steps
  task 4 "ui"                  2 steps
  task 6                       1 steps
labels:
  io "disk"                    3 steps
  ui                           2 steps
  (no label)                   1 steps
timers: 2 set, 1 fired, 1 pending at the end' '' \
    "$schedctl" trace-summary "$SCHED_TOP_SRCDIR/tests/trace-fixture.json"

SCHED_BACKEND=test SCHED_TRACE="$tmp/bench.json" \
    "$SCHED_TOP_BUILDDIR/tests/bench_testbackend" 25 >/dev/null || {
    echo "FAIL: bench_testbackend with SCHED_TRACE"
    failures=$((failures + 1))
}
"$schedctl" trace-summary "$tmp/bench.json" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && head -n 1 "$tmp/out" | grep -qx 'seed 0: 25 steps, 25 tasks, virtual time 0 ns' \
    && grep -qx '  background                   25 steps' "$tmp/out"; then
    echo "ok: summary of a trace written through SCHED_TRACE"
else
    echo "FAIL: summary of a trace written through SCHED_TRACE"
    cat "$tmp/out"
    failures=$((failures + 1))
fi

printf '{"traceEvents":[{"ph":"X",' >"$tmp/cut.json"
expect "a cut-off file is refused" 1 '' \
    "schedctl: trace-summary: $tmp/cut.json is not a Chrome trace: expected a string at byte 26" \
    "$schedctl" trace-summary "$tmp/cut.json"
expect "a missing file is refused" 1 '' \
    "schedctl: trace-summary: cannot read $tmp/none.json: No such file or directory" \
    "$schedctl" trace-summary "$tmp/none.json"
expect "no file is a usage error" 2 '' 'usage: schedctl trace-summary FILE
Summarize a Chrome trace written by the test backend (SCHED_TRACE=FILE).' \
    "$schedctl" trace-summary

exit $((failures > 0))
