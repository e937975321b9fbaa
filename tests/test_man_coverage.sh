#!/bin/sh
# SPDX-License-Identifier: MIT
# Every function and function-like macro <sched/sched.h> declares is named
# (.Nm) by some manual page in man/.
: "${SCHED_TOP_SRCDIR:?run through make check}"
status=0
names=$(grep -oE '\bsched_[a-z0-9_]+\(' "$SCHED_TOP_SRCDIR/core/include/sched/sched.h" | tr -d '(' | sort -u)
[ -n "$names" ] || { echo "FAIL: no functions found in sched.h"; exit 1; }
for fn in $names; do
    if grep -q "^\.Nm $fn\( ,\)\{0,1\}\$" "$SCHED_TOP_SRCDIR"/man/*.[37]; then
        echo "ok: $fn"
    else
        echo "FAIL: $fn has no manual page"
        status=1
    fi
done
exit $status
