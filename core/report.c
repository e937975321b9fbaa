/* SPDX-License-Identifier: MIT */
/*
 * core/report.c - what the host says about its live tasks: the lines of a
 * parking or deadlock report, and whether a task id is still live.
 *
 * A live task is in one of three places: the registry (foreground tasks
 * and every task that has gone pending), a simulated backend's queues
 * (shown through its "queued" op), or being polled by this thread.  It can
 * be in two at once (woken after it went pending), so lines are keyed by
 * task id, sorted, and each id is printed once.  Each source is read under
 * its own lock and never two at once, and each line is formatted while its
 * task is sure to be alive (registered, queued, or running here).
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

static const char *const prio_names[] = { "low", "medium", "high", "realtime" };

/* The backend's "queued" op, when it has one. */
typedef void (*queued_fn)(void *self, void (*visit)(void *ctx, const sched_runnable *r),
                          void *ctx);

static queued_fn queued_op(sched_host *host)
{
    const sched_test_iface_v1 *sim = sched__simulated(host);
    if (!sim || offsetof(sched_test_iface_v1, queued) + sizeof sim->queued > sim->size)
        return NULL;
    return sim->queued;
}

static const struct sched_task *as_task(const sched_runnable *r)
{
    uint32_t s = atomic_load_explicit(&((struct sched__rhdr *)r)->state, memory_order_relaxed);
    return (s & SCHED__KIND_MASK) == SCHED__KIND_TASK ? (const struct sched_task *)r : NULL;
}

static int finished(const struct sched_task *t)
{
    return (atomic_load_explicit(&((struct sched_task *)t)->state, memory_order_acquire)
            & (SCHED__COMPLETED | SCHED__CLOSED)) != 0;
}

/* ---- is it live? ----------------------------------------------------------- */

struct find {
    uint64_t id;
    int live;
};

static void find_queued(void *ctx, const sched_runnable *r)
{
    struct find *f = ctx;
    const struct sched_task *t = as_task(r);
    if (t && t->id == f->id && !finished(t))
        f->live = 1;
}

int sched__task_is_live(sched_host *host, uint64_t task_id)
{
    struct find f = { task_id, 0 };
    struct sched__task_full *ft;
    struct sched_task *t = sched__task_running();
    queued_fn queued;

    if (!host || !host->tasks)
        return 0;
    if (t && t->host == host && t->id == task_id)
        return 1;
    sched__mutex_lock(&host->tasks->lock);
    for (ft = host->tasks->head; ft && !f.live; ft = ft->next)
        if (ft->t.id == task_id && !finished(&ft->t))
            f.live = 1;
    sched__mutex_unlock(&host->tasks->lock);
    if (!f.live && (queued = queued_op(host)))
        queued(host->backend, find_queued, &f);
    return f.live;
}

/* ---- the report's lines -------------------------------------------------- */

/*
 *   task 7 "fetch" (medium, foreground) spawned at main.c:42 in main(): waiting on a timer due at 5000000 ns, awaited at fetch.c:31 in fetch_poll()
 * A compact task has no label and never waits.  fired: a timer it armed
 * is due and its wake-up queued (a clock move readies wake-ups without
 * running them), so it is runnable although it has not been woken yet.
 */
static int format_task(char *buf, size_t len, const struct sched_task *t, uint32_t s, int fired)
{
    const char *why = NULL;
    const sched_site *at = NULL;
    char label[160] = "", await[320] = "", timer[64];
    int runnable = (s & (SCHED__SCHEDULED | SCHED__RUNNING)) != 0;

    if (s & SCHED__FULL) {
        why = atomic_load_explicit(&((struct sched__task_full *)t)->wait_reason,
                                   memory_order_relaxed);
        at = atomic_load_explicit(&((struct sched__task_full *)t)->await_site,
                                  memory_order_relaxed);
        if (!why) {
            uint64_t due = atomic_load_explicit(&((struct sched__task_full *)t)->wait_due,
                                                memory_order_relaxed);
            if (due) {
                snprintf(timer, sizeof timer, "a timer due at %" PRIu64 " ns", due);
                why = timer;
            }
        }
        if (t->b.label)
            snprintf(label, sizeof label, " \"%s\"", t->b.label);
    }
    /* Where it registered the waker it waits for: the missing wake-up
     * belongs to what that line awaits. */
    if (fired && !runnable) {
        snprintf(await, sizeof await, " (%s fired; its wake-up is queued)",
                 why ? why : "a timer");
        why = NULL;
        runnable = 1;
    } else if (at && !runnable) {
        snprintf(await, sizeof await, ", awaited at %s:%d in %s()",
                 at->file ? at->file : "(unknown)", at->line, at->func ? at->func : "(unknown)");
    }
    return snprintf(buf, len, "task %" PRIu64 "%s (%s%s) spawned at %s:%d in %s(): %s%s%s\n",
                    t->id, label, prio_names[(s & SCHED__PRIO_MASK) >> SCHED__PRIO_SHIFT],
                    (s & SCHED__FOREGROUND) ? ", foreground" : "",
                    t->site && t->site->file ? t->site->file : "(unknown)",
                    t->site ? t->site->line : 0,
                    t->site && t->site->func ? t->site->func : "(unknown)",
                    runnable ? "runnable"
                    : why    ? "waiting on "
                             : "waiting on something it did not name",
                    runnable || !why ? "" : why, await);
}

struct line {
    uint64_t id;
    size_t off, len;
};

struct lines {
    struct line *v;
    size_t n, cap;
    char *text;
    size_t used, size;
    size_t lost;                /* lines that found no memory */
    uint64_t *fired;            /* tasks with a due timer's wake-up queued */
    size_t nfired, capfired;
    uint64_t now;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *q;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void lines_add(struct lines *ls, const struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&((struct sched_task *)t)->state, memory_order_acquire);
    int n, fired = 0;
    if (s & (SCHED__COMPLETED | SCHED__CLOSED))
        return;
    for (size_t i = 0; i < ls->nfired && !fired; i++)
        fired = ls->fired[i] == t->id;
    n = format_task(NULL, 0, t, s, fired);
    if (n <= 0)
        return;
    if (grow((void **)&ls->v, &ls->cap, ls->n + 1, sizeof *ls->v)
        || grow((void **)&ls->text, &ls->size, ls->used + (size_t)n + 1, 1)) {
        ls->lost++;
        return;
    }
    format_task(ls->text + ls->used, (size_t)n + 1, t, s, fired);
    ls->v[ls->n++] = (struct line){ t->id, ls->used, (size_t)n };
    ls->used += (size_t)n;
}

/* A timer wake-up that is due, queued or about to be: the task that armed
 * it is as good as woken (out of memory, it is shown as waiting). */
static void add_fired(void *ctx, const sched_runnable *r)
{
    struct lines *ls = ctx;
    uint32_t s = atomic_load_explicit(&((struct sched__rhdr *)r)->state, memory_order_relaxed);
    const struct sched__timer_rt *rt = (const struct sched__timer_rt *)r;
    if ((s & SCHED__KIND_MASK) != SCHED__KIND_TIMER || rt->task_id == 0 || rt->due > ls->now
        || grow((void **)&ls->fired, &ls->capfired, ls->nfired + 1, sizeof *ls->fired))
        return;
    ls->fired[ls->nfired++] = rt->task_id;
}

static void add_queued(void *ctx, const sched_runnable *r)
{
    const struct sched_task *t = as_task(r);
    if (t)
        lines_add(ctx, t);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct line *)a)->id, y = ((const struct line *)b)->id;
    return x < y ? -1 : x > y;
}

/* Append text to buf at *used, counting what does not fit. */
static void put(char *buf, size_t len, size_t *used, const char *text, size_t n)
{
    if (*used < len) {
        size_t room = len - *used - 1;
        memcpy(buf + *used, text, n < room ? n : room);
        buf[*used + (n < room ? n : room)] = '\0';
    }
    *used += n;
}

/*
 * One line per live task of host, oldest (lowest id) first.  Returns the
 * length needed, like snprintf.
 */
size_t sched__describe_tasks(sched_host *host, char *buf, size_t len)
{
    struct lines ls = { 0 };
    struct sched__task_full *ft;
    struct sched_task *t = sched__task_running();
    queued_fn queued;
    size_t used = 0, i;

    if (len)
        buf[0] = '\0';
    if (!host || !host->tasks)
        return 0;
    /* A simulated backend's clock (its timers are all it has). */
    if ((queued = queued_op(host)) && host->ops.now) {
        ls.now = host->ops.now(host->backend);
        queued(host->backend, add_fired, &ls);
    }
    if (t && t->host == host)
        lines_add(&ls, t);
    sched__mutex_lock(&host->tasks->lock);
    for (ft = host->tasks->head; ft; ft = ft->next)
        lines_add(&ls, &ft->t);
    sched__mutex_unlock(&host->tasks->lock);
    if (queued)
        queued(host->backend, add_queued, &ls);

    if (ls.n)
        qsort(ls.v, ls.n, sizeof *ls.v, by_id);
    for (i = 0; i < ls.n; i++)
        if (i == 0 || ls.v[i].id != ls.v[i - 1].id)
            put(buf, len, &used, ls.text + ls.v[i].off, ls.v[i].len);
    if (ls.lost) {
        char more[96];
        int n = snprintf(more, sizeof more, "(%zu more tasks: out of memory listing them)\n",
                         ls.lost);
        put(buf, len, &used, more, (size_t)n);
    }
    free(ls.v);
    free(ls.text);
    free(ls.fired);
    return used;
}
