/*
 * core/session.c - execution contexts and per-request sessions.
 *
 * Everything here runs on the host's main thread: sessions live over a
 * foreground executor.  The task core reaches in through two hooks
 * (internal.h): which session a new task belongs to, and whether an await
 * crosses sessions.
 */
#include <stdlib.h>

#include "internal.h"

struct sched__sessions {
    uint64_t current;       /* the session being polled or entered; 0: none */
    const sched_session_policy_iface_v1 *policy;    /* NULL: no rules */
};

static int on_main_thread(sched_host *host)
{
    return sched__thread_equal(sched__thread_self(), host->main_thread);
}

uint64_t sched__session_current(sched_host *host)
{
    if (host == NULL || !on_main_thread(host) || host->sessions == NULL)
        return 0;
    return host->sessions->current;
}

int sched__session_check_await(sched_host *host, uint64_t awaited_session)
{
    if (host == NULL || !on_main_thread(host) || host->sessions == NULL)
        return 0;
    struct sched__sessions *s = host->sessions;
    if (s->policy == NULL || !(s->policy->flags & SCHED_SESSION_POLICY_NO_CROSS_AWAIT))
        return 0;
    if (awaited_session == 0 || s->current == 0 || awaited_session == s->current)
        return 0;
    return SCHED_ECROSS;
}

void sched__sessions_close(sched_host *host)
{
    free(host->sessions);
    host->sessions = NULL;
}
