/* SPDX-License-Identifier: MIT */
/*
 * core/hostref.c - the references that keep a host's memory alive past
 * sched_host_close.
 *
 * An executor, a foreground executor or a blocked call's waker can
 * outlive the host; each holds a reference, so that what it does after
 * the close finds a closed host (SCHED_ECLOSED) instead of freed memory.
 * The holders are in the layers above the task core, so the count is
 * kept here, below them all; what a higher layer keeps in the host until
 * its memory goes, it frees from its hooks.host_free.
 */
#include "config.h"

#include <stdlib.h>

#include "internal.h"

void sched__host_ref(sched_host *host)
{
    atomic_fetch_add_explicit(&host->refs, 1, memory_order_relaxed);
}

void sched__host_unref(sched_host *host)
{
    if (atomic_fetch_sub_explicit(&host->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (host->hooks.host_free != NULL)
        host->hooks.host_free(host);
    sched__release(host, sizeof *host);
}
