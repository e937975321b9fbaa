/* SPDX-License-Identifier: MIT */
/*
 * core/executor.c - background and foreground executors: thin handles that
 * spawn onto a host.  Tasks do not belong to the executor that spawned
 * them: freeing an executor leaves its tasks running.  Each executor holds
 * a reference to its host, so that using or freeing it after
 * sched_host_close finds a closed host, not freed memory.
 */
#include "config.h"

#include <stdlib.h>

#include "executor.h"

/* magic is checked in debug mode only; a freed executor reads poison. */
#define EX_MAGIC 0x45786563u    /* "Exec" */
#define FX_MAGIC 0x46786563u    /* "Fxec" */

struct sched_executor {
    uint32_t magic;
    sched_host *host;
};

struct sched_foreground_executor {
    uint32_t magic;
    sched_host *host;
    uint64_t id;
};

static void check_ex(const sched_executor *ex, const char *func)
{
    if (sched__debug() && ex->magic != EX_MAGIC)
        sched__misuse(func, "executor %p was already freed", (const void *)ex);
}

static void check_fx(const sched_foreground_executor *fx, const char *func)
{
    if (sched__debug() && fx->magic != FX_MAGIC)
        sched__misuse(func, "foreground executor %p was already freed", (const void *)fx);
}

sched_host *sched__executor_host(sched_executor *ex, const char *func)
{
    check_ex(ex, func);
    return ex->host;
}

int sched_executor_new(sched_host *host, sched_executor **out)
{
    sched_executor *ex;
    if (!out)
        return SCHED_EINVAL;
    *out = NULL;
    if (!host)
        return SCHED_EINVAL;
    if (sched__host_closing(host))
        return SCHED_ECLOSED;
    ex = malloc(sizeof *ex);
    if (!ex)
        return SCHED_ENOMEM;
    sched__host_ref(host);
    ex->magic = EX_MAGIC;
    ex->host = host;
    *out = ex;
    return 0;
}

void sched_executor_free(sched_executor *ex)
{
    if (!ex)
        return;
    check_ex(ex, "sched_executor_free");
    ex->magic = 0;
    sched__host_unref(ex->host);
    sched__release(ex, sizeof *ex);
}

sched_host *sched_executor_host(sched_executor *ex)
{
    return ex ? sched__executor_host(ex, "sched_executor_host") : NULL;
}

/* Everything sched_executor_spawn_at does not hand straight to the
 * compact path: a missing executor, debug mode's handle check, a handle,
 * a label, a future other than a function's. */
static __attribute__((noinline)) int spawn_at_slow(sched_executor *ex, sched_future *fut,
                                                   const char *label, sched_priority prio,
                                                   const sched_site *site, sched_task **out)
{
    if (!ex) {
        if (out)
            *out = NULL;
        sched_future_drop(fut);
        return SCHED_EINVAL;
    }
    check_ex(ex, "sched_executor_spawn_at");
    if (fut && fut->ops == &sched__fn_future_ops && !out && !label)
        return sched__task_spawn_fn(ex->host, fut, prio, site);
    return sched__task_spawn(ex->host, fut, label, prio, site, 0, out);
}

/* The commonest spawn, a detached unlabelled function outside debug mode
 * (which checks the handle: a mode not read yet goes the slow way, which
 * reads it), goes straight to the compact path. */
int sched_executor_spawn_at(sched_executor *ex, sched_future *fut, const char *label,
                            sched_priority prio, const sched_site *site, sched_task **out)
{
    if (ex && fut && fut->ops == &sched__fn_future_ops && !out && !label
        && atomic_load_explicit(&sched__debug_mode, memory_order_relaxed) == 0)
        return sched__task_spawn_fn(ex->host, fut, prio, site);
    return spawn_at_slow(ex, fut, label, prio, site, out);
}

/* ---- foreground ------------------------------------------------------------ */

static _Atomic uint64_t fg_ids = 1;

int sched_foreground_executor_new(sched_host *host, sched_foreground_executor **out)
{
    sched_foreground_executor *fx;
    if (!out)
        return SCHED_EINVAL;
    *out = NULL;
    if (!host)
        return SCHED_EINVAL;
    if (sched__host_closing(host))
        return SCHED_ECLOSED;
    if (!sched__thread_equal(sched__thread_self(), host->main_thread))
        return SCHED_EWRONGTHREAD;
    fx = malloc(sizeof *fx);
    if (!fx)
        return SCHED_ENOMEM;
    sched__host_ref(host);
    fx->magic = FX_MAGIC;
    fx->host = host;
    fx->id = atomic_fetch_add_explicit(&fg_ids, 1, memory_order_relaxed);
    *out = fx;
    return 0;
}

void sched_foreground_executor_free(sched_foreground_executor *fx)
{
    if (!fx)
        return;
    check_fx(fx, "sched_foreground_executor_free");
    sched__foreground_check(fx->host, "sched_foreground_executor_free called", NULL);
    fx->magic = 0;
    sched__host_unref(fx->host);
    sched__release(fx, sizeof *fx);
}

sched_host *sched_foreground_executor_host(sched_foreground_executor *fx)
{
    if (!fx)
        return NULL;
    check_fx(fx, "sched_foreground_executor_host");
    sched__foreground_check(fx->host, "sched_foreground_executor_host called", NULL);
    return fx->host;
}

sched_host *sched__foreground_host(sched_foreground_executor *fx, const char *func,
                                   const sched_site *site)
{
    check_fx(fx, func);
    sched__foreground_call_check(fx->host, func, site);
    return fx->host;
}

uint64_t sched_foreground_executor_id(const sched_foreground_executor *fx)
{
    if (!fx)
        return 0;
    check_fx(fx, "sched_foreground_executor_id");
    return fx->id;
}

int sched_foreground_spawn_at(sched_foreground_executor *fx, sched_future *fut,
                              const char *label, const sched_site *site, sched_task **out)
{
    if (!fx) {
        if (out)
            *out = NULL;
        sched_future_drop(fut);
        return SCHED_EINVAL;
    }
    check_fx(fx, "sched_foreground_spawn_at");
    sched__foreground_check(fx->host, "sched_foreground_spawn called", site);
    return sched__task_spawn(fx->host, fut, label, SCHED_PRIORITY_MEDIUM, site, fx->id, out);
}
