#!/bin/sh
# SPDX-License-Identifier: MIT
# The log compiler of conformance/NAME.conform: run the given command (the
# suite, through the platform's test runner) with this directory's own
# test backend, minimal, on the plugin path when it was built.
#   usage: run.sh [RUNNER...] ./run_conformance NAME.conform
: "${SCHED_TOP_BUILDDIR:?run through make check}"
dir="$SCHED_TOP_BUILDDIR/tests/conformance/.libs"
if [ -f "$dir/minimal.so" ]; then
    SCHED_PLUGIN_PATH="${SCHED_PLUGIN_PATH:+$SCHED_PLUGIN_PATH:}$dir"
    export SCHED_PLUGIN_PATH
fi
exec "$@"
