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

#include "task.h"

struct sched__blocker {
    _Atomic uint32_t refs;
    _Atomic uint32_t word;      /* 1 once woken */
    int main;                   /* parks on the host's main parker instead */
    sched_host *host;
    sched_parker parker;
};

static _Atomic uint32_t *blocker_word(struct sched__blocker *b)
{
    return b->main ? &b->host->tasks->main_word : &b->word;
}

static sched_parker *blocker_parker(struct sched__blocker *b)
{
    return b->main ? &b->host->tasks->main_parker : &b->parker;
}

static void unpark(sched_host *host, _Atomic uint32_t *word, sched_parker *p)
{
    atomic_store_explicit(word, 1, memory_order_release);
    if (host->ops.park && host->ops.unpark)
        host->ops.unpark(host->backend, p);
    else
        sched__word_wake_one((uint32_t *)word);
}

void sched__blocker_check(struct sched__blocker *b, const char *func)
{
    if (sched__debug() && atomic_load_explicit(&b->refs, memory_order_relaxed) == SCHED__POISON32)
        sched__misuse(func, "waker %p was used after its last reference was dropped",
                      (void *)((uintptr_t)b | SCHED__WAKER_BLOCK));
}

void sched__blocker_ref(struct sched__blocker *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void sched__blocker_unref(struct sched__blocker *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        sched__host_unref(b->host);
        sched__release(b, sizeof *b);
    }
}

enum { MAIN_IDLE, MAIN_IN_RUN, MAIN_WOKEN };

/* A waker of a blocked call can outlive the call, and the host: once the
 * host is closed there is no backend and no main parker to wake, and
 * nobody waits on the word. */
void sched__blocker_wake(struct sched__blocker *b)
{
    if (sched__host_closing(b->host)) {
        atomic_store_explicit(&b->word, 1, memory_order_release);
        return;
    }
    unpark(b->host, blocker_word(b), blocker_parker(b));
    if (b->main) {
        struct sched__tasks *ts = b->host->tasks;
        /* Only a run this wake is responsible for gets stopped, so no stop
         * is left over for the application's next sched_host_run. */
        if (atomic_load(&ts->main_stop_mode)
            && atomic_exchange(&ts->main_run_state, MAIN_WOKEN) == MAIN_IN_RUN)
            b->host->ops.stop(b->host->backend);
    }
}

/* Run the backend's main loop until the blocked future is woken.  For
 * backends whose main queue has no pollable interface. */
static void run_until_woken(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    int idle = MAIN_IDLE;
    if (atomic_compare_exchange_strong(&ts->main_run_state, &idle, MAIN_IN_RUN))
        host->ops.run(host->backend);
    atomic_store(&ts->main_run_state, MAIN_IDLE);
}

void sched__main_kick(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    if (atomic_load_explicit(&ts->main_waiting, memory_order_acquire))
        unpark(host, &ts->main_word, &ts->main_parker);
}

/* Park until woken, the deadline passes, or the backend proves a deadlock.
 * Returns 0, SCHED_ETIMEDOUT or SCHED_EDEADLK. */
static int park(sched_host *host, struct sched__blocker *b, uint64_t deadline)
{
    _Atomic uint32_t *word = blocker_word(b);
    while (!atomic_load_explicit(word, memory_order_acquire)) {
        uint64_t timeout = SCHED_TIMEOUT_NEVER;
        int rc;
        if (deadline != SCHED_TIMEOUT_NEVER) {
            uint64_t now = sched_host_now(host);
            if (now >= deadline)
                return SCHED_ETIMEDOUT;
            timeout = deadline - now;
        }
        if (host->ops.park && host->ops.unpark)
            rc = host->ops.park(host->backend, blocker_parker(b), timeout);
        else
            rc = sched__word_wait((uint32_t *)word, 0, timeout);
        if (rc == SCHED_EDEADLK)
            return rc;
        /* A simulated backend decides itself when a timed wait gives up. */
        if (rc == SCHED_ETIMEDOUT && sched__simulated(host)
            && !atomic_load_explicit(word, memory_order_acquire))
            return rc;
    }
    return 0;
}

static int deadlock_error(sched_host *host, sched_error **err)
{
    char *tasks;
    size_t need;
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
    sched__error_set(err, SCHED_EDEADLK,
                     "blocked on a future that nothing can wake (backend %s%s); pending tasks:\n%s",
                     host->desc && host->desc->name ? host->desc->name : "?", seed,
                     tasks && need ? tasks : "(none)\n");
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
 * On SCHED_ETIMEDOUT *fut is left live; otherwise it is dropped and NULL.
 */
static int block_on(sched_host *host, int main, sched_future **fut, uint64_t ns,
                    sched_value *out, sched_error **err)
{
    struct sched__blocker *b;
    sched_context cx;
    sched_value v = { 0 };
    uint64_t deadline = SCHED_TIMEOUT_NEVER;
    _Atomic uint32_t *word;
    int rc;

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
    b->main = main && !sched__simulated(host);
    sched__host_ref(host);
    b->host = host;
    word = blocker_word(b);
    cx.host = host;
    cx.waker = (sched_waker *)((uintptr_t)b | SCHED__WAKER_BLOCK);
    cx.task = NULL;
    if (ns != SCHED_TIMEOUT_NEVER) {
        uint64_t now = sched_host_now(host);
        deadline = ns >= SCHED_TIMEOUT_NEVER - now ? SCHED_TIMEOUT_NEVER - 1 : now + ns;
    }
    if (b->main) {
        atomic_store_explicit(&host->tasks->main_waiting, 1, memory_order_release);
        atomic_store(&host->tasks->main_run_state, MAIN_IDLE);
        atomic_store(&host->tasks->main_stop_mode, run_main_available(host) ? 0 : 1);
    }

    for (;;) {
        /* An exchange, not a store: a plain store could land after a wake's
         * word = 1 that this poll did not see (a store buffered past our
         * loads), and we would park through it.  Reading the wake's store
         * orders its data before this poll. */
        atomic_exchange_explicit(word, 0, memory_order_acq_rel);
        rc = sched_future_poll(*fut, &cx, &v);
        if (rc != SCHED_PENDING)
            break;
        if (b->main) {
            int ran = run_main(host);
            if (ran > 0)
                continue;
            if (ran < 0) {
                run_until_woken(host);
                continue;
            }
        }
        rc = park(host, b, deadline);
        if (rc == SCHED_ETIMEDOUT)
            break;
        if (rc == SCHED_EDEADLK) {
            deadlock_error(host, err);
            break;
        }
    }
    if (b->main) {
        atomic_store_explicit(&host->tasks->main_waiting, 0, memory_order_release);
        atomic_store(&host->tasks->main_stop_mode, 0);
    }
    sched__blocker_unref(b);

    if (rc == SCHED_ETIMEDOUT)
        return sched__error_set(err, rc, "the future was not ready within %" PRIu64 " ns", ns);
    sched_future_drop(*fut);
    *fut = NULL;
    if (rc == 0 && out)
        *out = v;
    if (rc < 0 && rc != SCHED_EDEADLK)
        sched__error_set(err, rc, "the future failed: %s", sched_strerror(rc));
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

int sched_foreground_block(sched_foreground_executor *fx, sched_future *fut, sched_value *out,
                           sched_error **err)
{
    sched_host *host;
    if (err)
        *err = NULL;
    if (!fx) {
        sched_future_drop(fut);
        return sched__error_set(err, SCHED_EINVAL, "sched_foreground_block needs an executor");
    }
    host = sched_foreground_executor_host(fx);  /* aborts off the main thread */
    if (!fut)
        return sched__error_set(err, SCHED_ENOMEM, "the future could not be allocated");
    return block_on(host, 1, &fut, SCHED_TIMEOUT_NEVER, out, err);
}
