#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl.exe as a Windows user runs it (under Wine here): list names the
# built backends and the selected one, check accepts the compiled-in
# default (windows), a config file and an override, and refuses each
# broken fixture DLL with its one sentence and a non-zero exit.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
run="$SCHED_TOP_SRCDIR/tests/ci/wine-run.sh"
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl.exe
fixtures=$SCHED_TOP_BUILDDIR/tests/plugins/.libs
winfixtures=Z:$(printf '%s' "$fixtures" | tr / '\\')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-wtest-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect NAME STATUS STDERR-TEXT [VAR=VALUE...] -- ARGS...: run schedctl
# under Wine with those environment settings; compare the exit status and
# the whole of stderr (Windows line ends removed).
expect() {
    name=$1 want_status=$2 want_err=$3
    shift 3
    env_args=
    while [ "$1" != -- ]; do
        env_args="$env_args $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    env $env_args sh "$run" "$schedctl" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
    err=$(tr -d '\r' <"$tmp/err")
    if [ "$status" -ne "$want_status" ]; then
        fail "$name: exit status $status, expected $want_status"
        sed 's/^/  stderr: /' "$tmp/err"
    elif [ "$err" != "$want_err" ]; then
        fail "$name: stderr differs"
        echo "  expected: $want_err"
        echo "  got:      $err"
    else
        echo "ok: $name"
    fi
}

# list: the built backends with their DLLs, windows selected by default.
expect "list" 0 "" --  list
grep -q '^\* windows  *[^ ]*  *1\.1  *Z:\\.*\\plugins\\windows\\\.libs\\windows\.dll$' "$tmp/out.txt" ||
    fail "list does not select windows.dll: $(cat "$tmp/out.txt")"
grep -q '^  test  *[^ ]*  *1\.1  *Z:\\.*\\test\.dll$' "$tmp/out.txt" ||
    fail "list does not show test.dll"
grep -q '^  linux  *missing: skipped (not built for Windows hosts)$' "$tmp/out.txt" ||
    fail "list does not explain the missing linux backend"
grep -q '^config:      (built-in) (compiled-in default)$' "$tmp/out.txt" ||
    fail "list does not name the compiled-in default"

# check: the default, an override, a config file.
expect "check the compiled-in default" 0 "" -- check
grep -q 'windows' "$tmp/out.txt" || fail "check does not name windows: $(cat "$tmp/out.txt")"
expect "check SCHED_BACKEND=test" 0 "" SCHED_BACKEND=test -- check
printf 'backend = "test";\ntest: { seed = 7; };\n' >"$tmp/sched.conf"
expect "check -c FILE" 0 "" -- check -c "Z:$(printf '%s' "$tmp/sched.conf" | tr / '\\')"
printf 'backend = "windows";\nwindows: { max_threads = -1; };\n' >"$tmp/bad.conf"
winbad="Z:$(printf '%s' "$tmp/bad.conf" | tr / '\\')"
env sh "$run" "$schedctl" check -c "$winbad" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -eq 0 ] || ! grep -q 'max_threads' "$tmp/err"; then
    fail "check accepts windows.max_threads = -1 (status $status): $(cat "$tmp/err")"
else
    echo "ok: check refuses an out-of-range windows.max_threads"
fi

# Each broken fixture DLL: its sentence, exit status 1.
check_refusal() {
    expect "check refuses $1" 1 "schedctl: plugin $winfixtures\\$1.dll refused: $2" \
        SCHED_BACKEND="$1" SCHED_PLUGIN_PATH="$fixtures" -- check
}
check_refusal noentry "it does not export sched_plugin_entry_v1"
check_refusal abi2 "it was built for plugin ABI 2.0, and this host implements ABI 1.1"
check_refusal noschedule 'its required op "schedule" is NULL'
check_refusal halfpark 'it sets only one of the ops "park" and "unpark"'
check_refusal misnamed 'its descriptor names the backend "valid", not "misnamed" as its file name does'
expect "check reports create failure" 1 \
    "schedctl: backend \"createfail\" ($winfixtures\\createfail.dll) failed to start: no worker threads could be started" \
    SCHED_BACKEND=createfail SCHED_PLUGIN_PATH="$fixtures" -- check

[ "$failures" -eq 0 ] || exit 1
