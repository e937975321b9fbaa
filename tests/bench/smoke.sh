#!/bin/sh
# SPDX-License-Identifier: MIT
# A quick pass of sched-bench for correctness only: every implementation
# runs every workload it supports at small sizes; sched-bench itself fails
# when a task is lost or runs twice or a libsched timer fires early.  No
# timing is asserted.  Under ThreadSanitizer the peers' uninstrumented
# libraries are named in tsan.supp; harmless in other builds.
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }suppressions=${SCHED_TOP_SRCDIR:-../..}/tests/bench/tsan.supp"
export TSAN_OPTIONS
out=$(./sched-bench --quick --repeat 2) || { echo "$out"; exit 1; }
echo "$out"
backends=linux
[ -f "${SCHED_TOP_BUILDDIR:-..}/plugins/mac/mac.la" ] && backends="$backends mac"
impls=
for b in $backends; do
    impls="$impls raw:$b libsched:$b"
done
# The three pools are always built; each must run every workload.
for i in $impls pthread-pool pool-batch pool-spin; do
    for w in W1 W2 W3 W4 W5; do
        echo "$out" | grep -q "^bench impl=$i workload=$w " || {
            echo "smoke: $i did not report $w" >&2
            exit 1
        }
    done
done
# libsched:linux is compared with every pool, and the targets are judged.
for p in pthread-pool pool-batch pool-spin; do
    echo "$out" | grep -q "^bench-ratio impl=libsched:linux peer=$p workload=W1 " &&
    echo "$out" | grep -q "^bench-target impl=libsched:linux target=\"W1 <= 0.8x $p\"" || {
        echo "smoke: no W1 ratio or target of libsched:linux against $p" >&2
        exit 1
    }
done
# A W5 round in which a counted task ran is refused, not counted: one
# worker of each pool left free, and the count ended only once it ran one.
refused=$(./sched-bench --quick --only pool-batch --workloads W5 --w5-check-refusal 2>&1) || {
    echo "$refused"; echo "smoke: a refused W5 round failed the run" >&2; exit 1; }
echo "$refused" | grep -q "^sched-bench: pool-batch W5 round 1 refused: " &&
! echo "$refused" | grep -q "^bench impl=pool-batch workload=W5 " || {
    echo "$refused"; echo "smoke: a W5 round with a counted task run was not refused" >&2; exit 1; }
# Each ratio is the median of the ratios taken round by round (from the
# bench-round figures, printed to 0.001, hence the tolerance).
echo "$out" | awk '
function fields(   i, kv) {
    delete f
    for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        f[kv[1]] = kv[2]
    }
}
/^bench-round / {
    fields()
    v[f["impl"] " " f["workload"] " " f["metric"], f["round"]] = f["value"]
    if (f["round"] > rounds) rounds = f["round"]
}
/^bench-ratio / { fields(); n++; ours[n] = f["impl"]; peer[n] = f["peer"]
    key[n] = f["workload"] " " f["metric"]; med[n] = f["median"] }
END {
    for (k = 1; k <= n; k++) {
        m = 0
        for (r = 1; r <= rounds; r++) {
            a = ours[k] " " key[k]; b = peer[k] " " key[k]
            if ((a, r) in v && (b, r) in v && v[b, r] > 0)
                x[++m] = v[a, r] / v[b, r]
        }
        for (i = 2; i <= m; i++)
            for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
        want = m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
        d = want - med[k]; if (d < 0) d = -d
        if (m == 0 || d > 0.02 * (want > med[k] ? want : med[k]) + 0.002) {
            printf "smoke: %s / %s %s: ratio %s, rounds give %.3f\n", ours[k], peer[k], key[k], med[k], want > "/dev/stderr"
            bad = 1
        }
    }
    if (n == 0) { print "smoke: no bench-ratio lines" > "/dev/stderr"; bad = 1 }
    exit bad
}' || exit 1
