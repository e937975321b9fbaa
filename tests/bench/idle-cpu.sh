#!/bin/sh
# SPDX-License-Identifier: MIT
# CPU used by an idle linux backend over 5 seconds (after a burst of work,
# so its workers have run and gone idle), from getrusage: 0% means no
# polling.
#   usage: idle-cpu.sh [path/to/sched-bench]
exec "${1:-./sched-bench}" --only raw:linux,libsched:linux --workloads IDLE
