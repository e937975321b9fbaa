/* SPDX-License-Identifier: MIT */
/*
 * core/future.c - the ready-made futures: a function call owning its
 * argument or able to fail, a ready value, a timer, a yield, all-of and
 * any-of, and coroutine states.  (Polling, dropping and the plain
 * function future are the task core's: fn_future.c.)
 *
 * A NULL future is what a constructor returns when it runs out of memory;
 * polling it fails with SCHED_ENOMEM and dropping it does nothing, so an
 * allocation failure anywhere surfaces as an ordinary task failure.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

static void free_future(sched_future *f)
{
    free(f);
}

/* ---- fn(arg) owning arg, or failing ---------------------------------------- */

/* Exactly one of fn and try_fn is set until the call; both are cleared
 * before it, so that a drop afterwards knows arg is no longer ours. */
struct owned_fn_future {
    sched_future base;
    sched_fn fn;
    sched_try_fn try_fn;
    void *arg;
    sched_drop_fn drop;
};

static int owned_fn_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct owned_fn_future *of = (struct owned_fn_future *)f;
    sched_fn fn = of->fn;
    sched_try_fn try_fn = of->try_fn;
    int rc;

    if (!fn && !try_fn)
        return SCHED_EINVAL;    /* polled again after it was ready */
    of->fn = NULL;
    of->try_fn = NULL;
    if (fn) {
        *out = fn(of->arg);
        return 0;
    }
    rc = try_fn(of->arg, cx, out);
    return rc > 0 ? SCHED_EINVAL : rc;
}

static void owned_fn_drop(sched_future *f)
{
    struct owned_fn_future *of = (struct owned_fn_future *)f;
    if ((of->fn || of->try_fn) && of->drop)
        of->drop(of->arg);
    free(of);
}

static const sched_future_ops owned_fn_ops = { owned_fn_poll, owned_fn_drop };

/* Not a compact task's allocation: spawned, it is an ordinary future, so
 * the task core drops it exactly once like any other. */
static sched_future *owned_fn_new(sched_fn fn, sched_try_fn try_fn, void *arg, sched_drop_fn drop)
{
    struct owned_fn_future *of = NULL;
    if (fn || try_fn)
        of = malloc(sizeof *of);
    if (!of) {
        if (drop)
            drop(arg);
        return NULL;
    }
    of->base.ops = &owned_fn_ops;
    of->fn = fn;
    of->try_fn = try_fn;
    of->arg = arg;
    of->drop = drop;
    return &of->base;
}

sched_future *sched_future_fn_with_drop(sched_fn fn, void *arg, sched_drop_fn drop)
{
    return owned_fn_new(fn, NULL, arg, drop);
}

sched_future *sched_future_try_fn(sched_try_fn fn, void *arg, sched_drop_fn drop)
{
    return owned_fn_new(NULL, fn, arg, drop);
}

/* ---- ready ----------------------------------------------------------------- */

struct ready_future {
    sched_future base;
    sched_value v;
};

static int ready_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)cx;
    *out = ((struct ready_future *)f)->v;
    return 0;
}

static const sched_future_ops ready_ops = { ready_poll, free_future };

sched_future *sched_future_ready(sched_value v)
{
    struct ready_future *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->base.ops = &ready_ops;
    r->v = v;
    return &r->base;
}

/* ---- yield ----------------------------------------------------------------- */

struct yield_future {
    sched_future base;
    int yielded;
};

static int yield_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct yield_future *y = (struct yield_future *)f;
    if (y->yielded) {
        out->u = 0;
        return 0;
    }
    y->yielded = 1;
    sched_context_set_wait_reason(cx, "a yield");
    sched_waker_wake_by_ref(sched_context_waker(cx));
    return SCHED_PENDING;
}

static const sched_future_ops yield_ops = { yield_poll, free_future };

sched_future *sched_yield_now(void)
{
    struct yield_future *y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    y->base.ops = &yield_ops;
    return &y->base;
}

/* ---- timer ----------------------------------------------------------------- */

/* Longer than any real program waits (about 146 years): refused, so that
 * deadlines never overflow. */
#define TIMER_MAX_NS (UINT64_C(1) << 62)

struct timer_future {
    sched_future base;
    sched_host *host;
    uint64_t ns;
    uint64_t deadline;
    struct sched__timer_rt *rt;     /* the armed wake-up, or NULL */
    uint64_t session_id;            /* the session that created it, or 0 */
    char reason[48];
};

/*
 * Take a wake-up nobody waits for any more back from whoever queued it, so
 * that it holds no backend timer and no simulated clock advances to it.
 * Only while it has neither fired nor been dropped: a scheduler holds it
 * then, so the host is still open (sched_host_close drops every timer
 * before it frees the host).  A backend without cancel_after (ABI 1.0)
 * keeps it until due.
 */
static void timer_take_back(sched_host *host, struct sched__timer_rt *rt)
{
    if (atomic_load_explicit(&rt->fired, memory_order_acquire))
        return;
    if (rt->on_host_timers)
        sched__timer_cancel(host, &rt->h.r);
    else if (host->ops.cancel_after)
        host->ops.cancel_after(host->backend, &rt->h.r);
}

static void timer_disarm(struct timer_future *tf)
{
    if (tf->rt) {
        sched_waker *w = atomic_exchange_explicit(&tf->rt->waker, NULL, memory_order_acq_rel);
        if (w)
            sched_waker_drop(w);
        timer_take_back(tf->host, tf->rt);
        sched__timer_rt_unref(tf->rt);
        tf->rt = NULL;
    }
}

/* Arm a wake-up for the remaining delay.  0, or the backend's refusal. */
static int timer_arm(struct timer_future *tf, sched_context *cx, uint64_t delay)
{
    sched_host *host = tf->host;
    struct sched__timer_rt *rt = malloc(sizeof *rt);
    int rc;

    if (!rt)
        return SCHED_ENOMEM;
    memset(&rt->h.r, 0, sizeof rt->h.r);
    atomic_init(&rt->h.state, SCHED__KIND_TIMER);
    atomic_init(&rt->refs, 2);      /* the future and the scheduler */
    atomic_init(&rt->fired, 0);
    atomic_init(&rt->waker, sched_waker_clone(sched_context_waker(cx)));
    rt->id = sched__next_id();
    /* The wake-up is an event of the request whose task waits on it (its
     * hang detection and timer cap count it there), whoever made it. */
    rt->session_id = tf->session_id;
    rt->site = NULL;
    rt->task_id = 0;
    rt->due = tf->deadline;
    if (cx && cx->task
        && (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL)) {
        const struct sched__task_full *armer = (const struct sched__task_full *)cx->task;
        if (armer->session_id != 0)
            rt->session_id = armer->session_id;
        rt->site = cx->task->site;
    }
    if (cx && cx->task)
        rt->task_id = cx->task->id;
    rt->on_host_timers = host->ops.schedule_after == NULL;
    if (sched__host_closing(host))
        rc = SCHED_ECLOSED;
    else if (!rt->on_host_timers)
        rc = host->ops.schedule_after(host->backend, &rt->h.r, delay, 0);
    else
        rc = sched__timer_schedule(host, &rt->h.r, delay, 0);
    if (rc != 0) {
        sched_waker_drop(atomic_load_explicit(&rt->waker, memory_order_relaxed));
        free(rt);
        return rc;
    }
    tf->rt = rt;
    return 0;
}

static int timer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct timer_future *tf = (struct timer_future *)f;
    sched_waker *mine = sched_context_waker(cx);
    uint64_t now;
    int rc;

    if (!tf->host || tf->ns > TIMER_MAX_NS)
        return SCHED_EINVAL;
    if (tf->host->hooks.await_check
        && (rc = tf->host->hooks.await_check(tf->host, tf->session_id)) != 0)
        return rc;
    now = sched_host_now(tf->host);
    if (now >= tf->deadline) {
        timer_disarm(tf);
        out->u = now;
        return 0;
    }
    if (tf->rt && !atomic_load_explicit(&tf->rt->fired, memory_order_acquire)) {
        /* Still armed.  Polled from another task (moved into sched_any,
         * say)?  Point the wake-up at the new waker. */
        if (atomic_load_explicit(&tf->rt->waker, memory_order_acquire) != mine) {
            sched_waker *old = atomic_exchange_explicit(&tf->rt->waker, sched_waker_clone(mine),
                                                        memory_order_acq_rel);
            if (old)
                sched_waker_drop(old);
            if (atomic_load_explicit(&tf->rt->fired, memory_order_acquire))
                sched_waker_wake_by_ref(mine);
        }
        sched_context_set_wait_reason(cx, tf->reason);
        return SCHED_PENDING;
    }
    /* Not armed, or fired early by the clock we read: arm for the rest. */
    timer_disarm(tf);
    rc = timer_arm(tf, cx, tf->deadline - now);
    if (rc != 0)
        return rc;
    sched_context_set_wait_reason(cx, tf->reason);
    return SCHED_PENDING;
}

static void timer_drop(sched_future *f)
{
    struct timer_future *tf = (struct timer_future *)f;
    timer_disarm(tf);
    free(tf);
}

static const sched_future_ops timer_ops = { timer_poll, timer_drop };

/* "a timer due at <deadline> ns", as snprintf would write it, without
 * snprintf: every sleeping task makes one, and the formatting was a
 * seventh of a sleeping task's instructions. */
static void timer_reason(char reason[48], uint64_t deadline)
{
    static const char head[] = "a timer due at ", tail[] = " ns";
    char digits[20];
    size_t n = 0, len = sizeof head - 1;

    do {
        digits[n++] = (char)('0' + deadline % 10);
        deadline /= 10;
    } while (deadline);
    memcpy(reason, head, len);
    while (n)
        reason[len++] = digits[--n];
    memcpy(reason + len, tail, sizeof tail);
}

/*
 * Ready ns after now on host's clock, never earlier, with out->u the time it
 * was seen due.  ns == 0 is ready at the first poll.  A NULL host, or ns
 * above 2^62, fails with SCHED_EINVAL when polled.
 */
sched_future *sched_timer(sched_host *host, uint64_t ns)
{
    struct timer_future *tf = calloc(1, sizeof *tf);
    if (!tf)
        return NULL;
    tf->base.ops = &timer_ops;
    tf->host = host;
    tf->ns = ns;
    tf->session_id = host && host->hooks.spawn_session ? host->hooks.spawn_session(host) : 0;
    if (host && ns <= TIMER_MAX_NS) {
        tf->deadline = sched_host_now(host) + ns;
        timer_reason(tf->reason, tf->deadline);
    }
    return &tf->base;
}

/* ---- all-of / any-of --------------------------------------------------------- */

struct join_set {
    sched_future base;
    size_t n;
    size_t left;
    size_t *winner;             /* any-of only */
    sched_future **futs;        /* NULL once finished (and dropped) */
    sched_value *vals;
};

static void join_set_drop_rest(struct join_set *js)
{
    size_t i;
    for (i = 0; i < js->n; i++) {
        if (js->futs[i]) {
            sched_future_drop(js->futs[i]);
            js->futs[i] = NULL;
        }
    }
    js->left = 0;
}

static int all_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct join_set *js = (struct join_set *)f;
    size_t i;
    for (i = 0; i < js->n && js->left; i++) {
        int rc;
        if (!js->futs[i])
            continue;
        rc = sched_future_poll(js->futs[i], cx, &js->vals[i]);
        if (rc == SCHED_PENDING)
            continue;
        sched_future_drop(js->futs[i]);
        js->futs[i] = NULL;
        js->left--;
        if (rc < 0) {
            join_set_drop_rest(js);
            return rc;
        }
    }
    if (js->left)
        return SCHED_PENDING;
    out->ptr = NULL;
    if (js->n) {
        out->ptr = malloc(js->n * sizeof(sched_value));
        if (!out->ptr)
            return SCHED_ENOMEM;
        memcpy(out->ptr, js->vals, js->n * sizeof(sched_value));
    }
    return 0;
}

static int any_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct join_set *js = (struct join_set *)f;
    size_t i;
    if (js->n == 0)
        return SCHED_EINVAL;
    for (i = 0; i < js->n; i++) {
        int rc;
        if (!js->futs[i])
            continue;
        rc = sched_future_poll(js->futs[i], cx, out);
        if (rc == SCHED_PENDING)
            continue;
        if (js->winner)
            *js->winner = i;
        join_set_drop_rest(js);
        return rc;
    }
    return js->left ? SCHED_PENDING : SCHED_EINVAL;
}

static void join_set_drop(sched_future *f)
{
    struct join_set *js = (struct join_set *)f;
    join_set_drop_rest(js);
    free(js);
}

static const sched_future_ops all_ops = { all_poll, join_set_drop };
static const sched_future_ops any_ops = { any_poll, join_set_drop };

static sched_future *join_set_new(const sched_future_ops *ops, sched_future *const *futs,
                                  size_t n, size_t *winner)
{
    struct join_set *js;
    size_t i;

    if (n && !futs)
        return NULL;
    /* A NULL member means its constructor ran out of memory: the set is
     * NULL too (polling NULL fails with SCHED_ENOMEM). */
    for (i = 0; i < n && futs[i]; i++)
        ;
    if (i < n || n > (SIZE_MAX - sizeof *js) / (sizeof(sched_future *) + sizeof(sched_value)))
        js = NULL;
    else
        js = malloc(sizeof *js + n * (sizeof(sched_future *) + sizeof(sched_value)));
    if (!js) {
        for (i = 0; i < n; i++)
            sched_future_drop(futs[i]);
        return NULL;
    }
    js->base.ops = ops;
    js->n = js->left = n;
    js->winner = winner;
    js->vals = (sched_value *)(js + 1);
    js->futs = (sched_future **)(js->vals + n);
    for (i = 0; i < n; i++) {
        js->vals[i].u = 0;
        js->futs[i] = futs[i];
    }
    return &js->base;
}

sched_future *sched_all(sched_future *const *futs, size_t n)
{
    return join_set_new(&all_ops, futs, n, NULL);
}

sched_future *sched_any(sched_future *const *futs, size_t n, size_t *winner)
{
    return join_set_new(&any_ops, futs, n, winner);
}

/* ---- coroutines -------------------------------------------------------------- */

sched_future *sched_coro_new(size_t size, const sched_future_ops *ops)
{
    sched_coro *co;
    if (size < sizeof(sched_coro) || !ops)
        return NULL;
    co = calloc(1, size);
    if (!co)
        return NULL;
    co->base.ops = ops;
    return &co->base;
}

void sched_coro_drop_default(sched_future *f)
{
    sched_coro *co = (sched_coro *)f;
    if (!co)
        return;
    sched_future_drop(co->awaiting);
    free(co);
}
