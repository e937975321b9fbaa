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
# The distribution's own files: what git tracks in a checkout (and what
# it would track, so that a new file is checked before it is added); in
# a release tarball, everything.  Never a build directory's (any
# directory below the top holding a config.status, such as make
# distcheck's _build/sub, or a build/ made inside a checkout).
builddirs=$(find . -mindepth 2 -name config.status -type f | sed 's,^\./,,; s,/config.status$,,')
if git -C . rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
   [ "$(git -C . rev-parse --show-toplevel)" = "$(pwd -P)" ]; then
    files=$(git ls-files --cached --others --exclude-standard)
else
    prune=
    for d in $builddirs; do
        prune="$prune -path ./$d -prune -o"
    done
    # shellcheck disable=SC2086
    files=$(find . $prune -path ./autom4te.cache -prune -o -path ./build-aux -prune -o \
            -type f -print | sed 's,^\./,,')
fi
count=0
for f in $files; do
    for d in $builddirs; do
        case $f in "$d"/*) continue 2 ;; esac
    done
    case $f in
        *.[ch]|*.am|*.ac|*.m4|*.sh|*.[1-9]|*.conf|*.conform|*.test|*.supp|*.sym|*.pc.in) ;;
        *) continue ;;
    esac
    case $f in
        m4/libtool.m4|m4/lt*.m4|aclocal.m4|config.h|core/default_conf.c) continue ;;
        *Makefile.in|configure) continue ;;
    esac
    count=$((count + 1))
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' ||
        { echo "FAIL: $f has no SPDX-License-Identifier: MIT line"; status=1; }
done
[ "$count" -gt 50 ] || { echo "FAIL: only $count source files found under $SCHED_TOP_SRCDIR"; exit 1; }
[ "$status" -eq 0 ] && echo "ok: $count source files carry SPDX-License-Identifier: MIT"
exit $status
