#!/bin/sh
# SPDX-License-Identifier: MIT
# The ABI's symbol rules, checked on the built files: every backend plugin
# exports exactly one symbol, sched_plugin_entry_v1, and libsched.so
# exports sched_* and nothing else.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm is not installed"; exit 77; }
status=0

# Defined dynamic symbols, without the version nodes (type A).
exported() {
    nm -D --defined-only "$1" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u
}

plugins=0
for so in "$SCHED_TOP_BUILDDIR"/plugins/*/.libs/*.so; do
    [ -f "$so" ] || continue
    plugins=$((plugins + 1))
    syms=$(exported "$so")
    if [ "$syms" = "sched_plugin_entry_v1" ]; then
        echo "ok: $so exports only sched_plugin_entry_v1"
    else
        echo "FAIL: $so exports:"
        echo "$syms" | sed 's/^/    /'
        status=1
    fi
done
[ "$plugins" -gt 0 ] || { echo "FAIL: no plugins built under $SCHED_TOP_BUILDDIR/plugins"; status=1; }

lib=$(ls "$SCHED_TOP_BUILDDIR"/core/.libs/libsched.so.* 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then
    echo "FAIL: libsched.so not built"
    exit 1
fi
bad=$(exported "$lib" | grep -v '^sched_')
if [ -n "$bad" ]; then
    echo "FAIL: $lib exports names outside sched_*:"
    echo "$bad" | sed 's/^/    /'
    status=1
else
    echo "ok: $lib exports $(exported "$lib" | wc -l) symbols, all sched_*"
fi
if exported "$lib" | grep -q '^sched__'; then
    echo "FAIL: $lib exports internal sched__* names"
    status=1
fi
if ! nm -D --defined-only "$lib" | grep -q ' A SCHED_1.0$'; then
    echo "FAIL: $lib has no SCHED_1.0 version node"
    status=1
fi
exit $status
