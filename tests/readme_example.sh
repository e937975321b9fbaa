#!/bin/sh
# SPDX-License-Identifier: MIT
# README's example (tests/install/hello.c) prints "<backend> says 42" on a
# threaded and on the simulated backends, unchanged.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
hello="$SCHED_TOP_BUILDDIR/tests/hello"
status=0
for b in linux test cloudflare-sim; do
    out=$(SCHED_BACKEND=$b "$hello" 2>&1)
    if [ "$out" = "$b says 42" ]; then
        echo "ok: $b"
    else
        echo "FAIL: $b: $out"
        status=1
    fi
done
exit $status
