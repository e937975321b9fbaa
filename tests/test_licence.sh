#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file of the distribution carries the MIT licence's SPDX
# line, and COPYING holds the licence.  It runs over the source tree (a
# release tarball's too), so a file added without the line fails here.
: "${SCHED_TOP_SRCDIR:?run through make check}"
cd "$SCHED_TOP_SRCDIR" || exit 1
status=0
grep -q '^MIT License$' COPYING 2>/dev/null &&
    grep -q 'The libsched authors' COPYING ||
    { echo "FAIL: COPYING does not hold the MIT licence of The libsched authors"; status=1; }
count=0
for f in $(find . -path ./_build -prune -o -path ./.git -prune -o \
        -path ./autom4te.cache -prune -o -path ./build-aux -prune -o \
        -path './libsched-*' -prune -o -type f \( \
        -name '*.[ch]' -o -name '*.am' -o -name '*.ac' -o -name '*.m4' -o \
        -name '*.sh' -o -name '*.[1-9]' -o -name '*.conf' -o -name '*.conform' -o \
        -name '*.test' -o -name '*.supp' -o -name '*.sym' -o -name '*.pc.in' \) -print); do
    case $f in
        ./m4/libtool.m4|./m4/lt*.m4|./aclocal.m4|./config.h|./core/default_conf.c) continue ;;
        */Makefile.in|./configure) continue ;;
    esac
    count=$((count + 1))
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' ||
        { echo "FAIL: $f has no SPDX-License-Identifier: MIT line"; status=1; }
done
[ "$count" -gt 50 ] || { echo "FAIL: only $count source files found under $SCHED_TOP_SRCDIR"; exit 1; }
[ "$status" -eq 0 ] && echo "ok: $count source files carry SPDX-License-Identifier: MIT"
exit $status
