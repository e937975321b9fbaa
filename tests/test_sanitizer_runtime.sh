#!/bin/sh
# SPDX-License-Identifier: MIT
# An application built with AddressSanitizer, linked against this
# (uninstrumented) libsched, must see a use of a finished task's memory:
# libsched(7) says the task-block cache steps aside when a sanitizer's
# runtime is in the process, so the freed block goes back to the
# sanitizer's free() rather than into the cache.  On the test backend the
# task runs and is freed on the calling thread, so the use after free is
# certain, not a matter of timing.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
libdir="$SCHED_TOP_BUILDDIR/core/.libs"
CC=${SCHED_TEST_CC:-cc}
[ -f "$libdir/libsched.so" ] || { echo "FAIL: no libsched.so in $libdir"; exit 1; }
if nm -D --undefined-only "$libdir/libsched.so" | grep -q ' U __tsan_init$'; then
    echo "SKIP: libsched is built with ThreadSanitizer; an AddressSanitizer program cannot load it"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/uaf.c" <<'PROG'
#include <stdio.h>
#include <sched/sched.h>

static sched_value one(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 1 };
}

int main(void)
{
    sched_host *h;
    sched_executor *ex;
    sched_task *t;
    volatile unsigned char *p;

    if (sched_host_open(&h, NULL, NULL) != 0 || sched_executor_new(h, &ex) != 0)
        return 2;
    if (sched_spawn(ex, sched_future_fn(one, NULL), &t) != 0)
        return 2;
    p = (volatile unsigned char *)t;
    if (sched_block(ex, sched_task_join(t), NULL, NULL) != 0)
        return 2;
    printf("read %u from the finished task\n", p[8]);   /* the planted use after free */
    sched_executor_free(ex);
    sched_host_close(h);
    return 0;
}
PROG
if ! $CC -fsanitize=address -g -O0 -I"$SCHED_TOP_SRCDIR/core/include" \
        -I"$SCHED_TOP_BUILDDIR/core/include" -o "$tmp/uaf" "$tmp/uaf.c" \
        -L"$libdir" -lsched -Wl,-rpath,"$libdir" 2>"$tmp/cc.err"; then
    echo "FAIL: $CC -fsanitize=address could not build the program:"
    cat "$tmp/cc.err"
    exit 1
fi
SCHED_BACKEND=test ASAN_OPTIONS=detect_leaks=0 "$tmp/uaf" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] || ! grep -q 'heap-use-after-free' "$tmp/out"; then
    echo "FAIL: AddressSanitizer did not see the use of a finished task's block (exit $rc):"
    cat "$tmp/out"
    exit 1
fi
echo "PASS: AddressSanitizer saw the use after free"
