#!/bin/sh
# SPDX-License-Identifier: MIT
# The mac plugin carries an rpath only when configure was asked for one
# (--enable-dispatch-rpath), and then exactly libdispatch's directory: a
# search path the builder did not choose is what lintian calls
# custom-library-search-path, and it makes the package depend on what the
# build machine happened to have.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
command -v readelf >/dev/null 2>&1 || { echo "SKIP: readelf is not installed"; exit 77; }
so=$SCHED_TOP_BUILDDIR/plugins/mac/.libs/mac.so
[ -f "$so" ] || { echo "FAIL: $so not built"; exit 1; }
paths=$(readelf -d "$so" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p')
want=${SCHED_DISPATCH_RPATH-}
if [ "$paths" = "$want" ]; then
    echo "ok: $so search path is \"$paths\" (asked for: \"$want\")"
    exit 0
fi
echo "FAIL: $so has search path \"$paths\"; configure was asked for \"$want\""
exit 1
