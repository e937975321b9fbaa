#!/bin/sh
# SPDX-License-Identifier: MIT
# The licence check (test_licence.sh) against trees made for it: it
# passes a tree whose every source file has the line, with build
# directories inside it (a build/ in a git checkout, _build/sub in a
# release tarball) whose generated files do not; and it fails, naming
# the file, a tree with one source file without the line, in either
# form.
: "${SCHED_TOP_SRCDIR:?run through make check}"
check="$SCHED_TOP_SRCDIR/tests/test_licence.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-licence-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

# make_tree DIR: COPYING and 60 licensed sources, and two build
# directories holding unlicensed generated files.
make_tree() {
    mkdir -p "$1/src" "$1/build/sub" "$1/_build/sub" &&
        printf 'MIT License\n\nCopyright (c) The libsched authors\n' > "$1/COPYING" &&
        i=0 && while [ $i -lt 60 ]; do
            printf '/* SPDX-License-Identifier: MIT */\nint f%d;\n' $i > "$1/src/f$i.c"
            i=$((i + 1))
        done &&
        : > "$1/build/config.status" && printf 'int gen;\n' > "$1/build/gen.c" &&
        printf 'int gen2;\n' > "$1/build/sub/gen2.h" &&
        : > "$1/_build/sub/config.status" && printf 'int gen3;\n' > "$1/_build/sub/gen3.c"
}

# expect RC DIR WHAT [MESSAGE]: the check over DIR exits RC (and prints MESSAGE).
expect() {
    out=$(SCHED_TOP_SRCDIR="$2" sh "$check" 2>&1)
    rc=$?
    if [ "$rc" -ne "$1" ]; then
        echo "FAIL: $3: exit $rc, not $1"
        echo "$out"
        status=1
    elif [ -n "${4:-}" ] && ! printf '%s\n' "$out" | grep -qF "$4"; then
        echo "FAIL: $3: no \"$4\" in:"
        echo "$out"
        status=1
    else
        echo "ok: $3"
    fi
}

make_tree "$tmp/tarball" || exit 1
expect 0 "$tmp/tarball" "a release tree with build directories passes"
printf 'int planted;\n' > "$tmp/tarball/src/planted.c"
expect 1 "$tmp/tarball" "a release tree with an unlicensed file fails" "src/planted.c has no"

if command -v git >/dev/null 2>&1; then
    make_tree "$tmp/checkout" &&
        git -C "$tmp/checkout" init -q &&
        git -C "$tmp/checkout" add COPYING src || exit 1
    expect 0 "$tmp/checkout" "a checkout with build directories inside it passes"
    printf 'int planted;\n' > "$tmp/checkout/src/planted.c"
    expect 1 "$tmp/checkout" "a checkout with a new unlicensed file fails" "src/planted.c has no"
else
    echo "(git is not installed: the checkout form is not checked)"
fi
exit $status
