/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_event.c - libevent: evtimer on an event_base for W4
 * (microsecond timeouts; the delay is rounded up, so that a timer is
 * asked for at least its delay).  libevent has no thread pool, so it
 * runs W4 only.
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
    struct event_config *cfg = event_config_new();
    struct event_base *base;
    struct event **evs = calloc(s->n, sizeof *evs);
    uint64_t *due = calloc(2 * s->n, sizeof *due);
    double c0;
    int rc;
    (void)ctx;
    /* Without it libevent reads a coarse clock (a few ms per tick) and
     * fires timers before they are due: a user who needs them on time
     * asks for the precise one. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    t_ran = calloc(s->n, sizeof *t_ran);
    c0 = bench_cpu_seconds();
    for (size_t i = 0; i < s->n; i++) {
        uint64_t us = (s->delay_ns[i] + 999) / 1000;
        struct timeval tv = { (time_t)(us / 1000000u), (suseconds_t)(us % 1000000u) };
        evs[i] = evtimer_new(base, timer_fired, (void *)(uintptr_t)i);
        due[i] = bench_now_ns() + s->delay_ns[i];
        evtimer_add(evs[i], &tv);
        due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    event_base_dispatch(base);
    out->cpu_ms = (bench_cpu_seconds() - c0) * 1e3;
    rc = bench_lateness(due, t_ran, s->n, out);
    for (size_t i = 0; i < s->n; i++)
        event_free(evs[i]);
    event_base_free(base);
    free(evs);
    free(due);
    free(t_ran);
    return rc;
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
