#!/bin/sh
# SPDX-License-Identifier: MIT
# The conformance suite, proved mutation style: "schedctl conform" fails
# each deliberately broken backend (the minimal backend with one rule
# broken, tests/conformance/minimal.c), names the test that catches it,
# finishes within that test's time limit, and leaves no file behind.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
ctl="$SCHED_TOP_BUILDDIR/core/schedctl/schedctl"
[ -x "$ctl" ] || ctl="$SCHED_TOP_BUILDDIR/core/schedctl"
SCHED_PLUGIN_PATH="$SCHED_TOP_BUILDDIR/tests/plugins/mutants/.libs:$SCHED_TOP_BUILDDIR/tests/conformance/.libs${SCHED_PLUGIN_PATH:+:$SCHED_PLUGIN_PATH}"
export SCHED_PLUGIN_PATH
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp/conf
export TMPDIR
mkdir "$TMPDIR" || exit 1
status=0
fail() { echo "FAIL: $*"; status=1; }

# check BACKEND TEST OUTCOME: conform -t TEST fails BACKEND with OUTCOME
# (a pattern for the line's start) on TEST's own line, in time: within
# the limit (which SCHED_CONFORM_TIMEOUT_SCALE multiplies, as conform
# does) and a few seconds to start and report.
limit=3
scaled=$(awk -v l=$limit -v s="${SCHED_CONFORM_TIMEOUT_SCALE:-1}" 'BEGIN { print int(l * (s > 0 ? s : 1) + 0.999) }')
check() {
    start=$(date +%s)
    out=$("$ctl" conform --timeout $limit -t "$2" "$1" 2>&1); rc=$?
    took=$(( $(date +%s) - start ))
    if [ $rc -ne 1 ]; then
        fail "$1: conform exited $rc, not 1: $out"
    elif ! printf '%s\n' "$out" | grep -Eq "^$3  $2\$"; then
        fail "$1: no \"$3  $2\" line: $out"
    elif [ $took -gt $((scaled + 5)) ]; then
        fail "$1: took ${took}s, beyond its ${scaled}s limit"
    elif [ -n "$(ls -A "$TMPDIR")" ]; then
        fail "$1: left $(ls -A "$TMPDIR") behind"
    else
        echo "ok: $1 fails \"$2\" ($(printf '%s\n' "$out" | grep -E "  $2\$" | head -1 | sed 's/  .*//'))"
    fi
    rm -f "$TMPDIR"/*
}

check lose-one '100000 tasks run exactly once' 'TIMEOUT after [0-9.]+ s'
check run-twice 'nothing is run twice' '(CRASH signal [0-9]+ \([^)]*\)|FAIL)'
check never-drop 'destroy drops every queued runnable once' 'FAIL'
check lifo-main 'the main queue is FIFO' 'FAIL'
check stop-not-sticky 'stop before run makes run return at once' 'TIMEOUT after [0-9.]+ s'
check misroute 'foreground tasks run on the main thread' 'CRASH signal [0-9]+ \([^)]*\)'
check timers-early 'a timer wakes its task once' 'FAIL'
check no-join 'close waits for a poll and drops its task' '(CRASH signal [0-9]+ \([^)]*\)|FAIL)'

# The honest backend they were made from passes the same tests.
out=$("$ctl" conform --timeout $limit minimal 2>&1) \
    && echo "ok: minimal passes" || fail "minimal: $out"

# A whole run against a backend that loses work: every test has its line,
# the lost runnable is a TIMEOUT naming its test, and the summary counts.
out=$("$ctl" conform --timeout $limit lose-one 2>&1); rc=$?
n=$(printf '%s\n' "$out" | grep -Ec '^(PASS|FAIL|CRASH|TIMEOUT)')
total=$(printf '%s\n' "$out" | awk '$1 == "tests" { print $2 }')
if [ $rc -eq 1 ] && [ -n "$total" ] && [ "$n" -eq "$total" ] &&
    printf '%s\n' "$out" | grep -Eq '^TIMEOUT after [0-9.]+ s  100000 tasks run exactly once$' &&
    printf '%s\n' "$out" | grep -Eq '^ +tests +[0-9]+ +[0-9]+ +[0-9]+ +[1-9][0-9]* +0$'; then
    echo "ok: a whole run streams $n results and a summary"
else
    fail "whole run of lose-one ($rc, $n lines of $total): $out"
fi
[ -z "$(ls -A "$TMPDIR")" ] || fail "the whole run left $(ls -A "$TMPDIR") behind"
exit $status
