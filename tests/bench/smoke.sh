#!/bin/sh
# SPDX-License-Identifier: MIT
# A quick pass of sched-bench for correctness only: every implementation
# runs every workload it supports at small sizes; sched-bench itself fails
# when a task is lost or runs twice or a libsched timer fires early.  No
# timing is asserted.  Under ThreadSanitizer the peers' uninstrumented
# libraries are named in tsan.supp; harmless in other builds.
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }suppressions=${SCHED_TOP_SRCDIR:-../..}/tests/bench/tsan.supp"
export TSAN_OPTIONS
out=$(./sched-bench --quick) || { echo "$out"; exit 1; }
echo "$out"
backends=linux
[ -f "${SCHED_TOP_BUILDDIR:-..}/plugins/mac/mac.la" ] && backends="$backends mac"
impls=
for b in $backends; do
    impls="$impls raw:$b libsched:$b"
done
# The two pools are always built; each must run every workload.
for i in $impls pthread-pool pool-batch; do
    for w in W1 W2 W3 W4 W5; do
        echo "$out" | grep -q "^bench impl=$i workload=$w " || {
            echo "smoke: $i did not report $w" >&2
            exit 1
        }
    done
done
