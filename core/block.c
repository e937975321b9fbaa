/* SPDX-License-Identifier: MIT */
/*
 * core/block.c - blocking a thread on a future.
 *
 * The blocking thread polls the future itself, with a waker that unparks
 * it.  The parker sits in a reference-counted blocker that every waker
 * clone holds, so an unpark that races with the blocking call's return
 * never touches freed memory.  Backends without park/unpark get a
 * futex-style parker on the blocker's word.  On a simulated backend, park
 * is what drives the scheduler: nothing runs unless a thread blocks.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"

struct sched__blocker {
    struct sched__waker_head head;  /* first: the task core finds the host */
    _Atomic uint32_t refs;
    _Atomic uint32_t word;      /* 1 once woken */
    int main;                   /* runs main-thread work while it waits */
    sched_parker parker;
};

static void unpark(sched_host *host, struct sched__blocker *b)
{
    atomic_store_explicit(&b->word, 1, memory_order_release);
    if (host->ops.park && host->ops.unpark)
        host->ops.unpark(host->backend, &b->parker);
    else
        sched__word_wake_one((uint32_t *)&b->word);
}

static void blocker_ref(struct sched__blocker *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void blocker_unref(struct sched__blocker *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        sched__host_unref(b->head.host);
        sched__release(b, sizeof *b);
    }
}

enum { MAIN_IDLE, MAIN_IN_RUN, MAIN_WOKEN };

/* A waker of a blocked call can outlive the call, and the host: once the
 * host is closed there is no backend and no main parker to wake, and
 * nobody waits on the word. */
static void blocker_wake(struct sched__blocker *b)
{
    if (sched__host_closing(b->head.host)) {
        atomic_store_explicit(&b->word, 1, memory_order_release);
        return;
    }
    unpark(b->head.host, b);
    if (b->main) {
        struct sched__tasks *ts = b->head.host->tasks;
        /* Only a run this wake is responsible for gets stopped, so no stop
         * is left over for the application's next sched_host_run. */
        if (atomic_load(&ts->main_stop_mode)
            && atomic_exchange(&ts->main_run_state, MAIN_WOKEN) == MAIN_IN_RUN)
            b->head.host->ops.stop(b->head.host->backend);
    }
}

/*
 * Run the backend's main loop until the blocked future is woken.  For
 * backends whose main queue has no pollable interface.  Woken already
 * (during the poll: a yield, say), the main-thread work queued so far
 * still gets its turn: a stop() made before run() is kept, and the run
 * drains what is queued and returns.
 */
static void run_until_woken(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    int idle = MAIN_IDLE;
    if (atomic_compare_exchange_strong(&ts->main_run_state, &idle, MAIN_IN_RUN)) {
        host->ops.run(host->backend);
    } else {
        host->ops.stop(host->backend);
        host->ops.run(host->backend);
    }
    atomic_store(&ts->main_run_state, MAIN_IDLE);
}

/* A main-thread runnable was queued: wake the innermost block on the main
 * thread, if any, so that it runs it. */
static void main_kick(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    struct sched__blocker *b;
    atomic_store(&ts->main_kicked, 1);
    if (!atomic_load(&ts->main_waiting))
        return;
    sched__mutex_lock(&ts->lock);
    b = ts->main_blocker;
    if (b)
        blocker_ref(b);
    sched__mutex_unlock(&ts->lock);
    if (b) {
        unpark(host, b);
        blocker_unref(b);
    }
}

/* The task core reaches a blocked thread's waker, and the main thread,
 * through these (hooks.h); a blocker starts with its waker_head. */
static void hook_wake(struct sched__waker_head *w)
{
    blocker_wake((struct sched__blocker *)(void *)w);
}

static void hook_ref(struct sched__waker_head *w)
{
    blocker_ref((struct sched__blocker *)(void *)w);
}

static void hook_unref(struct sched__waker_head *w)
{
    blocker_unref((struct sched__blocker *)(void *)w);
}

void sched__block_hooks(struct sched__hooks *hooks)
{
    hooks->main_queued = main_kick;
    hooks->waker_wake = hook_wake;
    hooks->waker_ref = hook_ref;
    hooks->waker_unref = hook_unref;
}

/* Make b the block that main-thread runnables wake; returns the one it
 * hides (a block further out on the main thread), for main_pop. */
static struct sched__blocker *main_push(sched_host *host, struct sched__blocker *b)
{
    struct sched__tasks *ts = host->tasks;
    struct sched__blocker *outer;
    blocker_ref(b);
    sched__mutex_lock(&ts->lock);
    outer = ts->main_blocker;
    ts->main_blocker = b;
    sched__mutex_unlock(&ts->lock);
    atomic_fetch_add(&ts->main_waiting, 1);
    return outer;
}

static void main_pop(sched_host *host, struct sched__blocker *b, struct sched__blocker *outer)
{
    struct sched__tasks *ts = host->tasks;
    sched__mutex_lock(&ts->lock);
    ts->main_blocker = outer;
    sched__mutex_unlock(&ts->lock);
    atomic_fetch_sub(&ts->main_waiting, 1);
    blocker_unref(b);
    /* The outer block may have been kicked while it was hidden: it polls
     * and dispatches again anyway before it parks. */
    if (outer)
        atomic_store_explicit(&outer->word, 1, memory_order_release);
}

/*
 * Park until woken, the deadline passes, or the backend proves a deadlock.
 * Returns 0, SCHED_ETIMEDOUT or SCHED_EDEADLK.  On a simulated backend park
 * is what runs other work, so it is entered even when the future woke
 * itself during its poll (a yield): every other ready runnable stays a
 * candidate, and the backend decides when the waiter resumes.
 */
static int park(sched_host *host, struct sched__blocker *b, uint64_t deadline)
{
    int step = sched__simulated(host) != NULL;
    for (;;) {
        uint64_t timeout = SCHED_TIMEOUT_NEVER;
        int woken = atomic_load_explicit(&b->word, memory_order_acquire) != 0;
        int rc;
        if (woken && !step)
            return 0;
        step = 0;
        if (deadline != SCHED_TIMEOUT_NEVER) {
            uint64_t now = sched_host_now(host);
            if (now >= deadline)
                return woken ? 0 : SCHED_ETIMEDOUT;
            timeout = deadline - now;
        }
        if (host->ops.park && host->ops.unpark)
            rc = host->ops.park(host->backend, &b->parker, timeout);
        else
            rc = sched__word_wait((uint32_t *)&b->word, 0, timeout);
        /* SCHED_EBACKEND: a simulated backend stopped running work (the
         * replay it followed diverged); waiting longer cannot help. */
        if (rc == SCHED_EDEADLK || rc == SCHED_EBACKEND)
            return rc;
        /* A simulated backend decides itself when a timed wait gives up. */
        if (rc == SCHED_ETIMEDOUT && sched__simulated(host)
            && !atomic_load_explicit(&b->word, memory_order_acquire))
            return rc;
    }
}

/* Why a simulated backend stopped: its replay's sentence. */
static void stopped_error(sched_host *host, sched_error **err)
{
    const sched_test_iface_v1 *sim = sched__simulated(host);
    char why[4096] = "";
    if (sim && offsetof(sched_test_iface_v1, replay_status) + sizeof sim->replay_status <= sim->size
        && sim->replay_status)
        sim->replay_status(host->backend, why, sizeof why);
    sched__error_set(err, SCHED_EBACKEND, "%s", why[0] ? why : "the backend stopped running work");
}

static int deadlock_error(sched_host *host, sched_error **err)
{
    char *tasks, *note = NULL;
    size_t need, nneed;
    char seed[64] = "";
    const sched_test_iface_v1 *sim;

    if (!err)
        return SCHED_EDEADLK;
    need = sched__describe_tasks(host, NULL, 0);
    tasks = malloc(need + 1);
    if (tasks)
        sched__describe_tasks(host, tasks, need + 1);
    sim = sched__simulated(host);
    if (sim && sim->seed)
        snprintf(seed, sizeof seed, "; seed %" PRIu64, sim->seed(host->backend));
    /* What else the backend says holds work back (strict_main_block). */
    if (sim && offsetof(sched_test_iface_v1, deadlock_note) + sizeof sim->deadlock_note <= sim->size
        && sim->deadlock_note && (nneed = sim->deadlock_note(host->backend, NULL, 0)) > 0
        && (note = malloc(nneed + 1)) != NULL)
        sim->deadlock_note(host->backend, note, nneed + 1);
    sched__error_set(err, SCHED_EDEADLK,
                     "blocked on a future that nothing can wake (backend %s%s); pending tasks:\n%s%s",
                     host->desc && host->desc->name ? host->desc->name : "?", seed,
                     tasks && need ? tasks : "(none)\n", note ? note : "");
    free(note);
    free(tasks);
    return SCHED_EDEADLK;
}

static const sched_pollable_iface_v1 *pollable(sched_host *host)
{
    const sched_pollable_iface_v1 *p = NULL;
    if (host->ops.query)
        p = host->ops.query(host->backend, "sched.pollable", 1);
    return p && p->size >= sizeof *p && p->dispatch ? p : NULL;
}

static int run_main_available(sched_host *host)
{
    return pollable(host) != NULL;
}

/* Dispatch main-thread work while a foreground block waits.  Returns how
 * many runnables ran, or -1 when the backend offers no way to. */
static int run_main(sched_host *host)
{
    const sched_pollable_iface_v1 *p = pollable(host);
    return p ? p->dispatch(host->backend) : -1;
}

/*
 * Poll *fut on the calling thread until it is ready, parking in between.
 * When the deadline passes (SCHED_ETIMEDOUT) *fut is left live; otherwise
 * it is dropped and NULL.
 */
static int block_on(sched_host *host, int main, sched_future **fut, uint64_t ns,
                    sched_value *out, sched_error **err)
{
    struct sched__blocker *b;
    sched_context cx;
    sched_value v = { 0 };
    char *fail_msg = NULL;
    uint64_t deadline = SCHED_TIMEOUT_NEVER;
    struct sched__blocker *outer = NULL;
    sched_future *alarm = NULL;
    int outer_run_state = MAIN_IDLE, outer_stop_mode = 0, first = 1;
    int rc, timed_out = 0, stopped = 0;

    if (sched__host_closing(host)) {
        sched_future_drop(*fut);
        *fut = NULL;
        return sched__error_set(err, SCHED_ECLOSED, "the host is closed");
    }
    b = calloc(1, sizeof *b);
    if (!b) {
        sched_future_drop(*fut);
        *fut = NULL;
        return SCHED_ENOMEM;
    }
    atomic_init(&b->refs, 1);
    int on_main = sched__thread_equal(sched__thread_self(), host->main_thread);
    /* On the main thread every block runs main-thread work while it
     * waits, as sched_foreground_block does: awaiting a foreground task
     * from sched_block there works on every backend.  (A simulated
     * backend's park runs everything already.) */
    b->main = (main || on_main) && !sched__simulated(host);
    /* There a block drives a simulated backend's schedule: a test layer
     * hears of what other threads do to its waker until it returns.  A
     * block on another thread is outside the schedule itself. */
    atomic_init(&b->head.watched, on_main && host->hooks.waker_activity != NULL);
    sched__host_ref(host);
    b->head.host = host;
    cx.host = host;
    cx.waker = (sched_waker *)((uintptr_t)b | SCHED__WAKER_BLOCK);
    cx.task = NULL;
    cx.fail_msg = NULL;
    cx.fail_code = 0;
    if (ns != SCHED_TIMEOUT_NEVER) {
        uint64_t now = sched_host_now(host);
        deadline = ns >= SCHED_TIMEOUT_NEVER - now ? SCHED_TIMEOUT_NEVER - 1 : now + ns;
    }
    if (b->main) {
        /* A block inside a main-thread runnable that a block further out
         * runs: hide that one until this one returns. */
        outer = main_push(host, b);
        outer_run_state = atomic_exchange(&host->tasks->main_run_state, MAIN_IDLE);
        outer_stop_mode = atomic_exchange(&host->tasks->main_stop_mode,
                                          run_main_available(host) ? 0 : 1);
    }

    for (;;) {
        /* An exchange, not a store: a plain store could land after a wake's
         * word = 1 that this poll did not see (a store buffered past our
         * loads), and we would park through it.  Reading the wake's store
         * orders its data before this poll. */
        atomic_exchange_explicit(&b->word, 0, memory_order_acq_rel);
        rc = sched_future_poll(*fut, &cx, &v);
        fail_msg = sched__context_take_failure(&cx, rc);
        if (rc != SCHED_PENDING)
            break;
        /* A budget of 0 is a poll: once, with nothing run or waited for. */
        if (ns == 0) {
            rc = SCHED_ETIMEDOUT;
            timed_out = 1;
            break;
        }
        /* sched_block runs the main queue when it may hold work: at the
         * first look, and after a main-thread runnable was queued (the
         * backend's own main-queue machinery is not for every wake-up). */
        if (b->main && (main || first || atomic_exchange(&host->tasks->main_kicked, 0))) {
            int ran = run_main(host);
            first = 0;
            if (ran > 0)
                continue;
            if (ran < 0) {
                /* run() knows no deadline: a timer wakes (stops) it. */
                if (deadline != SCHED_TIMEOUT_NEVER) {
                    uint64_t now = sched_host_now(host);
                    sched_value tv;
                    if (!alarm)
                        alarm = sched_timer(host, now < deadline ? deadline - now : 0);
                    rc = sched_future_poll(alarm, &cx, &tv);
                    if (rc != SCHED_PENDING) {
                        timed_out = rc == 0;
                        rc = rc == 0 ? SCHED_ETIMEDOUT : rc;
                        break;
                    }
                }
                run_until_woken(host);
                continue;
            }
        }
        rc = park(host, b, deadline);
        if (rc == SCHED_ETIMEDOUT) {
            timed_out = 1;
            break;
        }
        if (rc == SCHED_EDEADLK) {
            deadlock_error(host, err);
            break;
        }
        if (rc == SCHED_EBACKEND) {
            stopped = 1;
            stopped_error(host, err);
            break;
        }
    }
    sched_future_drop(alarm);
    if (b->main) {
        atomic_store(&host->tasks->main_stop_mode, outer_stop_mode);
        atomic_store(&host->tasks->main_run_state, outer_run_state);
        main_pop(host, b, outer);
    }
    atomic_store_explicit(&b->head.watched, 0, memory_order_relaxed);
    blocker_unref(b);

    /* Only our own deadline keeps the future alive: one that failed with
     * SCHED_ETIMEDOUT itself is finished, and ours to drop. */
    if (timed_out)
        return sched__error_set(err, rc, "the future was not ready within %" PRIu64 " ns", ns);
    sched_future_drop(*fut);
    *fut = NULL;
    if (rc == 0 && out)
        *out = v;
    /* A failure with a message of its own is told in its own words. */
    if (rc < 0 && fail_msg)
        sched__error_set(err, rc, "%s", fail_msg);
    else if (rc < 0 && rc != SCHED_EDEADLK && !stopped)
        sched__error_set(err, rc, "the future failed: %s", sched_strerror(rc));
    free(fail_msg);
    return rc > 0 ? SCHED_EINVAL : rc;
}

int sched_block(sched_executor *ex, sched_future *fut, sched_value *out, sched_error **err)
{
    if (err)
        *err = NULL;
    if (!ex) {
        sched_future_drop(fut);
        return sched__error_set(err, SCHED_EINVAL, "sched_block needs an executor");
    }
    if (!fut)
        return sched__error_set(err, SCHED_ENOMEM, "the future could not be allocated");
    return block_on(sched__executor_host(ex, "sched_block"), 0, &fut, SCHED_TIMEOUT_NEVER, out,
                    err);
}

int sched_block_with_timeout(sched_executor *ex, sched_future **fut, uint64_t ns,
                             sched_value *out, sched_error **err)
{
    if (err)
        *err = NULL;
    if (!fut)
        return sched__error_set(err, SCHED_EINVAL, "sched_block_with_timeout needs a future");
    if (!ex) {
        sched_future_drop(*fut);
        *fut = NULL;
        return sched__error_set(err, SCHED_EINVAL, "sched_block_with_timeout needs an executor");
    }
    if (!*fut)
        return sched__error_set(err, SCHED_ENOMEM, "the future could not be allocated");
    return block_on(sched__executor_host(ex, "sched_block_with_timeout"), 0, fut, ns, out, err);
}

int sched_foreground_block_at(sched_foreground_executor *fx, sched_future *fut, sched_value *out,
                              sched_error **err, const sched_site *site)
{
    sched_host *host;
    if (err)
        *err = NULL;
    if (!fx) {
        sched_future_drop(fut);
        return sched__error_set(err, SCHED_EINVAL, "sched_foreground_block needs an executor");
    }
    /* Aborts off the main thread, naming this function and the caller. */
    host = sched__foreground_host(fx, "sched_foreground_block", site);
    if (!fut)
        return sched__error_set(err, SCHED_ENOMEM, "the future could not be allocated");
    return block_on(host, 1, &fut, SCHED_TIMEOUT_NEVER, out, err);
}

/* The function behind the macro, for programs built before it. */
int (sched_foreground_block)(sched_foreground_executor *fx, sched_future *fut, sched_value *out,
                             sched_error **err)
{
    return sched_foreground_block_at(fx, fut, out, err, NULL);
}
