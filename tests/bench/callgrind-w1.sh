#!/bin/sh
# SPDX-License-Identifier: MIT
# W1 instructions per task under callgrind, for each implementation:
# two runs that differ only in the number of tasks, so start-up, thread
# creation and shutdown cancel out:
#   (Ir(N2) - Ir(N1)) / (N2 - N1)
# Instruction counts do not depend on the clock, so this figure is far
# more repeatable than timings; it still moves with how the threads
# interleave (workers spinning or parking), and so rises under load.
#   usage: callgrind-w1.sh [path/to/sched-bench]
#   CALLGRIND_IMPLS=raw:linux,pthread-pool,glib,libuv (the default)
bench=${1:-./sched-bench}
impls=${CALLGRIND_IMPLS:-raw:linux,pthread-pool,glib,libuv}
n1=${CALLGRIND_N1:-20000}
n2=${CALLGRIND_N2:-120000}
# sched-bench restarts itself to set G_SLICE (for glib); under valgrind
# that restart would leave the tool behind, so set it here.
G_SLICE=always-malloc; export G_SLICE
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

total() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
        "$bench" --only "$1" --workloads W1 --w1-tasks "$2" >/dev/null 2>&1 || return 1
    sed -n 's/^summary: *//p; s/^totals: *//p' "$tmp/out" | head -n 1
}

for impl in $(echo "$impls" | tr , ' '); do
    a=$(total "$impl" "$n1") && b=$(total "$impl" "$n2") || {
        echo "callgrind-w1: $impl failed" >&2
        continue
    }
    echo "bench impl=$impl workload=W1 metric=callgrind_instr_per_task value=$(( (b - a) / (n2 - n1) ))"
done
