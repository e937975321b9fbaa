/* SPDX-License-Identifier: MIT */
/*
 * core/task_spawn.c - making tasks: task ids, sched__task_spawn (a full
 * task, or a compact one made in place of a sched_future_fn() future),
 * and sched__task_spawn_fn, the commonest spawn's fast path.  A detached
 * compact task (sched_future_fn, no label) costs one block from the
 * per-thread cache and no atomic read-modify-write.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>

#include "task_inline.h"

/* ---- ids ---------------------------------------------------------------- */

static _Atomic uint64_t id_counter = 1;

/* Initial-exec where the toolchain has it: a %fs-relative access instead
 * of a __tls_get_addr call on every spawn. */
#if defined(__GNUC__) && !defined(_WIN32)
#define TLS_IE __attribute__((tls_model("initial-exec")))
#else
#define TLS_IE
#endif

static _Thread_local uint64_t id_next TLS_IE, id_end TLS_IE;

static uint64_t next_id_block(void)
{
    enum { BLOCK = 1024 };
    id_next = atomic_fetch_add_explicit(&id_counter, BLOCK, memory_order_relaxed);
    id_end = id_next + BLOCK;
    return id_next++;
}

/* A process-unique, non-zero id.  Threads take ids in blocks so that
 * spawning from many threads does not contend on one cache line. */
static inline uint64_t next_id(void)
{
    return id_next != id_end ? id_next++ : next_id_block();
}

uint64_t sched__next_id(void)
{
    return next_id();
}

/* ---- spawning ----------------------------------------------------------- */

/*
 * Make a task of fut and queue it.  Takes fut (dropped on failure).  A
 * compact task is made in place of a sched_future_fn() future when the
 * task needs no handle, label, executor id, session or registry entry.
 */
int sched__task_spawn(sched_host *host, sched_future *fut, const char *label,
                      sched_priority prio, const sched_site *site, uint64_t fg_executor_id,
                      sched_task **out)
{
    struct sched_task *t;
    uint64_t session;
    uint32_t s;
    int rc;

    if (out)
        *out = NULL;
    if (!fut)
        return SCHED_ENOMEM;    /* a constructor that ran out of memory */
    if (!host || (unsigned)prio > SCHED_PRIORITY_REALTIME) {
        sched_future_drop(fut);
        return SCHED_EINVAL;
    }
    if (closing(host)) {
        sched_future_drop(fut);
        return SCHED_ECLOSED;
    }

    s = SCHED__KIND_TASK | SCHED__SCHEDULED | ((uint32_t)prio << SCHED__PRIO_SHIFT);
    if (fg_executor_id)
        s |= SCHED__FOREGROUND;
    if (out)
        s |= SCHED__HANDLE;

    session = host->hooks.spawn_session ? host->hooks.spawn_session(host) : 0;
    if (fut->ops == &sched__fn_future_ops && !out && !label && !fg_executor_id && !session) {
        struct sched__fn_future *ff = (struct sched__fn_future *)fut;
        sched_fn fn = ff->fn;
        void *arg = ff->arg;
        t = (struct sched_task *)(void *)fut;
        t->a.fn = fn;
        t->b.arg = arg;
    } else {
        struct sched__task_full *ft;
        if (fut->ops == &sched__fn_future_ops) {
            /* A function needs no future object: keep fn and arg inline in
             * a full block, so the task is still one allocation, and give
             * the function's block back to this thread's cache for the
             * next sched_future_fn (a realloc here left that cache empty
             * and cost a copy and a free per task). */
            struct sched__fn_future ff = *(struct sched__fn_future *)fut;
            if (!(ft = sched__taskmem_alloc_k(SCHED__TM_FULL))) {
                sched_future_drop(fut);
                return SCHED_ENOMEM;
            }
            sched__taskmem_free(fut);
            ft->t.a.fn = ff.fn;
            ft->fn_arg = ff.arg;
            s |= SCHED__FN;
        } else {
            if (!(ft = sched__taskmem_alloc_k(SCHED__TM_FULL))) {
                sched_future_drop(fut);
                return SCHED_ENOMEM;
            }
            ft->t.a.fut = fut;
            ft->fn_arg = NULL;
        }
        t = &ft->t;
        t->b.label = label;
        atomic_init(&ft->wait_reason, NULL);
        atomic_init(&ft->wait_due, 0);
        atomic_init(&ft->await_site, NULL);
        ft->executor_id = fg_executor_id;
        ft->session_id = session;
        ft->prev = ft->next = NULL;
        ft->rc = 0;
        ft->join_seen = 0;
        ft->fail_msg = NULL;
        ft->join.ops = NULL;
        t->host = host;
        atomic_init(&t->awaiter, NULL);
        s |= SCHED__FULL;
        /* Only a full task has a waker: a compact one never pays this. */
        if (host->hooks.waker_activity)
            s |= SCHED__WATCHED;
    }
    atomic_init(&t->state, s);
    atomic_init(&t->refs, out ? 2u : 1u);
    t->id = next_id();
    t->site = site;

    /* A test layer hears of every spawn before it is queued: one from a
     * thread its backend does not run is outside the schedule. */
    if (host->hooks.waker_activity)
        host->hooks.waker_activity(host, &t->r, SCHED__TASK_SPAWNED);
    if (fg_executor_id)
        sched__registry_add(full_of(t));
    if (out)
        *out = t;
    rc = sched__task_submit(t, host);
    if (rc != 0) {
        if (out)
            *out = NULL;
        atomic_store_explicit(&t->refs, 1, memory_order_relaxed);
        sched__task_drop_owned(t);
        return rc == SCHED_ENOMEM ? SCHED_ENOMEM : SCHED_ECLOSED;
    }
    return 0;
}

/* The backend refused the compact task t with rc: drop it.  Out of line,
 * so the fast path below keeps few registers live across the call. */
static __attribute__((noinline)) int spawn_fn_refused(struct sched_task *t, int rc)
{
    sched__task_drop_owned(t);
    return rc == SCHED_ENOMEM ? SCHED_ENOMEM : SCHED_ECLOSED;
}

/* What sched__task_spawn_fn does not handle itself, in four arguments, so
 * that it can jump here. */
static __attribute__((noinline)) int spawn_fn_slow(sched_host *host, sched_future *fut,
                                                   sched_priority prio, const sched_site *site)
{
    return sched__task_spawn(host, fut, NULL, prio, site, 0, NULL);
}

/* Whether a spawn on a host whose sessions_made is non-zero goes the slow
 * way: every spawn of a host whose test layer watches spawns, else one
 * that joins a session. */
static __attribute__((noinline)) int spawn_fn_diverted(sched_host *host, int made)
{
    return (made & SCHED__SPAWNS_WATCHED)
           || (host->hooks.spawn_session && host->hooks.spawn_session(host));
}

/*
 * The commonest spawn: a sched_future_fn() future, detached, unlabelled,
 * on a background executor.  It becomes a compact task in place and goes
 * straight to the backend, unless it joins a session, a test layer hears
 * of it (or it is refused), which sched__task_spawn handles.  A host that
 * never had a session nor a test layer watching (sessions_made is 0) is
 * not asked for the current session: its hook would answer 0.  Takes fut.
 */
int sched__task_spawn_fn(sched_host *host, sched_future *fut, sched_priority prio,
                         const sched_site *site)
{
    struct sched__fn_future *ff = (struct sched__fn_future *)fut;
    struct sched_task *t = (struct sched_task *)(void *)fut;
    sched_fn fn;
    void *arg;
    int rc, made;

    assert(fut && fut->ops == &sched__fn_future_ops);
    if (!host || (unsigned)prio > SCHED_PRIORITY_REALTIME || closing(host)
        || ((made = atomic_load_explicit(&host->sessions_made, memory_order_relaxed)) != 0
            && spawn_fn_diverted(host, made)))
        return spawn_fn_slow(host, fut, prio, site);
    fn = ff->fn;        /* read both before the task's fields overwrite them */
    arg = ff->arg;
    t->a.fn = fn;
    t->b.arg = arg;
    atomic_init(&t->state, SCHED__KIND_TASK | SCHED__SCHEDULED | ((uint32_t)prio << SCHED__PRIO_SHIFT));
    atomic_init(&t->refs, 1u);
    t->id = next_id();
    t->site = site;
    rc = host->ops.schedule_labeled
             ? host->ops.schedule_labeled(host->backend, &t->r, NULL, prio)
             : host->ops.schedule(host->backend, &t->r);
    if (__builtin_expect(rc != 0, 0))
        return spawn_fn_refused(t, rc);
    return 0;
}
