#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_allocfail.sh - fail the n-th allocation, for every n, over
# sched_host_open and a small workload (tests/allocfail_workload.c with
# tests/allocfail.c preloaded), once and persistently, on every backend
# built here.  Each run must end in success or a returned error code, with
# nothing lost, leaked, crashed or hung (60 s per run).
#
# By default (make check) the test backend alone, in both modes; CI's
# allocfail pass sets SCHED_ALLOCFAIL_BACKENDS to "test cloudflare-sim
# linux".  The sweep over n stops at the first n the workload does not
# reach.  (The mac backend is not swept: libdispatch itself aborts in
# glibc's thread-local allocation, hangs when it cannot allocate, and
# keeps what it allocated in caches; none of that is libsched's to fix.)
set -u
here=$(pwd)
preload=$here/.libs/allocfail.so
[ -f "$preload" ] || { echo "FAIL: $preload was not built"; exit 1; }
# Under a sanitizer the runtime must come first and owns malloc itself.
bin=$here/allocfail_workload
[ -f "$here/.libs/allocfail_workload" ] && bin=$here/.libs/allocfail_workload
if ldd "$bin" 2>/dev/null | grep -q -e libasan -e libtsan -e libubsan; then
    echo "SKIP: built with a sanitizer, which replaces malloc itself"
    exit 77
fi
backends=${SCHED_ALLOCFAIL_BACKENDS:-test}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0
runs=0
for b in $backends; do
    found=
    for d in $(echo "${SCHED_PLUGIN_PATH:-}" | tr ':' ' '); do
        [ -f "$d/$b.so" ] && found=yes
    done
    if [ -z "$found" ]; then
        echo "note: backend $b is not built here; not tried"
        continue
    fi
    conf=$tmp/$b.conf
    printf 'backend = "%s";\nlinux: { threads = 2; };\ntest: { seed = 1; };\n' "$b" >"$conf"
    for mode in once persistent; do
        n=1
        while :; do
            LD_PRELOAD=$preload timeout -k 5 60 "$here/allocfail_workload" "$conf" "$n" "$mode" \
                >"$tmp/out" 2>&1
            rc=$?
            runs=$((runs + 1))
            [ "$rc" -eq 3 ] && break
            if [ "$rc" -ne 0 ]; then
                case $rc in
                    124|137) why="hung (killed after 60 s)" ;;
                    1) why="failed" ;;
                    *) why="exited with status $rc" ;;
                esac
                echo "FAIL: $b, allocation $n failing ($mode): $why"
                sed 's/^/    /' "$tmp/out" | tail -n 20
                status=1
            fi
            n=$((n + 1))
        done
        echo "$b ($mode): allocations 1 to $((n - 1)) each failed in turn"
    done
done
[ "$runs" -gt 0 ] || { echo "FAIL: no backend was tried"; exit 1; }
exit $status
