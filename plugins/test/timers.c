/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/timers.c - timers on the virtual clock.
 *
 * A binary min-heap ordered by (due, seq): timers due at the same instant
 * fire in the order they were set, so firing order never depends on the
 * heap's shape.  Every function here runs under tb->mu.
 */
#include <assert.h>
#include <stdlib.h>

#include "tb.h"

static int before(const struct tb_timer *a, const struct tb_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void swap(struct tb_timer *a, struct tb_timer *b)
{
    struct tb_timer t = *a;
    *a = *b;
    *b = t;
}

/* Arm a timer for r at virtual time due.  0 or SCHED_ENOMEM (r not taken). */
int sched__tb_timer_add(struct tb *tb, sched_runnable *r, uint64_t due, int main)
{
    struct tb_heap *h = &tb->timers;
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct tb_timer *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return SCHED_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->len++;
    h->v[i] = (struct tb_timer){ due, tb->seq++, r, main };
    sched__tb_trace_timer_set(tb, r, due, h->v[i].seq);
    while (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2])) {
        swap(&h->v[i], &h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return 0;
}

/* Remove entry i: the last entry takes its place and moves up or down to
 * where it belongs. */
static struct tb_timer remove_at(struct tb_heap *h, size_t i)
{
    assert(i < h->len);
    struct tb_timer out = h->v[i];
    h->v[i] = h->v[--h->len];
    while (i > 0 && i < h->len && before(&h->v[i], &h->v[(i - 1) / 2])) {
        swap(&h->v[i], &h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < h->len && before(&h->v[l], &h->v[m]))
            m = l;
        if (l + 1 < h->len && before(&h->v[l + 1], &h->v[m]))
            m = l + 1;
        if (m == i)
            break;
        swap(&h->v[i], &h->v[m]);
        i = m;
    }
    return out;
}

static struct tb_timer pop(struct tb_heap *h)
{
    return remove_at(h, 0);
}

/* Take r's timer out of the heap: 1 if it was there, else 0.  A search:
 * timers are taken back only when a test drops an armed timer. */
int sched__tb_timer_remove(struct tb *tb, sched_runnable *r)
{
    struct tb_heap *h = &tb->timers;
    for (size_t i = 0; i < h->len; i++) {
        if (h->v[i].r == r) {
            remove_at(h, i);
            return 1;
        }
    }
    return 0;
}

/*
 * Move every timer due at or before the virtual clock to the run queues,
 * earliest first.  A timer whose queueing fails for lack of memory stays
 * armed, for sched__tb_timer_take_unqueued.
 */
void sched__tb_timers_promote(struct tb *tb)
{
    struct tb_heap *h = &tb->timers;
    while (h->len && h->v[0].due <= tb->now) {
        sched_runnable *r = h->v[0].r;
        sched_runnable_info info = { .size = sizeof info };
        tb->svc->info(r, &info);
        int rc = h->v[0].main ? sched__tb_enqueue_fg(tb, r, info.executor_id)
                              : sched__tb_enqueue_bg(tb, r, info.label, info.priority);
        if (rc)
            return;
        sched__tb_trace_timer_fire(tb, r, h->v[0].seq);
        pop(h);
    }
}

/*
 * The earliest timer, when it is still due after sched__tb_timers_promote
 * (its runnable could not be queued for lack of memory): taken off the
 * heap for the caller to run at once, so that a due timer is never left
 * to be retried forever.  NULL when there is none, or when it belongs to
 * the main thread and background_only is set.
 */
sched_runnable *sched__tb_timer_take_unqueued(struct tb *tb, int background_only, int *main)
{
    struct tb_heap *h = &tb->timers;
    if (!h->len || h->v[0].due > tb->now || (background_only && h->v[0].main))
        return NULL;
    sched__tb_trace_timer_fire(tb, h->v[0].r, h->v[0].seq);
    struct tb_timer t = pop(h);
    *main = t.main;
    return t.r;
}

int sched__tb_timer_next(struct tb *tb, uint64_t *due)
{
    if (tb->timers.len == 0)
        return 0;
    *due = tb->timers.v[0].due;
    return 1;
}
