#!/bin/sh
# SPDX-License-Identifier: MIT
# The ABI's symbol rules on the Windows build's DLLs: every backend plugin
# exports exactly one symbol, sched_plugin_entry_v1, and libsched's DLL
# exports sched_* and nothing else (its .def comes from libtool's
# -export-symbols-regex, since PE has no version scripts).
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${OBJDUMP:?run through make check (OBJDUMP names the PE objdump)}"
command -v "$OBJDUMP" >/dev/null 2>&1 || { echo "SKIP: $OBJDUMP is not installed"; exit 77; }
status=0

# The names in a DLL's export table.
exported() {
    "$OBJDUMP" -p "$1" |
        sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' |
        sed -n 's/^[[:space:]]*\[[[:space:]]*[0-9]*\][[:space:]]*//p' | sort -u
}

plugins=0
for dll in "$SCHED_TOP_BUILDDIR"/plugins/*/.libs/*.dll; do
    [ -f "$dll" ] || continue
    plugins=$((plugins + 1))
    syms=$(exported "$dll")
    if [ "$syms" = "sched_plugin_entry_v1" ]; then
        echo "ok: $dll exports only sched_plugin_entry_v1"
    else
        echo "FAIL: $dll exports:"
        echo "$syms" | sed 's/^/    /'
        status=1
    fi
done
[ "$plugins" -ge 3 ] || { echo "FAIL: $plugins plugin DLLs under $SCHED_TOP_BUILDDIR/plugins"; status=1; }

lib=$(ls "$SCHED_TOP_BUILDDIR"/core/.libs/libsched-*.dll 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then
    echo "FAIL: no libsched DLL under $SCHED_TOP_BUILDDIR/core/.libs"
    status=1
else
    syms=$(exported "$lib")
    others=$(echo "$syms" | grep -v '^sched_')
    n=$(echo "$syms" | grep -c '^sched_')
    if [ -n "$others" ]; then
        echo "FAIL: $lib exports names outside sched_*:"
        echo "$others" | sed 's/^/    /'
        status=1
    elif ! echo "$syms" | grep -qx 'sched_host_open'; then
        echo "FAIL: $lib does not export sched_host_open"
        status=1
    else
        echo "ok: $lib exports $n names, all sched_*"
    fi
fi
exit $status
