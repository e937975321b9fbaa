#!/bin/sh
# SPDX-License-Identifier: MIT
# The ABI's symbol rules, checked on the built files: every backend plugin
# exports exactly one symbol, sched_plugin_entry_v1, and libsched.so
# exports exactly the functions of its public headers, as core/libsched.sym
# lists them.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm is not installed"; exit 77; }
status=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-symbols-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

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
# The list in core/libsched.sym, the functions the public headers declare
# and what the library exports under SCHED_1.0 are one and the same set: a
# function added to a header but not to the list (or exported by a
# wildcard, or listed but never declared) fails here.  The internal
# sched__* names schedctl uses are exported under SCHED_PRIVATE alone, and
# only those the list names.
sym=$SCHED_TOP_SRCDIR/core/libsched.sym
# "NODE NAME" for every name the version script lists.
awk '/^[A-Z][A-Z0-9_.]* *\{/ { node = $1 }
     /^ *sched_[a-z0-9_]*;$/ { sub(/^ */, ""); sub(/;$/, ""); print node, $0 }' "$sym" >"$tmp/nodes"
awk '$1 == "SCHED_1.0" { print $2 }' "$tmp/nodes" | sort >"$tmp/listed"
awk '$1 == "SCHED_PRIVATE" { print $2 }' "$tmp/nodes" | sort >"$tmp/listed_private"
# Exported names with their version node.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | grep '@' | sort -u >"$tmp/versioned"
sed -n 's/@@*SCHED_1\.0$//p' "$tmp/versioned" | sort -u >"$tmp/exported"
sed -n 's/@@*SCHED_PRIVATE$//p' "$tmp/versioned" | sort -u >"$tmp/exported_private"
unversioned=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | grep -v '@')
if [ -n "$unversioned" ]; then
    echo "FAIL: $lib exports names outside any version node:"
    echo "$unversioned" | sed 's/^/    /'
    status=1
fi
grep -v '^sched__' "$tmp/listed" >"$tmp/x" && cmp -s "$tmp/x" "$tmp/listed" ||
    { echo "FAIL: core/libsched.sym lists internal sched__* names under SCHED_1.0"; status=1; }
grep '^sched__' "$tmp/listed_private" >"$tmp/x"; cmp -s "$tmp/x" "$tmp/listed_private" ||
    { echo "FAIL: core/libsched.sym lists public names under SCHED_PRIVATE"; status=1; }
printf '#include <sched/sched.h>\n#include <sched/test.h>\n#include <sched/session.h>\n' >"$tmp/h.c"
if ${CC:-cc} -I"$SCHED_TOP_SRCDIR/core/include" -I"$SCHED_TOP_BUILDDIR/core/include" \
        -aux-info "$tmp/aux" -fsyntax-only -o /dev/null "$tmp/h.c" 2>"$tmp/cc.err"; then
    grep '/include/sched/[a-z]*\.h:' "$tmp/aux" |
        sed -n 's/.*[ *]\(sched_[a-z0-9_]*\) (.*/\1/p' | sort -u >"$tmp/declared"
else
    echo "FAIL: cannot list the headers' declarations with ${CC:-cc} -aux-info:"
    cat "$tmp/cc.err"
    status=1
    : >"$tmp/declared"
fi
compare() {
    extra=$(comm -23 "$tmp/$1" "$tmp/$2")
    if [ -n "$extra" ]; then
        echo "FAIL: $3:"
        echo "$extra" | sed 's/^/    /'
        status=1
    fi
}
compare declared listed "declared in <sched/*.h> but missing from core/libsched.sym (add it there, then run make abi-update)"
compare listed declared "listed in core/libsched.sym but declared by no public header"
compare exported listed "exported by $lib but not listed in core/libsched.sym"
compare listed exported "listed in core/libsched.sym but not exported by $lib"
compare exported_private listed_private "exported under SCHED_PRIVATE but not listed there"
compare listed_private exported_private "listed under SCHED_PRIVATE but not exported"
# SCHED_PRIVATE is for schedctl and schedctl-suite alone, and holds only
# what they still use: a name neither imports any more leaves the list.
: >"$tmp/used_private"
for prog in core/schedctl/.libs/schedctl core/schedctl/.libs/schedctl-suite \
            core/schedctl/schedctl core/schedctl/schedctl-suite; do
    [ -f "$SCHED_TOP_BUILDDIR/$prog" ] || continue
    case $(head -c 4 "$SCHED_TOP_BUILDDIR/$prog" | od -An -c | tr -d ' ') in
        177ELF) nm -D --undefined-only "$SCHED_TOP_BUILDDIR/$prog" |
                    sed -n 's/^ *U \(sched__[a-z0-9_]*\)@SCHED_PRIVATE$/\1/p' >>"$tmp/used_private" ;;
    esac
done
sort -u "$tmp/used_private" -o "$tmp/used_private"
if [ -s "$tmp/used_private" ]; then
    compare listed_private used_private "listed under SCHED_PRIVATE but used by neither schedctl nor schedctl-suite"
else
    echo "FAIL: found no schedctl or schedctl-suite importing from SCHED_PRIVATE"
    status=1
fi
for so in "$SCHED_TOP_BUILDDIR"/plugins/*/.libs/*.so; do
    [ -f "$so" ] || continue
    if nm -D --undefined-only "$so" | grep -q '@SCHED_PRIVATE$'; then
        echo "FAIL: $so uses SCHED_PRIVATE names"
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "ok: $lib exports the $(wc -l <"$tmp/listed") functions core/libsched.sym lists, all declared, and $(wc -l <"$tmp/listed_private") private ones"
if ! nm -D --defined-only "$lib" | grep -q ' A SCHED_1.0$'; then
    echo "FAIL: $lib has no SCHED_1.0 version node"
    status=1
fi
exit $status
