#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl as a distribution ships it: the tool links libsched.so.0 (no
# copy of the core inside) and not CUnit, whose suite is schedctl-suite;
# a mistyped option is called an option; "check FILE" works; what it
# prints fits 80 columns; and conform without its suite says what is
# missing.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-tool-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The programs themselves, not libtool's wrappers.
bin=$SCHED_TOP_BUILDDIR/core/schedctl/.libs/schedctl
suite=$SCHED_TOP_BUILDDIR/core/schedctl/.libs/schedctl-suite
if command -v readelf >/dev/null 2>&1 && [ -f "$bin" ] && [ -f "$suite" ]; then
    needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
    needed "$bin" | grep -qx 'libsched\.so\.0' && echo "ok: schedctl links libsched.so.0" ||
        fail "schedctl does not link libsched.so.0: $(needed "$bin" | tr '\n' ' ')"
    needed "$bin" | grep -q cunit && fail "schedctl links CUnit: $(needed "$bin" | tr '\n' ' ')"
    needed "$suite" | grep -q cunit && echo "ok: CUnit is schedctl-suite's alone" ||
        fail "schedctl-suite does not link CUnit"
    # A copy of the core would define the library's functions.
    copied=$(nm --defined-only "$bin" "$suite" | grep -E ' [TtDdRrBb] sched_(host_open|strerror|_config_load|_plugin_open)$')
    [ -z "$copied" ] && echo "ok: neither program carries a copy of the core" ||
        fail "a program defines core functions: $copied"
else
    fail "readelf missing or $bin / $suite not built"
fi

# expect NAME STATUS STDERR-TEXT COMMAND...
expect() {
    name=$1 want_status=$2 want_err=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    err=$(cat "$tmp/err")
    if [ "$status" -ne "$want_status" ]; then
        fail "$name: exit status $status, expected $want_status: $err"
    elif [ "$err" != "$want_err" ]; then
        fail "$name: stderr is \"$err\", expected \"$want_err\""
    else
        echo "ok: $name"
    fi
}

expect "a mistyped option is an unknown option" 2 \
    'schedctl: unknown option "--hlep" (try "schedctl --help")' "$schedctl" --hlep
expect "a mistyped command is an unknown command" 2 \
    'schedctl: unknown command "lsit" (try "schedctl --help")' "$schedctl" lsit

conf=$SCHED_TOP_SRCDIR/tests/examples/test.conf
expect "check FILE" 0 "" "$schedctl" check "$conf"
grep -q "^$conf: ok, backend \"test\"" "$tmp/out" || fail "check FILE: $(cat "$tmp/out")"
expect "check -c FILE" 0 "" "$schedctl" check -c "$conf"
expect "check FILE that does not exist" 1 \
    "$("$schedctl" check -c "$tmp/none.conf" 2>&1)" "$schedctl" check "$tmp/none.conf"

expect "conform without its suite" 1 \
    "schedctl: conform: cannot run $tmp/none: No such file or directory (it is installed with schedctl's conformance and benchmark suite)" \
    env SCHEDCTL_SUITE="$tmp/none" "$schedctl" conform test

# 80 columns: every help text, list, and bench's table.
wide() { awk -v what="$1" 'length($0) > 80 { printf "%s: %d columns: %s\n", what, length($0), $0 }'; }
for c in list check info trace-summary conform bench; do
    "$schedctl" help "$c" 2>&1 | wide "help $c" >>"$tmp/wide"
done
"$schedctl" --help 2>&1 | wide "--help" >>"$tmp/wide"
# list's table with the plugins where a Debian system has them (the
# build tree's paths are longer); the search path is a list, not a table.
"$schedctl" list 2>&1 | sed -e '/^search path:/d' \
    -e "s|$SCHED_TOP_BUILDDIR/plugins/[a-z-]*/\.libs|/usr/lib/x86_64-linux-gnu/sched-1|" | wide list >>"$tmp/wide"
"$schedctl" bench --quick --backend test 2>&1 | wide bench >>"$tmp/wide"
[ -s "$tmp/wide" ] && fail "lines wider than 80 columns:$(sed 's/^/\n  /' "$tmp/wide")" ||
    echo "ok: help, list and bench fit 80 columns"

# The bash completion, as bash-completion loads it.
bc=/usr/share/bash-completion/bash_completion
if [ -f "$bc" ] && command -v bash >/dev/null 2>&1; then
    complete_line() {
        PATH="$SCHED_TOP_BUILDDIR/core/schedctl:$PATH" bash -c '
            . "$1"; . "$2"; shift 2
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _schedctl schedctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf "%s\n" "${COMPREPLY[@]}"' sh "$bc" \
            "$SCHED_TOP_SRCDIR/core/schedctl/bash-completion/schedctl" "$@" | sort | tr '\n' ' '
    }
    got=$(complete_line schedctl ch)
    [ "$got" = "check " ] && echo "ok: completion: schedctl ch -> check" ||
        fail "completion of \"schedctl ch\": \"$got\""
    got=$(complete_line schedctl conform t)
    [ "$got" = "test " ] && echo "ok: completion: schedctl conform t -> test" ||
        fail "completion of \"schedctl conform t\": \"$got\""
    got=$(complete_line schedctl bench --q)
    [ "$got" = "--quick " ] && echo "ok: completion: schedctl bench --q -> --quick" ||
        fail "completion of \"schedctl bench --q\": \"$got\""
else
    fail "bash or $bc is not installed (tests/ci/deps.sh installs bash-completion)"
fi

[ "$failures" -eq 0 ]
