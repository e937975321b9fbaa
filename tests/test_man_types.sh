#!/bin/sh
# SPDX-License-Identifier: MIT
# Every type the public headers define can be looked up with man: it has
# a page of its own name, or man/types.map names the page that documents
# it (installed as a section-3 stub); either way that page names the type.
# A new public type without documentation fails here.
: "${SCHED_TOP_SRCDIR:?run through make check}"
man=$SCHED_TOP_SRCDIR/man
status=0
types=$(cat "$SCHED_TOP_SRCDIR"/core/include/sched/*.h |
    sed -n -e 's/^typedef .*[ *(]\(sched_[a-z0-9_]*\)[);].*/\1/p' -e 's/^} \(sched_[a-z0-9_]*\);$/\1/p' |
    sort -u)
[ -n "$types" ] || { echo "FAIL: no types found in the public headers"; exit 1; }
for t in $types; do
    if [ -f "$man/$t.3" ]; then
        page=$man/$t.3
    else
        rel=$(awk -v t="$t" '$1 == t { print $2 }' "$man/types.map")
        if [ -z "$rel" ]; then
            echo "FAIL: $t has no page and no line in man/types.map"
            status=1
            continue
        fi
        page=$man/$(basename "$rel")
    fi
    if [ ! -f "$page" ]; then
        echo "FAIL: $t: $page does not exist"
        status=1
    elif grep -q "\\b$t\\b" "$page"; then
        echo "ok: $t is in $(basename "$page")"
    else
        echo "FAIL: $t: $(basename "$page") does not name it"
        status=1
    fi
done
# No stub may shadow a real page.
awk '/^sched_/ { print $1 }' "$man/types.map" | while read -r t; do
    [ ! -f "$man/$t.3" ] || { echo "FAIL: man/types.map would overwrite $t.3"; exit 1; }
done || status=1
exit $status
