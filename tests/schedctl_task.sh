#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl conform and schedctl bench, as a user runs them.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
ctl="$SCHED_TOP_BUILDDIR/core/schedctl/schedctl"
status=0
fail() { echo "FAIL: $*"; status=1; }

out=$("$ctl" conform test 2>&1) && echo "$out" | grep -q '^test: 0 of [0-9]* tests failed$' \
    && echo "ok: conform test passes" || fail "conform test: $out"
echo "$out" | grep -q '^PASS  100000 tasks run exactly once$' \
    && echo "ok: conform prints a table" || fail "conform table: $out"

out=$("$ctl" conform no-such-backend 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'backend no-such-backend cannot be opened' \
    && echo "ok: conform on a missing backend exits 1" || fail "conform missing ($rc): $out"

out=$("$ctl" conform 2>&1); rc=$?
[ $rc -eq 2 ] && echo "ok: conform without a backend is a usage error" || fail "conform usage ($rc)"

out=$("$ctl" bench --quick --backend test 2>&1) || fail "bench: $out"
for m in "W1 metric=ns_per_task" "W2 metric=ns_per_task" "W3 metric=median_hop_ns" \
         "W3 metric=p99_hop_ns" "W4 metric=mean_late_us" "W4 metric=p99_late_us" \
         "W4 metric=early_fires value=0.0" "W5 metric=bytes_per_task"; do
    echo "$out" | grep -q "^bench impl=test workload=$m" \
        && echo "ok: bench prints $m" || fail "bench lacks $m: $out"
done
exit $status
