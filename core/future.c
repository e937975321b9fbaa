/* SPDX-License-Identifier: MIT */
/*
 * core/future.c - the ready-made futures: a function call owning its
 * argument or able to fail, a ready value, a yield, all-of and any-of,
 * and coroutine states.  (Polling, dropping and the plain function
 * future are the task core's: fn_future.c; the timer is timer.c's.)
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

/* ---- all-of / any-of --------------------------------------------------------- */

/*
 * Each child is polled with a waker of its own (a wake set, wakeup.c), so
 * that a poll of the set polls again only the children whose wakers were
 * woken since, in index order: every child at the first poll, and then
 * each child once per wake, not once per wake of any child.  The children
 * see the set's context otherwise (its task, host and failure message).
 */
struct join_set {
    sched_future base;
    size_t n;
    size_t left;
    size_t *winner;             /* any-of only */
    int started;                /* polled once: every child has been polled */
    struct sched__wake_set *ws; /* NULL when n == 0 */
    sched_future **futs;        /* each NULL once finished (and dropped) */
    sched_value *vals;          /* all-of: the result, until handed over */
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

/* The index of the lowest bit set in bits (not 0). */
static size_t lowest_bit(uintptr_t bits)
{
#if defined(__GNUC__)
    return sizeof bits == sizeof(unsigned long long) ? (size_t)__builtin_ctzll(bits)
                                                    : (size_t)__builtin_ctz((unsigned)bits);
#else
    size_t n = 0;
    while (!(bits & 1)) {
        bits >>= 1;
        n++;
    }
    return n;
#endif
}

/* Poll child i (still unfinished) with its own waker in cc, a copy of the
 * set's context. */
static int poll_child(struct join_set *js, size_t i, sched_context *cc, sched_value *out)
{
    cc->waker = sched__wake_set_child(js->ws, i);
    return sched_future_poll(js->futs[i], cc, out);
}

/* Start a poll of the set: cc becomes the context its children see. */
static void join_set_begin(struct join_set *js, sched_context *cx, sched_context *cc)
{
    if (cx)
        *cc = *cx;
    else
        memset(cc, 0, sizeof *cc);
    sched__wake_set_begin(js->ws, cx ? cx->waker : NULL);
}

/* End it: the failure message a child recorded is the set's poll's. */
static void join_set_end(sched_context *cx, sched_context *cc)
{
    if (cx) {
        cx->fail_msg = cc->fail_msg;
        cx->fail_code = cc->fail_code;
    } else {
        free(cc->fail_msg);
    }
}

/* 1: poll child i (if unfinished) as the all-of does; 0 when it is still
 * pending or finished with a value; rc < 0 when it failed (the rest are
 * dropped). */
static int all_child(struct join_set *js, size_t i, sched_context *cc)
{
    int rc;
    if (!js->futs[i])
        return 0;
    rc = poll_child(js, i, cc, &js->vals[i]);
    if (rc == SCHED_PENDING)
        return 0;
    sched_future_drop(js->futs[i]);
    js->futs[i] = NULL;
    js->left--;
    if (rc < 0)
        join_set_drop_rest(js);
    return rc < 0 ? rc : 0;
}

static int all_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct join_set *js = (struct join_set *)f;
    sched_context cc;
    size_t i, w;
    int rc = 0;

    if (js->n == 0) {
        out->ptr = NULL;
        return 0;
    }
    if (!js->left)
        return SCHED_EINVAL;    /* polled again after it was ready */
    join_set_begin(js, cx, &cc);
    if (!js->started) {
        js->started = 1;
        for (i = 0; i < js->n && rc == 0; i++)
            rc = all_child(js, i, &cc);
    } else {
        for (w = 0; w * SCHED__WAKE_WORD_BITS < js->n && rc == 0; w++) {
            uintptr_t bits = sched__wake_set_take(js->ws, w);
            while (bits && rc == 0) {
                rc = all_child(js, w * SCHED__WAKE_WORD_BITS + lowest_bit(bits), &cc);
                bits &= bits - 1;
            }
        }
    }
    join_set_end(cx, &cc);
    if (rc < 0)
        return rc;
    if (js->left)
        return SCHED_PENDING;
    out->ptr = js->vals;
    js->vals = NULL;
    return 0;
}

/* SCHED_PENDING while child i (if unfinished) is; else its outcome, having
 * dropped the rest. */
static int any_child(struct join_set *js, size_t i, sched_context *cc, sched_value *out)
{
    int rc;
    if (!js->futs[i])
        return SCHED_PENDING;
    rc = poll_child(js, i, cc, out);
    if (rc == SCHED_PENDING)
        return rc;
    if (js->winner)
        *js->winner = i;
    join_set_drop_rest(js);
    return rc;
}

static int any_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct join_set *js = (struct join_set *)f;
    sched_context cc;
    size_t i, w;
    int rc = SCHED_PENDING;

    if (!js->left)
        return SCHED_EINVAL;    /* empty, or polled again after it was ready */
    join_set_begin(js, cx, &cc);
    if (!js->started) {
        js->started = 1;
        for (i = 0; i < js->n && rc == SCHED_PENDING; i++)
            rc = any_child(js, i, &cc, out);
    } else {
        for (w = 0; w * SCHED__WAKE_WORD_BITS < js->n && rc == SCHED_PENDING; w++) {
            uintptr_t bits = sched__wake_set_take(js->ws, w);
            while (bits && rc == SCHED_PENDING) {
                rc = any_child(js, w * SCHED__WAKE_WORD_BITS + lowest_bit(bits), &cc, out);
                bits &= bits - 1;
            }
        }
    }
    join_set_end(cx, &cc);
    return rc;
}

static void join_set_drop(sched_future *f)
{
    struct join_set *js = (struct join_set *)f;
    join_set_drop_rest(js);
    sched__wake_set_free(js->ws);
    free(js->vals);
    free(js);
}

static const sched_future_ops all_ops = { all_poll, join_set_drop };
static const sched_future_ops any_ops = { any_poll, join_set_drop };

static sched_future *join_set_new(const sched_future_ops *ops, sched_future *const *futs,
                                  size_t n, size_t *winner)
{
    struct join_set *js = NULL;
    size_t i;

    if (n && !futs)
        return NULL;
    /* A NULL member means its constructor ran out of memory: the set is
     * NULL too (polling NULL fails with SCHED_ENOMEM). */
    for (i = 0; i < n && futs[i]; i++)
        ;
    if (i == n && n <= (SIZE_MAX - sizeof *js) / sizeof(sched_value))
        js = calloc(1, sizeof *js + n * sizeof(sched_future *));
    if (js && n) {
        js->ws = sched__wake_set_new(n);
        /* The all-of's result: zeroed, as a failed child's value reads. */
        if (ops == &all_ops)
            js->vals = calloc(n, sizeof(sched_value));
        if (!js->ws || (ops == &all_ops && !js->vals)) {
            sched__wake_set_free(js->ws);
            free(js->vals);
            free(js);
            js = NULL;
        }
    }
    if (!js) {
        for (i = 0; i < n; i++)
            sched_future_drop(futs[i]);
        return NULL;
    }
    js->base.ops = ops;
    js->n = js->left = n;
    js->winner = winner;
    js->futs = (sched_future **)(js + 1);
    if (n)
        memcpy(js->futs, futs, n * sizeof *futs);
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
