#!/bin/sh
# SPDX-License-Identifier: MIT
# sched-plugin(7)'s complete backend, taken from the page itself (so page
# and code cannot drift), built as a plugin the way the page says, and
# held to the conformance suite.  Its configure.ac and Makefile.am are
# built against an installed libsched by make installcheck.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
page="$SCHED_TOP_SRCDIR/man/sched-plugin.7"
extract="$SCHED_TOP_SRCDIR/tests/install/extract-example.sh"
ctl="$SCHED_TOP_BUILDDIR/core/schedctl/schedctl"
CC=${CC:-cc}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

mkdir "$tmp/acme" || exit 1
sh "$extract" "$page" 1 >"$tmp/acme.c"
grep -q 'SCHED_PLUGIN_ENTRY' "$tmp/acme.c" || { fail "no backend in the page's EXAMPLES"; exit 1; }
$CC -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -I"$SCHED_TOP_SRCDIR/core/include" \
    -o "$tmp/acme/acme.so" "$tmp/acme.c" -pthread || { fail "the page's backend does not build"; exit 1; }
echo "ok: the page's backend builds with -Wall -Wextra -Werror"
syms=$(nm -D --defined-only "$tmp/acme/acme.so" | awk '$2 != "A" { print $3 }')
[ "$syms" = "sched_plugin_entry_v1" ] && echo "ok: it exports its entry alone" || fail "it exports: $syms"

out=$(SCHED_PLUGIN_PATH="$tmp/acme" "$ctl" conform acme 2>&1); rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^acme: 0 of [0-9]* tests failed$'; then
    echo "ok: it passes schedctl conform"
else
    fail "schedctl conform acme ($rc): $out"
fi

sh "$extract" "$page" 2 | grep -q '^PKG_CHECK_MODULES(\[SCHED_PLUGIN\], \[sched-plugin\])$' &&
    echo "ok: the page's configure.ac checks for sched-plugin" || fail "no configure.ac in the page"
sh "$extract" "$page" 3 | grep -q '^plugin_LTLIBRARIES = acme.la$' &&
    echo "ok: the page's Makefile.am installs into plugindir" || fail "no Makefile.am in the page"
exit $status
