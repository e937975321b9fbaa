# SPDX-License-Identifier: MIT
# benchmark peers (glib, libuv, libevent): optional.  sched-bench always
# measures the three plain pthread pools; each library found adds its row.
sched_bench_peers="pthread-pool pool-batch pool-spin"
PKG_CHECK_MODULES([BENCH_GLIB], [glib-2.0],
  [sched_bench_peers="$sched_bench_peers glib"; sched_bench_glib=yes], [sched_bench_glib=no])
PKG_CHECK_MODULES([BENCH_UV], [libuv],
  [sched_bench_peers="$sched_bench_peers libuv"; sched_bench_uv=yes], [sched_bench_uv=no])
PKG_CHECK_MODULES([BENCH_EVENT], [libevent],
  [sched_bench_peers="$sched_bench_peers libevent"; sched_bench_event=yes], [sched_bench_event=no])
AM_CONDITIONAL([SCHED_BENCH_GLIB], [test "x$sched_bench_glib" = xyes])
AM_CONDITIONAL([SCHED_BENCH_UV], [test "x$sched_bench_uv" = xyes])
AM_CONDITIONAL([SCHED_BENCH_EVENT], [test "x$sched_bench_event" = xyes])
