/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_event.c - libevent: evtimer on an event_base for W4
 * (microsecond timeouts).  libevent has no thread pool, so it runs W4
 * only.
 */
#include "config.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static uint64_t *t_ran;

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    t_ran[(uintptr_t)arg] = bench_now_ns();
}

static int ev_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    struct event_base *base = event_base_new();
    struct event **evs = calloc(s->n, sizeof *evs);
    uint64_t *due = calloc(2 * s->n, sizeof *due);
    (void)ctx;
    t_ran = calloc(s->n, sizeof *t_ran);
    for (size_t i = 0; i < s->n; i++) {
        struct timeval tv = { (time_t)(s->delay_ns[i] / 1000000000u),
                              (suseconds_t)((s->delay_ns[i] % 1000000000u) / 1000) };
        evs[i] = evtimer_new(base, timer_fired, (void *)(uintptr_t)i);
        due[i] = bench_now_ns() + s->delay_ns[i];
        evtimer_add(evs[i], &tv);
        due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    event_base_dispatch(base);
    bench_lateness(due, t_ran, s->n, out);
    for (size_t i = 0; i < s->n; i++)
        event_free(evs[i]);
    event_base_free(base);
    free(evs);
    free(due);
    free(t_ran);
    return 0;
}

static void ev_fini(void *ctx)
{
    (void)ctx;
}

int bench_event_impl(bench_impl *impl)
{
    memset(impl, 0, sizeof *impl);
    impl->name = "libevent";
    impl->w4 = ev_w4;
    impl->fini = ev_fini;
    return 0;
}
