/* SPDX-License-Identifier: MIT */
/*
 * core/task.c - the task state machine, wakers, the registry of live tasks,
 * and the host services a backend uses to run, drop and describe runnables.
 *
 * The hot path (spawn, schedule, run, complete) is lock-free: a task's
 * state is one atomic word moved by compare-and-swap, and the registry's
 * lock is taken only when a task first goes pending, or at spawn for
 * foreground tasks.  Reports on a simulated backend also list the tasks it
 * queues, which it shows through its "queued" op, so no task is tracked
 * twice.  A detached compact task (sched_future_fn, no label) costs one
 * malloc, one free and no atomic read-modify-write.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

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

/* ---- host life ---------------------------------------------------------- */

int sched__tasks_init(sched_host *host)
{
    struct sched__tasks *ts = calloc(1, sizeof *ts);
    if (!ts)
        return SCHED_ENOMEM;
    sched__mutex_init(&ts->lock);
    host->tasks = ts;
    return 0;
}

static inline int closing(sched_host *host)
{
    return atomic_load_explicit(&host->closed, memory_order_acquire) != 0;
}

int sched__host_closing(sched_host *host)
{
    return closing(host);
}

static inline struct sched__task_full *full_of(struct sched_task *t)
{
    return (struct sched__task_full *)t;
}

/* Ask the backend once (it is created after the task core); racing first
 * callers compute the same answer. */
static const sched_test_iface_v1 *ask_simulated(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    const sched_test_iface_v1 *t = NULL;
    if (!host->backend)
        return NULL;
    if (host->ops.query)
        t = host->ops.query(host->backend, "sched.test", 1);
    if (t && t->size < offsetof(sched_test_iface_v1, history))
        t = NULL;
    atomic_store_explicit(&ts->sim, t, memory_order_relaxed);
    atomic_store_explicit(&ts->sim_known, 1, memory_order_release);
    return t;
}

static inline const sched_test_iface_v1 *simulated(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    if (atomic_load_explicit(&ts->sim_known, memory_order_acquire))
        return atomic_load_explicit(&ts->sim, memory_order_relaxed);
    return ask_simulated(host);
}

const sched_test_iface_v1 *sched__simulated(sched_host *host)
{
    return simulated(host);
}

static int registered(const struct sched__task_full *ft)
{
    return (atomic_load_explicit(&((struct sched__task_full *)ft)->t.state, memory_order_relaxed)
            & SCHED__REGISTERED) != 0;
}

/* Add a full task to the registry.  Called by the thread that owns the
 * task's future (spawner or poller) before anyone else can finish it. */
static void registry_add(struct sched__task_full *ft)
{
    struct sched__tasks *ts = ft->t.host->tasks;
    sched__mutex_lock(&ts->lock);
    if (!registered(ft)) {
        ft->prev = NULL;
        ft->next = ts->head;
        if (ts->head)
            ts->head->prev = ft;
        ts->head = ft;
        ts->count++;
        atomic_fetch_or_explicit(&ft->t.state, SCHED__REGISTERED, memory_order_relaxed);
    }
    sched__mutex_unlock(&ts->lock);
}

static void registry_remove(struct sched__task_full *ft)
{
    struct sched__tasks *ts = ft->t.host->tasks;
    sched__mutex_lock(&ts->lock);
    if (registered(ft)) {
        if (ft->prev)
            ft->prev->next = ft->next;
        else
            ts->head = ft->next;
        if (ft->next)
            ft->next->prev = ft->prev;
        ts->count--;
        atomic_fetch_and_explicit(&ft->t.state, ~SCHED__REGISTERED, memory_order_relaxed);
    }
    sched__mutex_unlock(&ts->lock);
}

/* ---- references and wakers ---------------------------------------------- */

static inline void task_ref(struct sched_task *t)
{
    uint32_t old = atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    assert(old > 0 && old < UINT32_MAX);
    (void)old;
}

static void task_unref(struct sched_task *t)
{
    /* acq_rel rather than release plus an acquire fence: the same order,
     * and one ThreadSanitizer can see (it does not model fences). */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
        uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
        assert(!(s & SCHED__FULL) || !registered(full_of(t)));
        if (s & SCHED__FULL) {
            free(full_of(t)->fail_msg);
            if (sched__debug())
                sched__release(t, sizeof(struct sched__task_full));   /* poisons handles, wakers */
            else
                sched__taskmem_free_k(SCHED__TM_FULL, t);
        } else {
            free(t);
        }
    }
}

static void task_wake(struct sched_task *t);

/* A test layer hears of what is done to the wakers of the tasks it
 * watches (hooks.h), while they are unfinished: every task is finished
 * once its host is closed, so a waker used after the close never reads
 * the host. */
static inline void watch(struct sched_task *t, int what)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    if ((s & (SCHED__WATCHED | SCHED__COMPLETED | SCHED__CLOSED)) == SCHED__WATCHED)
        t->host->hooks.waker_activity(t->host, &t->r, what);
}

/* What is done to a child waker of an all-of or any-of is done, as far as
 * the test layer is concerned, to the waker of the task that polls it
 * (wakeup.c calls this only for a set that has such a task). */
void sched__task_watch(struct sched_task *t, int what)
{
    watch(t, what);
}

struct sched_task *sched__waker_watched_ref(sched_waker *w)
{
    struct sched_task *t;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        t = sched__child_waker_watched(w);
    } else if (sched__waker_check(w, "sched_waker_clone")) {
        return NULL;    /* a blocked thread's */
    } else {
        t = (struct sched_task *)w;
        if (!(atomic_load_explicit(&t->state, memory_order_relaxed) & SCHED__WATCHED))
            return NULL;
    }
    if (t)
        task_ref(t);
    return t;
}

void sched__task_unref_watched(struct sched_task *t)
{
    task_unref(t);
}

/* A wake set wakes its parent for a child's wake, which watch_child has
 * reported already: as sched_waker_wake_by_ref, reporting nothing. */
void sched__waker_wake_by_ref_quiet(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD)
        sched__child_waker_wake_quiet(w);
    else if ((b = sched__waker_check(w, "sched_waker_wake_by_ref")))
        b->host->hooks.waker_wake(b);
    else
        task_wake((struct sched_task *)w);
}

sched_waker *sched_waker_clone(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return NULL;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_ref(w);
        return w;
    }
    if ((b = sched__waker_check(w, "sched_waker_clone"))) {
        b->host->hooks.waker_ref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_CLONED);
        task_ref((struct sched_task *)w);
    }
    return w;
}

void sched_waker_drop(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_drop(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_drop"))) {
        b->host->hooks.waker_unref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_DROPPED);
        task_unref((struct sched_task *)w);
    }
}

void sched_waker_wake_by_ref(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_wake_by_ref(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_wake_by_ref"))) {
        b->host->hooks.waker_wake(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_WOKEN);
        task_wake((struct sched_task *)w);
    }
}

/* A task's waker is woken and dropped as one activity. */
void sched_waker_wake(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_wake(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_wake"))) {
        b->host->hooks.waker_wake(b);
        b->host->hooks.waker_unref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_WOKEN);
        task_wake((struct sched_task *)w);
        task_unref((struct sched_task *)w);
    }
}

sched_waker *sched_context_waker(sched_context *cx)
{
    return cx ? cx->waker : NULL;
}

sched_host *sched_context_host(sched_context *cx)
{
    return cx ? cx->host : NULL;
}

void sched_context_set_wait_reason(sched_context *cx, const char *reason)
{
    if (!cx || !cx->task)
        return;
    if (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL) {
        atomic_store_explicit(&full_of(cx->task)->wait_reason, reason, memory_order_relaxed);
        atomic_store_explicit(&full_of(cx->task)->wait_due, 0, memory_order_relaxed);
    }
}

void sched__context_wait_timer(sched_context *cx, uint64_t due)
{
    if (!cx || !cx->task)
        return;
    if (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL) {
        atomic_store_explicit(&full_of(cx->task)->wait_reason, NULL, memory_order_relaxed);
        atomic_store_explicit(&full_of(cx->task)->wait_due, due, memory_order_relaxed);
    }
}

/* The innermost await returns first, so the first site noted in a poll
 * is where the task waits; the poll started with none (task_run). */
int sched_future_poll_at(sched_future *f, sched_context *cx, sched_value *out,
                         const sched_site *site)
{
    int rc = sched_future_poll(f, cx, out);
    if (rc == SCHED_PENDING && site && cx && cx->task
        && (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL)
        && !atomic_load_explicit(&full_of(cx->task)->await_site, memory_order_relaxed))
        atomic_store_explicit(&full_of(cx->task)->await_site, site, memory_order_relaxed);
    return rc;
}

/* ---- finishing ---------------------------------------------------------- */

/* Wake whoever awaits t's result (the join future). */
static void wake_awaiter(struct sched_task *t)
{
    sched_waker *w = atomic_exchange_explicit(&t->awaiter, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_wake(w);
}

/*
 * The caller owns t's future (CLOSED is set and nobody else will poll or
 * drop it): drop the future, leave the registry, tell the awaiter and
 * release the "not finished" reference.
 */
static void finish_closed(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    assert(s & SCHED__CLOSED);
    if (s & SCHED__FULL) {
        struct sched__task_full *ft = full_of(t);
        if (!(s & (SCHED__COMPLETED | SCHED__FN)) && t->a.fut) {
            sched_future *f = t->a.fut;
            t->a.fut = NULL;
            sched_future_drop(f);
        }
        if (s & SCHED__REGISTERED)
            registry_remove(ft);
        wake_awaiter(t);
    }
    task_unref(t);
}

/* Mark a task this thread owns (SCHEDULED, not in any queue) as closed and
 * finish it: the backend refused or dropped it. */
static void drop_owned(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&t->state, &s,
                                                  (s & ~SCHED__SCHEDULED) | SCHED__CLOSED,
                                                  memory_order_acq_rel, memory_order_relaxed))
        ;
    finish_closed(t);
}

/* ---- scheduling --------------------------------------------------------- */

/* submit() of a foreground task: the backend's main queue, then the
 * blocking layer's kick of a blocked main thread.  Out of line, so that
 * the common path needs no stack frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int submit_main(struct sched_task *t, sched_host *host)
{
    int rc = host->ops.schedule_main(host->backend, &t->r);
    if (rc == 0 && host->hooks.main_queued)
        host->hooks.main_queued(host);
    return rc;
}

/* Hand t (SCHEDULED, owned by the caller) to the backend.  Returns 0 or the
 * backend's refusal, in which case the caller still owns t. */
static int submit(struct sched_task *t, sched_host *host)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);

    if (closing(host))
        return SCHED_ECLOSED;
    if (s & SCHED__FOREGROUND)
        return submit_main(t, host);
    if (host->ops.schedule_labeled) {
        const char *label = (s & SCHED__FULL) ? t->b.label : NULL;
        return host->ops.schedule_labeled(host->backend, &t->r, label,
                                          (sched_priority)((s & SCHED__PRIO_MASK) >> SCHED__PRIO_SHIFT));
    }
    return host->ops.schedule(host->backend, &t->r);
}

/*
 * Queue a full task again (a wake, a cancel sent to the main thread).  If
 * the backend refuses, the task is dropped; but a foreground task's future
 * belongs to the main thread, so another thread leaves it idle in the
 * registry (foreground tasks are always there) for sched__tasks_close to
 * drop on the main thread.  The refusal is a closing host, or a backend
 * failing, which is logged.
 */
static void resubmit(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    int rc;
    assert(s & SCHED__FULL);
    if ((rc = submit(t, t->host)) == 0)
        return;
    if ((s & SCHED__FOREGROUND)
        && !sched__thread_equal(sched__thread_self(), t->host->main_thread)) {
        if (!closing(t->host))
            sched__log(SCHED_LOG_ERROR,
                       "a woken foreground task (id %" PRIu64 ") could not be queued (%s); it "
                       "waits for the next wake, or for the host to close",
                       t->id, sched_strerror(rc));
        atomic_fetch_and_explicit(&t->state, ~SCHED__SCHEDULED, memory_order_acq_rel);
        return;
    }
    drop_owned(t);
}

/* A wake: queue t unless it is finished, already queued, or being polled
 * (then it is marked NOTIFIED and requeued once the poll returns). */
static void task_wake(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        uint32_t want;
        if (s & (SCHED__COMPLETED | SCHED__CLOSED | SCHED__SCHEDULED))
            return;
        if (s & SCHED__RUNNING) {
            if (s & SCHED__NOTIFIED)
                return;
            want = s | SCHED__NOTIFIED;
        } else {
            want = s | SCHED__SCHEDULED;
        }
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (!(s & SCHED__RUNNING))
        resubmit(t);
}

/* ---- running ------------------------------------------------------------ */

/* The full task this thread is polling, if any: reports list it although
 * no queue holds it and it may never have been registered. */
static _Thread_local struct sched_task *running;

struct sched_task *sched__task_running(void)
{
    return running;
}

uint64_t sched__running_session(void)
{
    if (!running
        || !(atomic_load_explicit(&running->state, memory_order_relaxed) & SCHED__FULL))
        return 0;
    return full_of(running)->session_id;
}

uint64_t sched__waker_session(sched_waker *w, sched_host **host)
{
    struct sched_task *t = (struct sched_task *)w;
    *host = NULL;
    if ((uintptr_t)w & SCHED__WAKER_CHILD)
        return sched__child_waker_session(w, host);
    if (!w || ((uintptr_t)w & SCHED__WAKER_BLOCK)
        || !(atomic_load_explicit(&t->state, memory_order_relaxed) & SCHED__FULL)
        || full_of(t)->session_id == 0)
        return 0;
    *host = t->host;
    return full_of(t)->session_id;
}

static void task_run(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    sched_value value = { 0 };
    char *fail_msg = NULL;
    int rc;

    if (s & SCHED__FOREGROUND)
        sched__foreground_check(t->host, "a backend ran a foreground task", t->site);
    assert(s & SCHED__SCHEDULED);
    assert(!(s & (SCHED__RUNNING | SCHED__COMPLETED)));

    /* A compact task: detached, never woken, nothing else can reach it. */
    if (!(s & SCHED__FULL)) {
        t->a.fn(t->b.arg);
        sched__taskmem_free(t);
        return;
    }

    /* Queued when the close began, and run by a backend thread that has
     * not stopped yet: the close drops every pending task, so this one is
     * dropped, not polled (its first poll would see its timers refused
     * and run on into code that expects the time to have passed). */
    if (closing(t->host)) {
        drop_owned(t);
        return;
    }
    for (;;) {
        if (s & SCHED__CLOSED) {
            /* Cancelled while queued: the canceller left the drop to us. */
            atomic_fetch_and_explicit(&t->state, ~SCHED__SCHEDULED, memory_order_acq_rel);
            finish_closed(t);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&t->state, &s,
                                                  (s & ~SCHED__SCHEDULED) | SCHED__RUNNING,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }

    {
        struct sched_task *outer = running;
        running = t;
        if (s & SCHED__FN) {
            value = t->a.fn(full_of(t)->fn_arg);
            rc = 0;
        } else {
            sched_context cx = { t->host, (sched_waker *)t, t, NULL, 0 };
            /* The last poll's reason may live in a future this poll drops
             * (a timer's does): a pending poll must name its own. */
            atomic_store_explicit(&full_of(t)->wait_reason, NULL, memory_order_relaxed);
            atomic_store_explicit(&full_of(t)->wait_due, 0, memory_order_relaxed);
            atomic_store_explicit(&full_of(t)->await_site, NULL, memory_order_relaxed);
            rc = t->a.fut->ops->poll(t->a.fut, &cx, &value);
            fail_msg = sched__context_take_failure(&cx, rc);
        }
        running = outer;
    }

    if (rc != SCHED_PENDING) {
        if (!(s & SCHED__FN)) {
            sched_future *f = t->a.fut;
            t->a.fut = NULL;
            sched_future_drop(f);
            atomic_store_explicit(&full_of(t)->wait_reason, NULL, memory_order_relaxed);
        }
        t->a.value = value;
        if (rc > 0)
            rc = SCHED_EINVAL;      /* a poll returning garbage fails the task */
        /* The whole int, published by the CAS below: a joiner that sees
         * COMPLETED reads it, whatever negative value the future chose. */
        full_of(t)->rc = rc;
        full_of(t)->fail_msg = fail_msg;
        s = atomic_load_explicit(&t->state, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(
            &t->state, &s, (s & ~(SCHED__RUNNING | SCHED__NOTIFIED)) | SCHED__COMPLETED,
            memory_order_acq_rel, memory_order_relaxed))
            ;
        if (fail_msg && !(s & (SCHED__HANDLE | SCHED__CLOSED)))
            sched__log_unseen_failure(t, fail_msg);    /* detached before it failed */
        if (s & SCHED__REGISTERED)
            registry_remove(full_of(t));
        wake_awaiter(t);
        task_unref(t);
        return;
    }

    /* Pending: be findable by reports and by shutdown before letting go. */
    if (!(s & SCHED__REGISTERED))
        registry_add(full_of(t));
    s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        uint32_t want;
        if (s & SCHED__CLOSED) {
            atomic_fetch_and_explicit(&t->state, ~(SCHED__RUNNING | SCHED__NOTIFIED),
                                      memory_order_acq_rel);
            finish_closed(t);
            return;
        }
        if (s & SCHED__NOTIFIED)
            want = (s & ~(SCHED__RUNNING | SCHED__NOTIFIED)) | SCHED__SCHEDULED;
        else
            want = s & ~SCHED__RUNNING;
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (s & SCHED__NOTIFIED)
        resubmit(t);
}

/* A timer's wake-up or a full task.  Out of line, so that a compact
 * task's run does not pay for task_run's frame. */
static __attribute__((noinline)) void runnable_run_other(sched_runnable *r, uint32_t s)
{
    switch (s & SCHED__KIND_MASK) {
    case SCHED__KIND_TIMER:
        sched__timer_rt_run((struct sched__timer_rt *)r);
        break;
    default:
        task_run((struct sched_task *)r);
        break;
    }
}

void sched__runnable_run(sched_runnable *r)
{
    struct sched__rhdr *h = (struct sched__rhdr *)r;
    uint32_t s = atomic_load_explicit(&h->state, memory_order_acquire);

    /* A compact task, the common case: detached, never woken, nothing
     * else can reach it. */
    if (!(s & (SCHED__KIND_MASK | SCHED__FULL))) {
        struct sched_task *t = (struct sched_task *)r;
        assert(s & SCHED__SCHEDULED);
        t->a.fn(t->b.arg);
        sched__taskmem_free(t);
        return;
    }
    runnable_run_other(r, s);
}

void sched__runnable_drop(sched_runnable *r)
{
    struct sched__rhdr *h = (struct sched__rhdr *)r;
    switch (atomic_load_explicit(&h->state, memory_order_relaxed) & SCHED__KIND_MASK) {
    case SCHED__KIND_TIMER:
        sched__timer_rt_drop((struct sched__timer_rt *)r);
        break;
    default:
        drop_owned((struct sched_task *)r);
        break;
    }
}

int sched__runnable_info(const sched_runnable *r, sched_runnable_info *out)
{
    const struct sched__rhdr *h = (const struct sched__rhdr *)r;
    uint32_t s = atomic_load_explicit(&((struct sched__rhdr *)h)->state, memory_order_relaxed);
    sched_runnable_info info;

    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if ((s & SCHED__KIND_MASK) == SCHED__KIND_TIMER) {
        info.priority = SCHED_PRIORITY_HIGH;
        const struct sched__timer_rt *rt = (const struct sched__timer_rt *)r;
        info.task_id = rt->id;
        info.session_id = rt->session_id;
        info.label = "timer";
        /* Where it came from: the spawn site of the task that armed it. */
        if (rt->site) {
            info.file = rt->site->file;
            info.func = rt->site->func;
            info.line = rt->site->line;
        }
    } else {
        const struct sched_task *t = (const struct sched_task *)r;
        info.priority = (s & SCHED__PRIO_MASK) >> SCHED__PRIO_SHIFT;
        info.task_id = t->id;
        if (s & SCHED__FULL) {
            const struct sched__task_full *ft = (const struct sched__task_full *)t;
            info.label = t->b.label;
            info.executor_id = ft->executor_id;
            info.session_id = ft->session_id;
        }
        if (t->site) {
            info.file = t->site->file;
            info.func = t->site->func;
            info.line = t->site->line;
        }
    }
    /* Copy only what the caller's (possibly older) struct has room for. */
    if (out->size < sizeof info)
        memcpy((char *)out + sizeof out->size, (char *)&info + sizeof info.size,
               out->size > sizeof out->size ? out->size - sizeof out->size : 0);
    else
        memcpy((char *)out + sizeof out->size, (char *)&info + sizeof info.size,
               sizeof info - sizeof info.size);
    return 0;
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

    if (fg_executor_id)
        registry_add(full_of(t));
    if (out)
        *out = t;
    rc = submit(t, host);
    if (rc != 0) {
        if (out)
            *out = NULL;
        atomic_store_explicit(&t->refs, 1, memory_order_relaxed);
        drop_owned(t);
        return rc == SCHED_ENOMEM ? SCHED_ENOMEM : SCHED_ECLOSED;
    }
    return 0;
}

/* The backend refused the compact task t with rc: drop it.  Out of line,
 * so the fast path below keeps few registers live across the call. */
static __attribute__((noinline)) int spawn_fn_refused(struct sched_task *t, int rc)
{
    drop_owned(t);
    return rc == SCHED_ENOMEM ? SCHED_ENOMEM : SCHED_ECLOSED;
}

/* What sched__task_spawn_fn does not handle itself, in four arguments, so
 * that it can jump here. */
static __attribute__((noinline)) int spawn_fn_slow(sched_host *host, sched_future *fut,
                                                   sched_priority prio, const sched_site *site)
{
    return sched__task_spawn(host, fut, NULL, prio, site, 0, NULL);
}

/*
 * The commonest spawn: a sched_future_fn() future, detached, unlabelled,
 * on a background executor.  It becomes a compact task in place and goes
 * straight to the backend, unless it joins a session (or is refused),
 * which sched__task_spawn handles.  A host that never had a session
 * (sessions_made is 0) is not asked for the current one: its hook would
 * answer 0.  Takes fut.
 */
int sched__task_spawn_fn(sched_host *host, sched_future *fut, sched_priority prio,
                         const sched_site *site)
{
    struct sched__fn_future *ff = (struct sched__fn_future *)fut;
    struct sched_task *t = (struct sched_task *)(void *)fut;
    sched_fn fn;
    void *arg;
    int rc;

    assert(fut && fut->ops == &sched__fn_future_ops);
    if (!host || (unsigned)prio > SCHED_PRIORITY_REALTIME || closing(host)
        || (atomic_load_explicit(&host->sessions_made, memory_order_relaxed)
            && host->hooks.spawn_session && host->hooks.spawn_session(host)))
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

/* ---- handles ------------------------------------------------------------ */

uint64_t sched_task_id(const sched_task *t)
{
    return t ? t->id : 0;
}

const char *sched_task_label(const sched_task *t)
{
    if (!t || !(atomic_load_explicit(&((sched_task *)t)->state, memory_order_relaxed) & SCHED__FULL))
        return NULL;
    return t->b.label;
}

const sched_site *sched_task_site(const sched_task *t)
{
    return t ? t->site : NULL;
}

int sched_task_is_finished(const sched_task *t)
{
    if (!t)
        return 1;
    return (atomic_load_explicit(&((sched_task *)t)->state, memory_order_acquire)
            & (SCHED__COMPLETED | SCHED__CLOSED)) != 0;
}

static void task_cancel(sched_task *t)
{
    uint32_t s, want;
    int take;

    s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        if (s & SCHED__CLOSED)
            return;
        take = !(s & (SCHED__SCHEDULED | SCHED__RUNNING | SCHED__COMPLETED));
        want = s | SCHED__CLOSED;
        /* A foreground future is dropped on the main thread only: from
         * elsewhere, queue it there and let the run drop it. */
        if (take && (s & SCHED__FOREGROUND)
            && !sched__thread_equal(sched__thread_self(), t->host->main_thread))
            want |= SCHED__SCHEDULED;
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (s & SCHED__COMPLETED) {
        wake_awaiter(t);        /* the result is discarded; joiners see the cancel */
        return;
    }
    if (!take)
        return;                 /* the runner or the backend drops it */
    if (want & SCHED__SCHEDULED)
        resubmit(t);
    else
        finish_closed(t);
}

/* Let go of the handle.  A failure with a message that nobody has seen
 * (seen: a join future returned it) and nobody can see any more is
 * logged: here if the task failed first, by task_run if it was detached
 * first (the two read-modify-writes of the state word order them). */
static void task_detach(sched_task *t, int seen)
{
    uint32_t s = atomic_fetch_and_explicit(&t->state, ~SCHED__HANDLE, memory_order_acq_rel);
    if (!seen && (s & (SCHED__COMPLETED | SCHED__CLOSED)) == SCHED__COMPLETED
        && (s & SCHED__FULL) && full_of(t)->fail_msg)
        sched__log_unseen_failure(t, full_of(t)->fail_msg);
    task_unref(t);
}

static void task_free(sched_task *t, int seen)
{
    if (!sched_task_is_finished(t))
        task_cancel(t);
    task_detach(t, seen);
}

void sched_task_cancel(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_cancel");
    /* Deciding a task's fate is activity on it, as waking it is. */
    watch(t, SCHED__TASK_CANCELLED);
    task_cancel(t);
}

void sched_task_detach(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_detach");
    task_detach(t, 0);
}

void sched_task_free(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_free");
    watch(t, SCHED__TASK_CANCELLED);
    task_free(t, 0);
}

/* ---- joining ------------------------------------------------------------ */

/* The join future lives in the task it joins (only a full task has a
 * handle), and holds the handle's reference: joining allocates nothing. */
static struct sched__task_full *joined_of(sched_future *f)
{
    return (struct sched__task_full *)(void *)((char *)f - offsetof(struct sched__task_full, join));
}

/* Ready when the task is: its value, its failure (its message handed on
 * to the joiner's poll, so that the joiner fails with it too if it passes
 * the failure on), or SCHED_ECANCELED. */
static int join_result(struct sched__task_full *ft, uint32_t s, sched_context *cx, sched_value *out)
{
    ft->join_seen = 1;
    if (s & SCHED__CLOSED)
        return SCHED_ECANCELED;
    if (out)
        *out = ft->t.a.value;
    if (ft->fail_msg)
        sched_context_fail(cx, ft->rc, "%s", ft->fail_msg);
    return ft->rc;
}

static int join_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sched__task_full *ft = joined_of(f);
    struct sched_task *t = &ft->t;
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    sched_waker *w, *old;
    int rc;

    /* A host that never made a session needs no await check (the hook
     * would answer 0): one load instead of a call on every join poll. */
    if (atomic_load_explicit(&t->host->sessions_made, memory_order_relaxed)
        && t->host->hooks.await_check
        && (rc = t->host->hooks.await_check(t->host, ft->session_id)) != 0)
        return rc;
    if (s & (SCHED__COMPLETED | SCHED__CLOSED))
        return join_result(ft, s, cx, out);
    /* Polled again by the same waker (an all-of re-polls every join it
     * still waits for at each wake): the task has not taken it back, so
     * its finish will wake it; nothing to swap. */
    w = sched_context_waker(cx);
    if (w && atomic_load_explicit(&t->awaiter, memory_order_acquire) == w) {
        sched_context_set_wait_reason(cx, "another task");
        return SCHED_PENDING;
    }
    w = sched_waker_clone(w);
    old = atomic_exchange_explicit(&t->awaiter, w, memory_order_acq_rel);
    if (old)
        sched_waker_drop(old);
    s = atomic_load_explicit(&t->state, memory_order_acquire);
    if (s & (SCHED__COMPLETED | SCHED__CLOSED)) {
        w = atomic_exchange_explicit(&t->awaiter, NULL, memory_order_acq_rel);
        if (w)
            sched_waker_drop(w);
        return join_result(ft, s, cx, out);
    }
    sched_context_set_wait_reason(cx, "another task");
    return SCHED_PENDING;
}

/* Let go of the task: the handle's reference goes with the future. */
static void join_drop(sched_future *f)
{
    struct sched__task_full *ft = joined_of(f);
    sched_waker *w = atomic_exchange_explicit(&ft->t.awaiter, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    task_free(&ft->t, ft->join_seen);
}

static const sched_future_ops join_ops = { join_poll, join_drop };

sched_future *sched_task_join(sched_task *t)
{
    struct sched__task_full *ft;
    if (!t)
        return NULL;
    sched__handle_check(t, "sched_task_join");
    ft = full_of(t);
    if (sched__debug())
        atomic_fetch_or_explicit(&t->state, SCHED__JOINED, memory_order_relaxed);
    ft->join.ops = &join_ops;
    ft->join_seen = 0;
    return &ft->join;
}

/*
 * After the backend (and the fallback timer thread) dropped every runnable
 * they held: every task still registered is pending, with its future owned
 * by nobody but us.  Drop each exactly once.  Handles and wakers the
 * application still holds stay valid (they see a cancelled task) and free
 * the memory when they let go; nothing reaches the host after this.
 */
void sched__tasks_close(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    if (!ts)
        return;
    for (;;) {
        struct sched__task_full *ft;
        uint32_t s;
        sched__mutex_lock(&ts->lock);
        ft = ts->head;
        if (ft)
            task_ref(&ft->t);   /* survive our own finish_closed */
        sched__mutex_unlock(&ts->lock);
        if (!ft)
            break;
        s = atomic_load_explicit(&ft->t.state, memory_order_acquire);
        for (;;) {
            if (s & (SCHED__COMPLETED | SCHED__SCHEDULED | SCHED__RUNNING))
                break;
            /* Idle: ours to close.  Already closed and still registered
             * means a canceller left the drop to a runner that never came
             * (a foreground task another thread could not queue): ours too. */
            if ((s & SCHED__CLOSED)
                || atomic_compare_exchange_weak_explicit(&ft->t.state, &s, s | SCHED__CLOSED,
                                                         memory_order_acq_rel,
                                                         memory_order_acquire)) {
                s = 0;
                break;
            }
        }
        if (s == 0)
            finish_closed(&ft->t);
        else
            registry_remove(ft);   /* cannot happen once the backend is gone */
        task_unref(&ft->t);
    }
    sched__mutex_destroy(&ts->lock);
    free(ts);
    host->tasks = NULL;
    /* The backend is gone and its threads with it: their cached blocks
     * are in the depot. */
    sched__taskmem_trim();
}
