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

#include "task.h"

struct sched_executor {
    sched_host *host;
};

struct sched_foreground_executor {
    sched_host *host;
    uint64_t id;
};

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
    ex->host = host;
    *out = ex;
    return 0;
}

void sched_executor_free(sched_executor *ex)
{
    if (!ex)
        return;
    sched__host_unref(ex->host);
    free(ex);
}

sched_host *sched_executor_host(sched_executor *ex)
{
    return ex ? ex->host : NULL;
}

int sched_executor_spawn_at(sched_executor *ex, sched_future *fut, const char *label,
                            sched_priority prio, const sched_site *site, sched_task **out)
{
    if (!ex) {
        if (out)
            *out = NULL;
        sched_future_drop(fut);
        return SCHED_EINVAL;
    }
    return sched__task_spawn(ex->host, fut, label, prio, site, 0, out);
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
    fx->host = host;
    fx->id = atomic_fetch_add_explicit(&fg_ids, 1, memory_order_relaxed);
    *out = fx;
    return 0;
}

void sched_foreground_executor_free(sched_foreground_executor *fx)
{
    if (!fx)
        return;
    sched__foreground_check(fx->host, "sched_foreground_executor_free called", NULL);
    sched__host_unref(fx->host);
    free(fx);
}

sched_host *sched_foreground_executor_host(sched_foreground_executor *fx)
{
    if (!fx)
        return NULL;
    sched__foreground_check(fx->host, "sched_foreground_executor_host called", NULL);
    return fx->host;
}

uint64_t sched_foreground_executor_id(const sched_foreground_executor *fx)
{
    return fx ? fx->id : 0;
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
    sched__foreground_check(fx->host, "sched_foreground_spawn called", site);
    return sched__task_spawn(fx->host, fut, label, SCHED_PRIORITY_MEDIUM, site, fx->id, out);
}
