#!/bin/sh
# SPDX-License-Identifier: MIT
# Every section-3 page has EXAMPLES, and every program in them (a literal
# display with a main function) is taken from the page itself, built with
# -Wall -Wextra -Werror against the public headers and libsched.so, and
# run: it must exit 0 on the default backend (the test backend for the
# test backend's page).  A reader who copies an
# example gets code that works.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
extract="$SCHED_TOP_SRCDIR/tests/install/extract-example.sh"
libdir="$SCHED_TOP_BUILDDIR/core/.libs"
CC=${SCHED_TEST_CC:-cc}
# Pages whose examples are fragments to read inside a program of one's
# own (a test body, a backend's interface, a request handler) rather than
# whole programs.
fragments="sched_future.3 sched_host_query.3 sched_session.3"
# The test backend's controls need the test backend, over a few seeds.
env_of() {
    case $1 in
    sched_as_test.3) echo "SCHED_BACKEND=test SCHED_ITERATIONS=3" ;;
    esac
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
[ -f "$libdir/libsched.so" ] || { echo "FAIL: no libsched.so in $libdir"; exit 1; }
status=0
count=0
for page in "$SCHED_TOP_SRCDIR"/man/*.3; do
    name=${page##*/}
    if ! grep -q '^\.Sh EXAMPLES$' "$page"; then
        echo "FAIL: $name has no EXAMPLES"
        status=1
        continue
    fi
    progs=0
    n=1
    while :; do
        sh "$extract" "$page" "$n" >"$tmp/ex.c"
        [ -s "$tmp/ex.c" ] || break
        if grep -q '^int main(' "$tmp/ex.c"; then
            progs=$((progs + 1))
            what="$name, example $n"
            # shellcheck disable=SC2086  # CFLAGS is a list of flags
            if ! $CC -Wall -Wextra -Werror $SCHED_TEST_CFLAGS \
                    -I"$SCHED_TOP_SRCDIR/core/include" -I"$SCHED_TOP_BUILDDIR/core/include" \
                    -o "$tmp/ex" "$tmp/ex.c" -L"$libdir" -lsched -Wl,-rpath,"$libdir" \
                    >"$tmp/cc.out" 2>&1; then
                echo "FAIL: $what does not build:"
                cat "$tmp/cc.out"
                status=1
            else
                # shellcheck disable=SC2046  # the assignments are words
                out=$(cd "$tmp" && env $(env_of "$name") timeout 120 ./ex 2>&1); rc=$?
                if [ $rc -eq 0 ]; then
                    echo "ok: $what builds and runs"
                    count=$((count + 1))
                else
                    echo "FAIL: $what exits $rc:"
                    printf '%s\n' "$out"
                    status=1
                fi
            fi
        fi
        n=$((n + 1))
    done
    case " $fragments " in
    *" $name "*) [ $progs -eq 0 ] || { echo "FAIL: $name has a program now: take it off the fragment list"; status=1; } ;;
    *) [ $progs -gt 0 ] || { echo "FAIL: $name has no complete program in EXAMPLES"; status=1; } ;;
    esac
done
[ $count -gt 0 ] || { echo "FAIL: no example ran"; status=1; }
exit $status
