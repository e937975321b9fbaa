#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz_config_libfuzzer.sh - fuzz the config reader with libFuzzer
# for a bounded time (configure --enable-libfuzzer CC=clang-14; see
# README.md, "Fuzzing").
#
# Runs fuzz_config_libfuzzer for SCHED_FUZZ_SECONDS (default 20; CI's
# fuzz pass gives it 120) from the seed corpus tests/fuzz-config-corpus
# with the dictionary tests/fuzz-config.dict.  New inputs go to
# fuzz-config-work/ in the build directory (kept, so that runs build on
# each other), never into the source tree; a crash, leak, hang (over 10 s
# for one input) or sanitizer report fails the test and leaves the input
# as fuzz-config-crash-* (or -leak-, -timeout-) in the build directory,
# for "./fuzz_config FILE" to replay.
set -u
secs=${SCHED_FUZZ_SECONDS:-20}
src=${SCHED_TOP_SRCDIR:?}/tests
here=$(pwd)
mkdir -p "$here/fuzz-config-work" || exit 99
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export ASAN_OPTIONS
# libFuzzer exits 77 on a finding by default, which automake reads as a
# skip: make every finding a failure.
"$here/fuzz_config_libfuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -max_len=65536 -print_final_stats=1 -dict="$src/fuzz-config.dict" \
    -artifact_prefix="$here/fuzz-config-" "$here/fuzz-config-work" "$src/fuzz-config-corpus" \
    2>"$here/fuzz-config.out"
rc=$?
# The end of libFuzzer's report: stats, or the finding.
tail -n 40 "$here/fuzz-config.out"
exit $rc
