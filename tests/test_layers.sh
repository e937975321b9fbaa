#!/bin/sh
# SPDX-License-Identifier: MIT
# core/ keeps the layers core/README lists: tests/layers.sh passes the
# source tree, and fails each broken copy of it made from the fixtures
# in tests/fixtures/layers, naming the breach on the planted line.  A
# fixture's second line says which file of core/ it is appended to
# ("into FILE", or "into new": added as a file of its own) and what the
# check must say ("expect: TEXT", or "expect: pass" for a mention that is
# no breach).  So the check can neither pass everything nor fail
# everything.
: "${SCHED_TOP_SRCDIR:?run through make check}"
src=$SCHED_TOP_SRCDIR
check="$src/tests/layers.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

out=$(sh "$check" "$src/core" 2>&1) || fail "core/ breaks its layering:
$out"

n=0
for fx in "$src"/tests/fixtures/layers/*.c; do
    name=${fx##*/}
    into=$(sed -n '2s/.*layers fixture: into \([A-Za-z0-9_.]*\);.*/\1/p' "$fx")
    expect=$(sed -n '2s/.*; expect: \(.*\) \*\/$/\1/p' "$fx")
    if [ -z "$into" ] || [ -z "$expect" ]; then
        fail "$name: line 2 says neither where it goes nor what to expect"
        continue
    fi
    rm -rf "$tmp/core" && mkdir "$tmp/core" &&
        cp "$src"/core/*.c "$src"/core/*.h "$src"/core/README "$tmp/core/" || exit 1
    if [ "$into" = new ]; then
        cp "$fx" "$tmp/core/$name" || exit 1
        where=$name
    elif [ -f "$tmp/core/$into" ]; then
        first=$(( $(wc -l < "$tmp/core/$into") + 1 ))
        cat "$fx" >> "$tmp/core/$into"
        where=$into
    else
        fail "$name: core/ has no $into"
        continue
    fi
    n=$((n + 1))
    out=$(sh "$check" "$tmp/core" 2>&1); rc=$?
    if [ "$expect" = pass ]; then
        [ $rc -eq 0 ] || fail "$name: a mention was taken for a breach (exit $rc):
$out"
        continue
    fi
    if [ $rc -ne 1 ]; then
        fail "$name: the check did not fail (exit $rc): $out"
        continue
    fi
    line=$(printf '%s\n' "$out" | grep -F -- "$expect" | head -n 1)
    case $line in
        "$where: "*|"$where:"[0-9]*": "*) ;;
        *) fail "$name: no \"$where: ... $expect\" in:
$out"; continue ;;
    esac
    if [ "$into" != new ]; then
        at=$(printf '%s\n' "$line" | sed -n 's/^[^:]*:\([0-9]*\):.*/\1/p')
        [ -n "$at" ] && [ "$at" -ge "$first" ] ||
            fail "$name: the breach was reported on line ${at:-?}, not on the planted lines ($first on)"
    fi
    # The breach is the only one: nothing else of the copy was blamed.
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$name: more than the planted breach:
$out"
done
[ $n -ge 6 ] || fail "only $n fixtures ran; tests/fixtures/layers has fewer than 6"
exit $status
