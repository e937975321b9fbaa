/* SPDX-License-Identifier: MIT */
/*
 * plugins/mac/mac.c - the mac backend: Grand Central Dispatch.
 *
 * Background runnables go to the global concurrent queues (the task's
 * priority picks the queue), main-thread runnables to the main queue, and
 * delayed runnables to a heap served by one dispatch timer source
 * (timers.c); host.c runs the main queue and creates and destroys the
 * backend.  This file is background submission: the schedule ops, the
 * callbacks handed to the global queues, and the plugin's ops table.
 * mac.h says how every callback is counted so destroy() can wait for
 * them.
 *
 * A due high-priority timer's runnable (a sleeping task's wake-up) runs
 * with a one-runnable slot: the first medium-priority runnable it
 * schedules (the task it wakes) runs right after it on the same thread,
 * not behind whatever the default queue holds.
 */
#include <config.h>

#include "mac.h"

/* While a due timer's runnable runs on this thread: where the first
 * medium-priority background runnable it schedules on m goes instead of
 * a queue (see mac_fired_trampoline).  NULL otherwise. */
struct mac_inline {
    struct mac *m;
    sched_runnable *r;
};
static __thread struct mac_inline *mac_inline_slot __attribute__((tls_model("initial-exec")));

/* Run r, or drop it when the backend closed after r was queued: a runnable
 * queued before destroy() is consumed exactly once either way.  The count
 * for this callback keeps m alive until it is released, the last touch. */
void mac_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    if (mac_is_closed(m))
        m->svc->drop(r);
    else
        m->svc->run(r);
    MAC_HB_SEND(&m->queued);
    atomic_fetch_sub_explicit(&m->queued, 1, memory_order_release);
}

/*
 * As mac_trampoline, for a due high-priority timer's runnable: the first
 * medium-priority runnable that r schedules on m is taken into a slot and
 * run (or dropped, if the backend closed meanwhile) right after r, on
 * this thread.  One per fired timer, so everything else queued keeps its
 * order.  The slot's runnable is counted in m->queued like a queued one,
 * so destroy() waits for it; releasing both counts is the last touch.
 */
void mac_fired_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;
    struct mac_inline slot, *prev;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    if (mac_is_closed(m)) {
        m->svc->drop(r);
        MAC_HB_SEND(&m->queued);
        atomic_fetch_sub_explicit(&m->queued, 1, memory_order_release);
        return;
    }
    slot.m = m;
    slot.r = NULL;
    prev = mac_inline_slot;
    mac_inline_slot = &slot;
    m->svc->run(r);
    mac_inline_slot = prev;
    if (slot.r != NULL) {
        if (mac_is_closed(m))
            m->svc->drop(slot.r);
        else
            m->svc->run(slot.r);
    }
    MAC_HB_SEND(&m->queued);
    atomic_fetch_sub_explicit(&m->queued, slot.r != NULL ? 2 : 1, memory_order_release);
}

/* Take r into this thread's inline slot if a due timer's runnable of m
 * is running here and has not filled it yet.  m is not closed. */
static inline int mac_take_inline(struct mac *m, sched_runnable *r)
{
    struct mac_inline *s = mac_inline_slot;

    if (__builtin_expect(s == NULL, 1) || s->m != m || s->r != NULL)
        return 0;
    r->backend_slot[0] = m;
    atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
    s->r = r;
    return 1;
}

static int mac_schedule(void *self, sched_runnable *r)
{
    struct mac *m = self;
    int rc = mac_background_refusal(m);

    if (rc != 0)
        return rc;
    if (!mac_take_inline(m, r))
        mac_submit(m, m->queue[SCHED_PRIORITY_MEDIUM], r);
    return 0;
}

static int mac_schedule_labeled(void *self, sched_runnable *r, const char *label,
                                sched_priority prio)
{
    struct mac *m = self;
    int rc = mac_background_refusal(m);

    (void)label;
    if (rc != 0)
        return rc;
    if (prio == SCHED_PRIORITY_MEDIUM && mac_take_inline(m, r))
        return 0;
    mac_submit(m, mac_queue(m, prio), r);
    return 0;
}

static int mac_schedule_main(void *self, sched_runnable *r)
{
    struct mac *m = self;

    if (mac_is_closed(m))
        return SCHED_ECLOSED;
    mac_submit_main(m, r);
    return 0;
}

static const sched_plugin_descriptor mac_descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "mac",
    .description = "Grand Central Dispatch: global queues by priority, the main queue, a timer source",
    .version = PACKAGE_VERSION,
    .config_keys = NULL,
    .ops = {
        .create = mac_create,
        .destroy = mac_destroy,
        .schedule = mac_schedule,
        .schedule_labeled = mac_schedule_labeled,
        .schedule_main = mac_schedule_main,
        .schedule_after = mac_schedule_after,
        .cancel_after = mac_cancel_after,
        .now = mac_now,
        .is_main_thread = mac_is_main_thread,
        .park = NULL,
        .unpark = NULL,
        .num_cpus = NULL,
        .run = mac_run,
        .stop = mac_stop,
        .query = mac_query,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    char ignored[8];

    (void)svc;
    mac_pin_plugin(ignored, sizeof ignored);
    return &mac_descriptor;
}
