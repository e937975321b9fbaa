#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/install/installcheck.sh - what users and backend authors do with
# an installed libsched, run by "make installcheck" (and so by distcheck):
#   - build README's example through sched.pc and run it on every
#     installed backend that runs without a driver;
#   - build a program that hands the library heap memory to own
#     (install/ownership.c) and run it on those backends, under valgrind
#     when it is installed;
#   - build a third-party backend through sched-plugin.pc, outside the
#     tree, and have the installed schedctl load it;
#   - build the out-of-tree project of the installed sched-plugin(7)'s
#     EXAMPLES (its backend, configure.ac and Makefile.am) with the GNU
#     build system, install it under its own prefix through DESTDIR, and
#     run the installed schedctl conform on what it installed;
#   - a backend's manual page is installed exactly when the backend is.
# Usage: installcheck.sh SRCDIR BINDIR LIBDIR MANDIR
set -u
srcdir=$1 bindir=$2 libdir=$3 mandir=${4:-}
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-install-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
unset SCHED_CONFIG SCHED_BACKEND SCHED_PLUGIN_PATH XDG_CONFIG_HOME
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# shellcheck disable=SC2046
$CC -Wall -Wextra -Werror $(pkg-config --cflags sched) -o "$tmp/hello" "$srcdir/hello.c" \
    $(pkg-config --libs sched) -Wl,-rpath,"$libdir" || exit 1
for b in linux test; do
    out=$(SCHED_BACKEND=$b "$tmp/hello" 2>&1)
    [ "$out" = "$b says 42" ] && echo "ok: hello on $b" || fail "hello on $b: $out"
done

# A program that hands the library heap memory to own, on every backend
# that runs without a driver; under valgrind too when it is installed.
# shellcheck disable=SC2046
$CC -Wall -Wextra -Werror $(pkg-config --cflags sched) -o "$tmp/ownership" "$srcdir/ownership.c" \
    $(pkg-config --libs sched) -Wl,-rpath,"$libdir" || exit 1
vg=
if command -v valgrind >/dev/null 2>&1; then
    vg="valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect"
    for f in "$srcdir"/../ci/valgrind.supp "$srcdir"/../../plugins/*/valgrind.supp; do
        [ -f "$f" ] && vg="$vg --suppressions=$f"
    done
else
    echo "note: valgrind is not installed; the ownership program runs without it"
fi
for b in linux test cloudflare-sim; do
    # shellcheck disable=SC2086
    out=$(SCHED_BACKEND=$b $vg "$tmp/ownership" 2>&1)
    [ "$out" = "$b: every block and line freed once" ] && echo "ok: ownership on $b${vg:+ under valgrind}" ||
        fail "ownership on $b: $out"
done

# A static link of libsched, with what "pkg-config --static" adds for it
# (libconfig, the thread library), where the static library is installed.
if [ -f "$libdir/libsched.a" ]; then
    # shellcheck disable=SC2046
    $CC -Wall -Wextra -Werror $(pkg-config --cflags sched) -o "$tmp/hello-static" \
        "$srcdir/hello.c" $(pkg-config --static --libs sched |
            sed 's/-lsched\b/-Wl,-Bstatic -lsched -Wl,-Bdynamic/') ||
        fail "a static link with pkg-config --static --libs sched"
    if [ -x "$tmp/hello-static" ]; then
        out=$(SCHED_BACKEND=test "$tmp/hello-static" 2>&1)
        [ "$out" = "test says 42" ] && echo "ok: hello linked statically" ||
            fail "hello linked statically: $out"
        if command -v ldd >/dev/null 2>&1 && ldd "$tmp/hello-static" | grep -q libsched; then
            fail "hello-static still loads a shared libsched"
        fi
    fi
else
    echo "note: no $libdir/libsched.a (configure --enable-static), so no static link"
fi

plugindir=$(pkg-config --variable=plugindir sched-plugin)
[ "$plugindir" = "$(pkg-config --variable=plugindir sched)" ] &&
    echo "ok: sched.pc and sched-plugin.pc name one plugindir" ||
    fail "sched.pc's plugindir differs from sched-plugin.pc's"
case $plugindir in
    */sched-[0-9]*) echo "ok: plugindir $plugindir is versioned by the ABI major" ;;
    *) fail "plugindir $plugindir is not versioned by the ABI major" ;;
esac
for pc in sched sched-plugin; do
    if pkg-config --cflags "$pc" | grep -q visibility; then
        fail "$pc.pc puts a code-generation flag in Cflags: $(pkg-config --cflags "$pc")"
    fi
done
[ -f "$plugindir/linux.so" ] && echo "ok: plugindir $plugindir holds linux.so" ||
    fail "sched-plugin.pc's plugindir ($plugindir) has no linux.so"

if [ -n "$mandir" ]; then
    for b in linux mac windows test cloudflare-sim; do
        so=no page=no
        { [ -f "$plugindir/$b.so" ] || [ -f "$plugindir/$b.dll" ]; } && so=yes
        [ -f "$mandir/man7/sched-$b.7" ] && page=yes
        [ "$so" = "$page" ] && echo "ok: sched-$b(7) installed: $page, like the backend" ||
            fail "sched-$b(7) installed: $page, but the backend installed: $so"
    done
fi

mkdir "$tmp/acme"
cat "$srcdir/../plugins/fixture.h" "$srcdir/../plugins/valid.c" |
    sed -e '/#include "fixture.h"/d' -e 's/"valid"/"acme"/' >"$tmp/acme.c"
# shellcheck disable=SC2046
$CC -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $(pkg-config --cflags sched-plugin) \
    -o "$tmp/acme/acme.so" "$tmp/acme.c" || exit 1
syms=$(nm -D --defined-only "$tmp/acme/acme.so" | awk '$2 != "A" { print $3 }')
[ "$syms" = "sched_plugin_entry_v1" ] && echo "ok: the backend exports its entry alone" ||
    fail "the backend exports: $syms"
out=$(SCHED_BACKEND=acme SCHED_PLUGIN_PATH="$tmp/acme" "$bindir/schedctl" check 2>&1)
case $out in
    *"ok, backend \"acme\" ($tmp/acme/acme.so)") echo "ok: schedctl check loads a third-party backend" ;;
    *) fail "schedctl check: $out" ;;
esac
out=$(SCHED_PLUGIN_PATH="$tmp/acme" "$bindir/schedctl" list)
echo "$out" | grep -q "^  acme " && echo "ok: schedctl list shows it" || fail "schedctl list: $out"

# The page's project, as a third party builds it.
page="$mandir/man7/sched-plugin.7"
if [ ! -f "$page" ]; then
    fail "no installed sched-plugin(7) at $page"
else
    proj="$tmp/acme-sched"
    mkdir "$proj"
    sh "$srcdir/extract-example.sh" "$page" 1 >"$proj/acme.c"
    sh "$srcdir/extract-example.sh" "$page" 2 >"$proj/configure.ac"
    sh "$srcdir/extract-example.sh" "$page" 3 >"$proj/Makefile.am"
    if (cd "$proj" && autoreconf -fi >autoreconf.log 2>&1 &&
            ./configure --prefix="$tmp/prefix" >configure.log 2>&1 &&
            make >make.log 2>&1 && make install DESTDIR="$tmp/stage" >install.log 2>&1); then
        # In its own prefix's directory of the SDK's name (sched-1).
        so=$(find "$tmp/stage$tmp/prefix" -name acme.so -path "*/${plugindir##*/}/*" | head -n 1)
        if [ -n "$so" ]; then
            echo "ok: the page's project installs ${so#"$tmp/stage"} under its prefix, through DESTDIR"
            out=$(SCHED_PLUGIN_PATH="$(dirname "$so")" "$bindir/schedctl" conform acme 2>&1) &&
                echo "$out" | grep -q '^acme: 0 of [0-9]* tests failed$' &&
                echo "ok: the installed schedctl conform passes the page's backend" ||
                fail "schedctl conform on the page's backend: $out"
        else
            fail "the page's project installed no ${plugindir##*/}/acme.so under $tmp/stage$tmp/prefix: $(find "$tmp/stage")"
        fi
    else
        fail "the page's project does not build: $(tail -n 20 "$proj"/*.log)"
    fi
fi

[ "$failures" -eq 0 ]
