#!/bin/sh
# SPDX-License-Identifier: MIT
# The codes the library returns for the obvious misuse of each function
# (tests/man_errors.c, linked to libsched.so) are listed in the ERRORS
# section of that function's page.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
prog="$SCHED_TOP_BUILDDIR/tests/man_errors"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# One misuse asks for SIZE_MAX / 2 bytes: ASan and TSan must return NULL
# then, as malloc does, rather than abort.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }allocator_may_return_null=1"
export ASAN_OPTIONS TSAN_OPTIONS
"$prog" "$tmp" >"$tmp/calls" 2>"$tmp/stderr"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: man_errors exits $rc:"; cat "$tmp/stderr"; exit 1; }
[ -s "$tmp/calls" ] || { echo "FAIL: man_errors reported no call"; exit 1; }
status=0
while read -r page func code; do
    errors=$(awk '/^\.Sh / { on = ($0 == ".Sh ERRORS") } on' "$SCHED_TOP_SRCDIR/man/$page")
    if [ -z "$errors" ]; then
        echo "FAIL: $page has no ERRORS section"
        status=1
    elif printf '%s\n' "$errors" | grep -qw -- "$code"; then
        echo "ok: $func -> $code, listed in $page"
    else
        echo "FAIL: $func returns $code, which $page's ERRORS does not list"
        status=1
    fi
done <"$tmp/calls"
exit $status
