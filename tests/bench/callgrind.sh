#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per task under callgrind (all threads), for each
# implementation and workload: two runs that differ only in the number of
# tasks, so start-up, thread creation and shutdown cancel out:
#   (Ir(N2) - Ir(N1)) / (tasks(N2) - tasks(N1))
#   W1  per tiny task (N = tasks)
#   W2  per fanned-out task (N = rounds of CALLGRIND_W2_WIDTH tasks,
#       spawn, join and the all-of wait included)
#   W4  per sleeping task (N = tasks, each on its own timer made at spawn;
#       every delay is shifted by CALLGRIND_W4_SHIFT_MS so that each task
#       still sleeps when spawning runs slowly under valgrind; the libsched
#       rows leave out their second, timer-at-first-poll, run)
# Instruction counts do not depend on the clock, so these figures are far
# more repeatable than timings; they still move with how the threads
# interleave (workers spinning or parking), and so rise under load.
#   usage: callgrind.sh [path/to/sched-bench]
#   CALLGRIND_WORKLOADS=W1 (W1, W2 and W4, comma-separated)
#   CALLGRIND_IMPLS=libsched:linux,raw:linux,pthread-pool,pool-batch,pool-spin
#   (the default)
#   sizes: CALLGRIND_N1/_N2 (W1 tasks), CALLGRIND_W2_R1/_R2 (W2 rounds),
#   CALLGRIND_W4_N1/_N2 (W4 tasks)
bench=${1:-./sched-bench}
workloads=${CALLGRIND_WORKLOADS:-W1}
impls=${CALLGRIND_IMPLS:-libsched:linux,raw:linux,pthread-pool,pool-batch,pool-spin}
w2_width=${CALLGRIND_W2_WIDTH:-1000}
w4_shift=${CALLGRIND_W4_SHIFT_MS:-2000}
# sched-bench restarts itself to set G_SLICE (for glib); under valgrind
# that restart would leave the tool behind, so set it here.
G_SLICE=always-malloc; export G_SLICE
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# total IMPL WORKLOAD SIZE: the instructions of one whole run.
total() {
    case $2 in
    W1) size="--w1-tasks $3" ;;
    W2) size="--w2-rounds $3 --w2-width $w2_width" ;;
    W4) size="--w4-tasks $3 --w4-shift-ms $w4_shift --w4-spawn-only" ;;
    esac
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
        "$bench" --only "$1" --workloads "$2" $size >"$tmp/log" 2>&1 || return 1
    grep -q "^bench impl=$1 workload=$2 " "$tmp/log" || return 1
    sed -n 's/^summary: *//p; s/^totals: *//p' "$tmp/out" | head -n 1
}

rc=0
for w in $(echo "$workloads" | tr , ' '); do
    case $w in
    W1) n1=${CALLGRIND_N1:-20000} n2=${CALLGRIND_N2:-120000} per=1
        metric=callgrind_instr_per_task ;;
    W2) n1=${CALLGRIND_W2_R1:-10} n2=${CALLGRIND_W2_R2:-60} per=$w2_width
        metric=callgrind_instr_per_task ;;
    W4) n1=${CALLGRIND_W4_N1:-2000} n2=${CALLGRIND_W4_N2:-10000} per=1
        metric=callgrind_instr_per_sleeping_task ;;
    *) echo "callgrind: no such workload: $w (W1, W2 or W4)" >&2; exit 2 ;;
    esac
    for impl in $(echo "$impls" | tr , ' '); do
        a=$(total "$impl" "$w" "$n1") && b=$(total "$impl" "$w" "$n2") || {
            echo "callgrind: $impl $w failed" >&2
            rc=1
            continue
        }
        echo "bench impl=$impl workload=$w metric=$metric value=$(( (b - a) / ((n2 - n1) * per) ))"
    done
done
exit $rc
