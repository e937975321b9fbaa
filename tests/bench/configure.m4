# benchmark peers (glib, libuv, libevent): optional.
sched_bench_peers=none
