#!/bin/sh
# SPDX-License-Identifier: MIT
# With the analytics declared by wait_until every request cleans up, and
# the declared work still finishes after the responses.
# Usage: worker-fixed.sh CONFIG-NAME
conf="$SCHED_TOP_SRCDIR/tests/examples/$1.conf"
out=$(./examples/worker --fixed "$conf" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc, expected 0"; exit 1; }
for i in 1 2 3; do
    printf '%s\n' "$out" | grep -q "^request $i: clean\$" || { echo "FAIL: request $i"; exit 1; }
done
printf '%s\n' "$out" | grep -q '^1 analytics beacon sent$' || { echo "FAIL: analytics lost"; exit 1; }
