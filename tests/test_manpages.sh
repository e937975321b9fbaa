#!/bin/sh
# SPDX-License-Identifier: MIT
# Every manual page in man/ is clean under "mandoc -Tlint".  Only the
# messages about cross references are set aside: whether "Xr libsched 7"
# resolves depends on which manuals this machine has installed, not on
# the page.
: "${SCHED_TOP_SRCDIR:?run through make check}"
command -v mandoc >/dev/null 2>&1 || { echo "SKIP: mandoc is not installed"; exit 77; }
status=0
count=0
for page in "$SCHED_TOP_SRCDIR"/man/*.[1-9]; do
    [ -f "$page" ] || continue
    count=$((count + 1))
    out=$(mandoc -Tlint "$page" 2>&1 |
          grep -v -e 'STYLE: referenced manual not found' -e 'outdated mandoc.db' -e 'no mandoc.db')
    if [ -n "$out" ]; then
        echo "FAIL: $page"
        echo "$out"
        status=1
    else
        echo "ok: $page"
    fi
done
[ "$count" -gt 0 ] || { echo "FAIL: no manual pages found in $SCHED_TOP_SRCDIR/man"; exit 1; }
exit $status
