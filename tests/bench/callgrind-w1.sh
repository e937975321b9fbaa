#!/bin/sh
# SPDX-License-Identifier: MIT
# W1 instructions per task under callgrind: callgrind.sh for W1 alone.
#   usage: callgrind-w1.sh [path/to/sched-bench]
CALLGRIND_WORKLOADS=W1; export CALLGRIND_WORKLOADS
exec ${SHELL:-/bin/sh} "$(dirname "$0")/callgrind.sh" "$@"
