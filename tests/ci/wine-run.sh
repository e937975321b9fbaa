#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/wine-run.sh - run one Windows test program under Wine, headless.
#
# Usage: wine-run.sh PROGRAM [ARGS...]
#
# The LOG_COMPILER of a cross build's "make check" (tests/windows.am).  It
# turns the hermetic test environment of tests/Makefile.am into its
# Windows form and runs PROGRAM with wine:
#   - a private WINEPREFIX (SCHED_WINEPREFIX, by default wineprefix/ in
#     the build tree), created on first use under a lock so that parallel
#     tests do not race to create it; no X display is used;
#   - SCHED_PLUGIN_PATH, SCHED_TOP_BUILDDIR and SCHED_TOP_SRCDIR as Windows
#     paths (Z:\ is / in every fresh prefix), the plugin path ';'-separated;
#   - WINEPATH holding the DLLs the programs need: SCHED_WINE_DLLPATH, the
#     directories of the cross-built libconfig and CUnit and of the
#     mingw-w64 runtime, set by configure.
# The exit status is the program's, so automake's driver sees PASS, FAIL,
# SKIP (77) and ERROR (99) as it would natively.
set -eu

prog=$1
shift

# Script tests listed in SCHED_WINE_SCRIPTS (tests/windows.am) run on the
# build machine and call this script themselves for Windows programs.
# Any other script was written for the native build (POSIX programs by
# their names, the linux backend): it is reported as skipped, not run.
case $prog in
    *.exe) ;;
    *)
        case " ${SCHED_WINE_SCRIPTS:-} " in
            *" ${prog##*/} "*) exec "$prog" "$@" ;;
        esac
        echo "SKIP: $prog is a test of the native build"
        exit 77
        ;;
esac

# /a/b -> Z:\a\b
winpath() {
    printf 'Z:%s' "$1" | tr / '\\'
}

# a:b:c (POSIX directories) -> Z:\a;Z:\b;Z:\c
winpathlist() {
    out=
    old_ifs=$IFS
    IFS=:
    for d in $1; do
        [ -n "$d" ] || continue
        out=${out:+$out;}$(winpath "$d")
    done
    IFS=$old_ifs
    printf '%s' "$out"
}

builddir=${SCHED_TOP_BUILDDIR:-$(pwd)}
WINEPREFIX=${SCHED_WINEPREFIX:-$builddir/wineprefix}
WINEDEBUG=${SCHED_WINEDEBUG:--all}
# No Mono or Gecko installer prompts; no display.
WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export WINEPREFIX WINEDEBUG WINEDLLOVERRIDES
unset DISPLAY WAYLAND_DISPLAY

if [ ! -f "$WINEPREFIX/.sched-ready" ]; then
    mkdir -p "$WINEPREFIX"
    (
        flock 9
        if [ ! -f "$WINEPREFIX/.sched-ready" ]; then
            wineboot --init >/dev/null 2>&1
            wineserver -w
            touch "$WINEPREFIX/.sched-ready"
        fi
    ) 9>"$WINEPREFIX.lock"
fi

# One wineserver for the whole test run: one that exits between two tests
# (after its default 3 s) can race with the next one's start ("wine client
# error ... sendmsg").  A server already running keeps running.
wineserver -p30 >/dev/null 2>&1 || true

if [ -n "${SCHED_PLUGIN_PATH:-}" ]; then
    SCHED_PLUGIN_PATH=$(winpathlist "$SCHED_PLUGIN_PATH")
    export SCHED_PLUGIN_PATH
fi
for v in SCHED_TOP_BUILDDIR SCHED_TOP_SRCDIR; do
    eval "val=\${$v:-}"
    if [ -n "$val" ]; then
        eval "$v=\$(winpath \"\$val\")"
        export "$v"
    fi
done
WINEPATH=$(winpathlist "${SCHED_WINE_DLLPATH:-}")
export WINEPATH

exec wine "$prog" "$@"
