/* SPDX-License-Identifier: MIT */
/*
 * core/failure.c - failures with a message of their own.  A poll records
 * the message in its context (sched_context_fail); the poller keeps it
 * only if the poll returns the code it was recorded for
 * (sched__context_take_failure): a task stores it for its joiner
 * (task.c), sched_block puts it in its error (block.c), and a failure
 * nobody can join any more is logged here.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "task.h"

/* Formatted before the old message is freed: the arguments may quote it
 * (wrapping an awaited failure's message in one's own). */
int sched_context_fail(sched_context *cx, int code, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    int n;

    if (code >= 0)
        return SCHED_EINVAL;
    if (!cx)
        return code;
    if (fmt) {
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n >= 0 && (msg = malloc((size_t)n + 1))) {
            va_start(ap, fmt);
            vsnprintf(msg, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    free(cx->fail_msg);
    cx->fail_msg = msg;         /* NULL when out of memory: the code alone */
    cx->fail_code = code;
    return code;
}

const char *sched_context_fail_message(sched_context *cx)
{
    return cx ? cx->fail_msg : NULL;
}

char *sched__context_take_failure(sched_context *cx, int rc)
{
    char *msg = cx->fail_msg;
    cx->fail_msg = NULL;
    if (msg && (rc >= 0 || rc != cx->fail_code)) {
        free(msg);
        msg = NULL;
    }
    return msg;
}

/* A task nobody can join failed with a message: say so, as nobody else
 * will. */
void sched__log_unseen_failure(const struct sched_task *t, const char *msg)
{
    const sched_site *site = t->site;
    sched__log(SCHED_LOG_WARN, "detached task %" PRIu64 "%s%s%s spawned at %s:%d in %s() failed: %s",
               t->id, t->b.label ? " \"" : "", t->b.label ? t->b.label : "",
               t->b.label ? "\"" : "", site && site->file ? site->file : "(unknown)",
               site ? site->line : 0, site && site->func ? site->func : "(unknown)", msg);
}
