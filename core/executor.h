/* SPDX-License-Identifier: MIT */
/*
 * core/executor.h - what executor.c shares with block.c, the other file
 * of its layer (executors and blocking, core/README).
 */
#ifndef SCHED_EXECUTOR_H
#define SCHED_EXECUTOR_H

#include "task.h"

/* ex's host; in debug mode a freed ex aborts naming func. */
sched_host *sched__executor_host(sched_executor *ex, const char *func);
/* fx's host, after the foreground affinity check on behalf of func
 * (sched__foreground_call_check, at site). */
sched_host *sched__foreground_host(sched_foreground_executor *fx, const char *func,
                                   const sched_site *site);

#endif
