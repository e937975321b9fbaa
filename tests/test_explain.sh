#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl explain: a known replay file as sentences, word for word (its
# deviations, then every decision), and the refusal of broken files
# (truncated, another version, a rank beyond the ready runnables, no
# replay file at all), each naming the file and the line.  schedctl
# shrink, end to end: the planted race of test_replay, found by a sweep
# of the program, shrunk from its file to the two deviations it needs.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl
fixtures=$SCHED_TOP_SRCDIR/tests/replay
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-explain-XXXXXX") || exit 99
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
        cat "$tmp/err"
        failures=$((failures + 1))
    elif [ "$out" != "$want_out" ] || [ "$err" != "$want_err" ]; then
        echo "FAIL: $name: output differs"
        printf 'expected:\n%s\n%s\ngot:\n%s\n%s\n' "$want_out" "$want_err" "$out" "$err"
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

f=$fixtures/explain.replay
expect "the deviations of a known file" 0 "$f: an exact replay of backend test, seed 3, strategy random: 3 steps, 6 decisions (not counting 1 pick of the only ready runnable), 3 deviations from the canonical schedule
step 0: task 2 \"b \"two\"\" (medium, spawned at cache.c:10 in fill()) ran where FIFO order would have run task 1 \"a\" (medium, spawned at cache.c:9 in fill()) (it was number 2 of 3 ready, oldest first)
step 2: a wait with a timeout got 17 steps before timing out, where it could have had 1000
step 2: the woken caller resumed where FIFO order would first have run the runnables queued before its wake-up
the last step, 2, ran task 3 (high, foreground, spawned at cache.c:11 in refresh())
then the run failed after 3 steps: the test returned 3 (3)" "" "$schedctl" explain "$f"

expect "every decision of a known file" 0 "$f: an exact replay of backend test, seed 3, strategy random: 3 steps, 6 decisions (not counting 1 pick of the only ready runnable), 3 deviations from the canonical schedule
step 0: task 2 \"b \"two\"\" (medium, spawned at cache.c:10 in fill()) ran where FIFO order would have run task 1 \"a\" (medium, spawned at cache.c:9 in fill()) (it was number 2 of 3 ready, oldest first)
step 1: task 1 \"a\" (medium, spawned at cache.c:9 in fill()) ran, the oldest of 2 ready
step 2: a wait with a timeout got 17 steps before timing out, where it could have had 1000
step 2: a random delay yielded 0 times
step 2: the woken caller resumed where FIFO order would first have run the runnables queued before its wake-up
step 2: task 3 (high, foreground, spawned at cache.c:11 in refresh()) ran, the oldest of 1 ready
step 3: the test drew the random bits 0x0000000000003039
the last step, 2, ran task 3 (high, foreground, spawned at cache.c:11 in refresh())
then the run failed after 3 steps: the test returned 3 (3)" "" "$schedctl" explain --all "$f"

# Fixtures that must fail, each with the line that is wrong.
expect "a truncated file" 1 "" "schedctl: $fixtures/truncated.replay:9: expected the rank of the one that ran" \
    "$schedctl" explain "$fixtures/truncated.replay"
head -n 12 "$f" >"$tmp/cut.replay"
expect "a file cut after a whole line" 1 "" "schedctl: $tmp/cut.replay:12: the file ends before its \"end\" line: it is truncated" \
    "$schedctl" explain "$tmp/cut.replay"
expect "another version" 1 "" "schedctl: $fixtures/version2.replay:1: replay files of version 2 are not supported (this libsched reads version 1)" \
    "$schedctl" explain "$fixtures/version2.replay"
expect "a rank beyond the ready runnables" 1 "" "schedctl: $fixtures/corrupt.replay:5: rank 7 is not among 3 ready runnables" \
    "$schedctl" explain "$fixtures/corrupt.replay"
expect "two picks for one step" 1 "" "schedctl: $fixtures/duplicate-pick.replay:14: a second pick for step 1 (line 13 has its pick): each step has one" \
    "$schedctl" explain "$fixtures/duplicate-pick.replay"
expect "not a replay file" 1 "" "schedctl: $fixtures/not-a-replay.replay:1: not a replay file (its first line must be \"sched-replay 1\")" \
    "$schedctl" explain "$fixtures/not-a-replay.replay"
sed 's/^task 2 /task 4 /' "$f" >"$tmp/order.replay"
expect "tasks out of order" 1 "" "schedctl: $tmp/order.replay:9: task 4 is out of order (expected task 2)" \
    "$schedctl" explain "$tmp/order.replay"
sed 's/^p 0 3 1 2 1$/p 0 3 1 9 1/' "$f" >"$tmp/unknown.replay"
expect "a task no line lists" 1 "" "schedctl: $tmp/unknown.replay:11: task 9 is not listed by a task line before it" \
    "$schedctl" explain "$tmp/unknown.replay"
expect "a file that is not there" 1 "" "schedctl: $tmp/none.replay: No such file or directory" \
    "$schedctl" explain "$tmp/none.replay"
# More than the 64 MiB a replay file may hold, from a pipe (no size to
# look at first): refused once the limit is passed, not read to its end.
expect "a stream beyond 64 MiB" 1 "" "schedctl: /dev/stdin: larger than 64 MiB, the most a replay file may hold" \
    sh -c '{ echo "sched-replay 1"; yes "# padding" | head -c 70000000; } | "$0" explain /dev/stdin' "$schedctl"
# Control bytes in a label are shown escaped, not sent to the terminal.
sed 's/^task 1 medium bg "a"/task 1 medium bg "a\\x0a\\x1b[31mred"/' "$f" >"$tmp/escape.replay"
expect "control bytes in a label" 0 "$tmp/escape.replay: an exact replay of backend test, seed 3, strategy random: 3 steps, 6 decisions (not counting 1 pick of the only ready runnable), 3 deviations from the canonical schedule
step 0: task 2 \"b \"two\"\" (medium, spawned at cache.c:10 in fill()) ran where FIFO order would have run task 1 \"a\\x0a\\x1b[31mred\" (medium, spawned at cache.c:9 in fill()) (it was number 2 of 3 ready, oldest first)
step 2: a wait with a timeout got 17 steps before timing out, where it could have had 1000
step 2: the woken caller resumed where FIFO order would first have run the runnables queued before its wake-up
the last step, 2, ran task 3 (high, foreground, spawned at cache.c:11 in refresh())
then the run failed after 3 steps: the test returned 3 (3)" "" "$schedctl" explain "$tmp/escape.replay"
expect "no file named" 2 "" "usage: schedctl explain [--all] FILE

Print the replay file FILE (written by the test backend for a failing
seed, by SCHED_RECORD, or by shrinking) as sentences: for each decision
that departs from the canonical schedule (FIFO order, full timeout
budgets, no random delays) the step, the task that ran, with its number,
label and spawn site, and the task FIFO order would have run instead;
then the last step and how the run ended.  Exits 1 on a file that is
not a well-formed replay file, naming the line.

  -a, --all           every decision, not only the deviations" "$schedctl" explain

# A sweep of the race program writes the failing seed's file ...
prog=$SCHED_TOP_BUILDDIR/tests/test_replay
SCHED_BACKEND=test SCHED_REPLAY_DIR=$tmp SCHED_SEED=0 SCHED_ITERATIONS=200 "$prog" race \
    >/dev/null 2>"$tmp/sweep"
status=$?
file=$(sed -n 's/^replay file: //p' "$tmp/sweep")
if [ "$status" -ne 1 ] || [ ! -f "$file" ]; then
    echo "FAIL: the race program's sweep: exit status $status, replay file \"$file\""
    cat "$tmp/sweep"
    failures=$((failures + 1))
else
    # ... which schedctl shrinks, running the program once per trial.
    SCHED_BACKEND=test "$schedctl" shrink -o "$tmp/small.replay" "$file" -- "$prog" race \
        >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -ne 0 ] || ! grep -q "^$tmp/small.replay: shrunk [0-9,]* decisions with [0-9,]* deviations to 2 deviations in [0-9,]* runs\$" "$tmp/out"; then
        echo "FAIL: schedctl shrink: exit status $status"
        cat "$tmp/out" "$tmp/err"
        failures=$((failures + 1))
    else
        echo "ok: schedctl shrink leaves 2 deviations"
    fi
    # The summary's decisions are the ones explain counts in the same file.
    shrunk_d=$(sed -n 's/^.*: shrunk \([0-9,]*\) decisions with .*/\1/p' "$tmp/out" | tr -d ,)
    "$schedctl" explain "$file" >"$tmp/out" 2>&1
    explain_d=$(sed -n '1s/^.* steps, \([0-9]*\) decisions\{0,1\}[ ,].*/\1/p' "$tmp/out")
    if [ -z "$shrunk_d" ] || [ "$shrunk_d" != "$explain_d" ]; then
        echo "FAIL: shrink counts $shrunk_d decisions, explain $explain_d: $(head -1 "$tmp/out")"
        failures=$((failures + 1))
    else
        echo "ok: shrink and explain count $shrunk_d decisions alike"
    fi
    "$schedctl" explain "$tmp/small.replay" >"$tmp/out" 2>&1
    if [ "$(grep -c ' ran where FIFO order would have run ' "$tmp/out")" -ne 2 ] ||
       ! grep -q '^step [0-9]*: task [0-9]* "b" ' "$tmp/out" ||
       ! grep -q '^step [0-9]*: task [0-9]* "d" ' "$tmp/out"; then
        echo "FAIL: the shrunk race does not come down to \"b\" and \"d\""
        cat "$tmp/out"
        failures=$((failures + 1))
    else
        echo "ok: the two deviations run \"b\" and \"d\" early"
    fi
    # The shrunk file still fails, replayed exactly.
    SCHED_BACKEND=test SCHED_REPLAY=$tmp/small.replay "$prog" race >/dev/null 2>&1
    expect_status=$?
    if [ "$expect_status" -ne 1 ]; then
        echo "FAIL: the shrunk file replays with exit status $expect_status, not 1"
        failures=$((failures + 1))
    fi
fi
expect "a program that does not fail" 1 "" "schedctl: shrink: true does not fail on $f: there is nothing to shrink" \
    "$schedctl" shrink "$f" -- true

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
