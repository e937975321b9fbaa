#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/check-all.sh - build libsched and run the whole test suite, in
# every configuration we hold it to, then print "N passed, N failed".
#
# Usage: tests/ci/check-all.sh [BUILD_ROOT]     (default: ./_build)
#
# Each pass is a function pass_<name> that builds in its own directory
# under BUILD_ROOT and runs tests there; its test logs are counted at the
# end.  To add a pass (TSan, Windows under wine, ...), write one function
# and add its name to PASSES.  SCHED_CI_PASSES overrides the list;
# SCHED_CI_JOBS the make parallelism.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-$src/_build}
jobs=${SCHED_CI_JOBS:-2}
PASSES=${SCHED_CI_PASSES:-"native abi asan tsan valgrind distcheck deb windows fuzz allocfail"}

# The mac backend: configure probes for no libdispatch by itself, so CI
# names the Swift toolchain's explicitly (SCHED_CI_DISPATCH=PREFIX, or
# "no" on a machine without one) in every pass that builds it.
dispatch=${SCHED_CI_DISPATCH:-/opt/swift}
case $dispatch in
    no) dispatch_flags=--without-dispatch ;;
    *) dispatch_flags=--with-dispatch=$dispatch ;;
esac

mkdir -p "$root" || exit 1
root=$(cd "$root" && pwd)

log() { printf '\n=== %s\n' "$*"; }

# run_tests DIR MAKE-ARGS...: make check in DIR, but give up after
# SCHED_CI_TEST_TIMEOUT seconds (default 900) so that a test that hangs
# fails the pass, names itself, and leaves CI the time to report.
test_timeout=${SCHED_CI_TEST_TIMEOUT:-900}
run_tests() {
    dir=$1
    shift
    timeout -k 30 "$test_timeout" make -C "$dir" "$@"
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "tests in $dir timed out after ${test_timeout}s; still running:"
        find "$dir" -name '*.log' ! -name 'test-suite.log' ! -name 'config.log' -type f |
            while read -r l; do [ -f "${l%.log}.trs" ] || echo "  ${l%.log}"; done
    fi
    return "$rc"
}

# configure_in DIR [CONFIGURE ARGS]: configure a build directory once.
configure_in() {
    dir=$1
    shift
    mkdir -p "$dir" &&
        { [ -f "$dir/Makefile" ] || (cd "$dir" && "$src/configure" "$@"); }
}

# The plain build: what a user gets.  It alone links the mac plugin with
# an rpath to libdispatch (the other passes find it by LD_LIBRARY_PATH,
# as make check sets it), so both ways are exercised.
pass_native() {
    configure_in "$root/native" $dispatch_flags --enable-dispatch-rpath &&
        make -C "$root/native" -j"$jobs" &&
        run_tests "$root/native" -j"$jobs" check
}

# The ABI against its baseline (core/abi/, recorded by "make abi-update"):
# libabigail's abidiff over libsched.so and the plugin ABI's tables, on the
# native build.  Any difference fails: a break, and also an addition whose
# baseline (and core/libsched.sym entry) was not committed with it.
pass_abi() {
    command -v abidiff >/dev/null 2>&1 || { echo "abidiff is not installed (abigail-tools)"; return 1; }
    configure_in "$root/native" $dispatch_flags --enable-dispatch-rpath &&
        make -C "$root/native" -j"$jobs" &&
        make -C "$root/native" abi-check
}

# AddressSanitizer and UndefinedBehaviorSanitizer over everything, plugins
# included; any report fails the test that triggered it.
# (A subshell, so the options stay in this pass.)
pass_asan() (
    san='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # Instrumented code is slower: so is every conformance time limit.
    SCHED_CONFORM_TIMEOUT_SCALE=3
    export ASAN_OPTIONS UBSAN_OPTIONS SCHED_CONFORM_TIMEOUT_SCALE
    configure_in "$root/asan" $dispatch_flags CFLAGS="-O1 -g $san" LDFLAGS="$san" &&
        make -C "$root/asan" -j"$jobs" &&
        run_tests "$root/asan" -j"$jobs" check
)

# valgrind memcheck over every compiled test program (not the scripts)
# and the conformance suite on every backend (through SCHED_TEST_RUNNER,
# each test's time limit scaled 20-fold): any memory error or leak fails
# the program.  tests/ci/valgrind.supp and
# each plugin's own valgrind.supp name the third-party internals it must
# not count.  Its own build directory,
# so its logs do not replace the native ones.
pass_valgrind() {
    command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; return 1; }
    configure_in "$root/valgrind" $dispatch_flags &&
        make -C "$root/valgrind" -j"$jobs" &&
        programs=$(make -s -C "$root/valgrind/tests" print-test-programs) &&
        supp=$(for f in "$src"/tests/ci/valgrind.supp "$src"/plugins/*/valgrind.supp; do
                   if [ -f "$f" ]; then printf ' --suppressions=%s' "$f"; fi; done) &&
        vg="valgrind --quiet --error-exitcode=1$supp --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" &&
        # Everything runs 20-50 times slower under memcheck: so may the
        # whole directory, before it counts as hung.
        saved_timeout=$test_timeout && test_timeout=$((test_timeout * 2)) &&
        run_tests "$root/valgrind/tests" -j"$jobs" check TESTS="$programs" \
            LOG_COMPILER="$root/valgrind/libtool" AM_LOG_FLAGS="--mode=execute $vg" \
            SCHED_TEST_RUNNER="$vg" SCHED_CONFORM_TIMEOUT_SCALE=20
    rc=$?
    test_timeout=${saved_timeout:-$test_timeout}
    return "$rc"
}

# ThreadSanitizer over everything; plugins whose third-party code is not
# instrumented bring their own suppressions through the tests' environment.
# In libsched's debug mode (libsched(7)), so that every suite also proves
# the mode reports no misuse where there is none, and its quarantine is
# race-free.  (Not under ASan or valgrind: the quarantine would keep freed
# handles out of their own use-after-free checks.)
# (A subshell, so the variable stays in this pass.)
pass_tsan() (
    SCHED_DEBUG=1
    # Instrumented code is slower: so is every conformance time limit.
    SCHED_CONFORM_TIMEOUT_SCALE=5
    export SCHED_DEBUG SCHED_CONFORM_TIMEOUT_SCALE
    configure_in "$root/tsan" $dispatch_flags CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" &&
        make -C "$root/tsan" -j"$jobs" &&
        run_tests "$root/tsan" -j"$jobs" check
)

# The config reader under libFuzzer (tests/fuzz_config.c): clang-14 with
# AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer, coverage
# over the library and the plugins, for SCHED_CI_FUZZ_SECONDS (default
# 120) from the seed corpus.  A crash, leak, hang or disagreement with
# libconfig fails it, leaving the input in fuzz/tests/fuzz-config-*.
# Only the fuzz target is built with clang here: the other test programs
# are gcc's business (the other passes).
pass_fuzz() (
    command -v clang-14 >/dev/null 2>&1 || { echo "clang-14 is not installed (tests/ci/deps.sh)"; return 1; }
    san='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    SCHED_FUZZ_SECONDS=${SCHED_CI_FUZZ_SECONDS:-120}
    export UBSAN_OPTIONS SCHED_FUZZ_SECONDS
    configure_in "$root/fuzz" $dispatch_flags CC=clang-14 CFLAGS="-O1 -g $san -fsanitize=fuzzer-no-link" \
            LDFLAGS="$san" --enable-libfuzzer &&
        make -C "$root/fuzz" -j"$jobs" &&
        run_tests "$root/fuzz/tests" check TESTS="fuzz_config fuzz_config_libfuzzer.sh" \
            check_PROGRAMS="fuzz_config fuzz_config_libfuzzer" check_LTLIBRARIES=
)

# Allocation-failure injection (tests/test_allocfail.sh): over
# sched_host_open and a small workload the n-th allocation fails, once and
# from then on, for every n, on the test, cloudflare-sim and linux
# backends; every run must end in success or an error code, with nothing
# lost, leaked, crashed or hung.
pass_allocfail() (
    SCHED_ALLOCFAIL_BACKENDS="test cloudflare-sim linux"
    export SCHED_ALLOCFAIL_BACKENDS
    configure_in "$root/allocfail" $dispatch_flags &&
        make -C "$root/allocfail" -j"$jobs" &&
        run_tests "$root/allocfail/tests" check TESTS="test_allocfail.sh"
)

# The release tarball builds, passes make check from a read-only source
# tree, installs and uninstalls cleanly.
pass_distcheck() {
    configure_in "$root/native" $dispatch_flags --enable-dispatch-rpath &&
        make -C "$root/native" -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="$dispatch_flags" &&
        rm -f "$root"/native/libsched-*.tar.gz
}

# The Debian packages (debian/), built as Debian builds them from the
# release tarball: dpkg-buildpackage -b, without the mac backend (Debian
# has no libdispatch) and without the test suite (the other passes run
# it).  lintian must report no error or warning.  As root, the packages
# are then installed with dpkg -i, next to the manpages package, and the
# installed schedctl must list the backends and pass "schedctl conform
# linux" (debian/tests/smoke); they are removed again in any case, so
# the machine is left as it was.
pass_deb() (
    for t in dpkg-buildpackage dh lintian; do
        command -v "$t" >/dev/null 2>&1 || { echo "$t is not installed (tests/ci/deps.sh)"; exit 1; }
    done
    deb=$root/deb
    configure_in "$root/native" $dispatch_flags --enable-dispatch-rpath &&
        make -C "$root/native" dist >/dev/null || exit 1
    tarball=$(ls "$root"/native/libsched-*.tar.gz | head -n 1)
    rm -rf "$deb" && mkdir -p "$deb" && tar -xzf "$tarball" -C "$deb" && rm -f "$tarball" || exit 1
    cd "$deb"/libsched-* || exit 1
    DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b >"$deb/build.log" 2>&1 ||
        { tail -n 60 "$deb/build.log"; exit 1; }
    echo "deb: built $(cd "$deb" && ls ./*.deb | grep -vc dbgsym) packages"
    if ls "$deb"/*mac*.deb >/dev/null 2>&1; then
        echo "deb: the mac backend was packaged without the build profile"; exit 1
    fi
    lintian --fail-on error,warning "$deb"/*.changes || { echo "deb: lintian found problems"; exit 1; }
    echo "deb: lintian is clean"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deb: not root, so the packages were not installed and run"
        exit 1
    fi
    pkgs=$(for f in "$deb"/*.deb; do dpkg-deb -f "$f" Package; done | grep -v dbgsym)
    # shellcheck disable=SC2086
    trap 'dpkg --purge $pkgs >/dev/null 2>&1' EXIT
    # shellcheck disable=SC2046
    dpkg -i $(ls "$deb"/*.deb | grep -v dbgsym) >"$deb/install.log" 2>&1 ||
        { cat "$deb/install.log"; exit 1; }
    if dpkg-query -W manpages >/dev/null 2>&1; then
        [ "$(dpkg-query -S /usr/share/man/man7/sched.7.gz 2>/dev/null | cut -d: -f1)" = manpages ] ||
            { echo "deb: sched(7) no longer belongs to manpages"; exit 1; }
        echo "deb: installed next to manpages"
    fi
    (cd / && env -u SCHED_PLUGIN_PATH -u SCHED_CONFIG -u SCHED_BACKEND -u SCHEDCTL_SUITE \
        sh "$deb"/libsched-*/debian/tests/smoke) >"$deb/smoke.log" 2>&1 ||
        { tail -n 60 "$deb/smoke.log"; exit 1; }
    grep '^[ *] ' "$deb/smoke.log" | head -n 8
    tail -n 2 "$deb/smoke.log"
    echo "deb: the installed schedctl lists the backends and passes conform linux"
)

# The Windows build: cross-compiled with mingw-w64 against libconfig and
# CUnit cross-built from Debian's sources (tests/ci/cross-deps.sh, cached
# in BUILD_ROOT/cross-deps), every test program run under Wine
# (tests/ci/wine-run.sh).  PKG_CONFIG_LIBDIR keeps the build machine's
# own .pc files out.
pass_windows() {
    "$src/tests/ci/cross-deps.sh" "$root/cross-deps" &&
        configure_in "$root/windows" --host=x86_64-w64-mingw32 \
            PKG_CONFIG_LIBDIR="$root/cross-deps/prefix/lib/pkgconfig" PKG_CONFIG_PATH= &&
        make -C "$root/windows" -j"$jobs" &&
        run_tests "$root/windows" -j"$jobs" check
}

[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi) || exit 1

# Each pass builds in $root/<name> (distcheck in a directory of its own
# that it removes).  Old results there are removed first, so only this
# run's are counted.
failed_passes=
extra_failures=0
dirs=
for p in $PASSES; do
    log "pass: $p"
    [ -d "$root/$p" ] && find "$root/$p" -name '*.trs' -type f -exec rm -f {} +
    start=$(date +%s)
    if "pass_$p"; then
        result=PASS
    else
        result=FAIL
    fi
    # A pass that leaves no test logs of its own (abi, distcheck, deb)
    # records its result in BUILD_ROOT/<name>/<name>.trs, so it is counted
    # like a test.
    if [ -z "$(find "$root/$p" -name '*.trs' -type f 2>/dev/null | head -n 1)" ]; then
        mkdir -p "$root/$p" && printf ':test-result: %s\n' "$result" >"$root/$p/$p.trs"
    fi
    if [ "$result" = FAIL ]; then
        failed_passes="$failed_passes $p"
        # A pass that failed without a failing test (a build error, say)
        # still counts as a failure.
        if ! grep -rqs -e '^:test-result: FAIL' -e '^:test-result: ERROR' \
                --include='*.trs' "$root/$p"; then
            extra_failures=$((extra_failures + 1))
        fi
    fi
    [ -d "$root/$p" ] && dirs="$dirs $root/$p"
    log "pass: $p took $(( $(date +%s) - start ))s"
done

# A failure on CI's machine must be diagnosable from CI's output alone:
# show the end of each failing test's log (the sanitizer report or the
# failed assertion is there).
for d in $dirs; do
    grep -rls -e '^:test-result: FAIL' -e '^:test-result: ERROR' --include='*.trs' "$d" |
        while read -r trs; do
            log "log of ${trs%.trs}.log (last 60 lines)"
            tail -n 60 "${trs%.trs}.log"
        done
done

log "results"
[ -z "$failed_passes" ] || echo "passes with failures:$failed_passes"
# shellcheck disable=SC2086
"$src/tests/ci/count-results.sh" "$extra_failures" $dirs
