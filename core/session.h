/* SPDX-License-Identifier: MIT */
/*
 * core/session.h - the session layer's private layout, shared by
 * session.c (contexts, sessions, tracking, cleanup) and session_rules.c
 * (the end of a request: the wait_until limit, hung requests).
 *
 * Everything here is touched on the host's main thread only.
 */
#ifndef SCHED_CORE_SESSION_H
#define SCHED_CORE_SESSION_H

#include "internal.h"
#include "sched/session.h"
#include "../plugins/common/prng.h"

/* Per host: shared by its contexts, touched on the main thread only. */
struct sched__sessions {
    uint64_t current;       /* the session being polled or entered; 0: none */
    uint64_t next_id;
    const sched_session_policy_iface_v1 *policy;    /* NULL: no rules */
    sched_prng rng;         /* delays, on backends without a PRNG of their own */
    struct sched__srec *running;    /* the session task being polled, or NULL */
    struct sched_session_ctx *ctxs; /* every context of the host, for the idle hook */
    /* The last sentence a rule failed something with (hangs accumulate),
     * for sched_session_block's error; rule_gen counts them. */
    char rule_msg[4096];
    int rule_code;
    uint64_t rule_gen;
};

enum sched__srec_state { SCHED__REC_LIVE, SCHED__REC_DONE, SCHED__REC_CANCELLED };

/* One task of a session.  Shared by the session (until the context is
 * freed) and the task's wrapper future (until it is dropped). */
struct sched__srec {
    int refs;
    enum sched__srec_state state;
    int declared;           /* spawned by wait_until */
    int cancel;             /* the wrapper must stop at its next poll... */
    int cancel_code;        /* ...failing with this (SCHED_ECANCELED, SCHED_EHUNG, ...) */
    uint64_t task_id;
    uint64_t parent;        /* the session task that spawned it, or 0 */
    int dangling;           /* undeclared, cancelled because its request ended */
    struct sched__session *sess;    /* its session (freed with the context) */
    uint64_t session;
    char *label;
    sched_site site;
    sched_waker *waker;     /* of the last pending poll */
    struct sched_session_ctx *ctx;  /* NULL once the context is freed */
};

struct sched__session {
    uint64_t id;
    int ended;
    struct sched__srec **recs;
    size_t nrecs, caprecs;
    sched_task *watchdog;   /* cancels declared work past the limit */
    uint64_t cpu_ns;        /* CPU time its tasks' polls took */
    int aborted;            /* by a rule: hung, or over its CPU limit */
};

struct sched_session_ctx {
    sched_host *host;
    sched_foreground_executor *fx;
    struct sched__session **sessions;
    size_t nsessions, capsessions;
    sched_waker *drain_waker;   /* sched_session_block waiting for aborted tasks */
    struct sched_session_ctx *next; /* in the host's list */
};

/* Non-zero on the host's main thread, where sessions live. */
int sched__session_on_main(sched_host *host);
/* The SCHED_EWRONGTHREAD sentence for what, naming both threads. */
int sched__session_wrong_thread(sched_session_ctx *ctx, const char *what, sched_error **err);
/* Fail a public call made with a NULL context or off the main thread. */
#define SCHED__SESSION_CHECK_CTX(ctx, what, err)                                      \
    do {                                                                            \
        if ((ctx) == NULL)                                                          \
            return sched__error_set((err), SCHED_EINVAL, "%s: the context is NULL", \
                                    (what));                                        \
        if (!sched__session_on_main((ctx)->host))                                   \
            return sched__session_wrong_thread((ctx), (what), (err));               \
    } while (0)

/* The session id names for what, or a SCHED_ESESSION sentence (an ended
 * session only when allow_ended). */
int sched__session_lookup(sched_session_ctx *ctx, uint64_t id, int allow_ended, const char *what,
                          struct sched__session **out, sched_error **err);
/* Ask a live task of a session to stop: it fails with code (SCHED_ECANCELED,
 * SCHED_EHUNG, ...) at its next poll, which the wake brings about. */
void sched__session_rec_cancel(struct sched__srec *r, int code);
/* "task 12 "fetch" spawned at worker.c:40 (handle)"; as snprintf. */
int sched__session_rec_describe(const struct sched__srec *r, char *buf, size_t len);
/* Append "task ..." descriptions of s's live tasks to buf (declared: 1
 * only declared ones, 0 only undeclared ones and those cancelled at the
 * request's end, -1 all live ones); how many. */
size_t sched__session_describe_live(const struct sched__session *s, int declared, char *buf,
                                    size_t len);

/* session_rules.c */
/* The backend's idle hook (sched.session set_idle_hook): abort, as hung,
 * each session nothing pending can wake.  arg is the host. */
int sched__session_on_idle(void *arg, int stalled);
/* A poll of r's task took cpu_ns of CPU time: charge its session, and
 * abort the session past the backend's limit.  Non-zero when r's own
 * result must become SCHED_ECPU. */
int sched__session_charge(struct sched__srec *r, uint64_t cpu_ns);
/* Does s still run declared work? */
int sched__session_declared_live(const struct sched__session *s);
/* Record the sentence a rule failed something with (and log it). */
void sched__session_rule(sched_host *host, int code, const char *fmt, ...) SCHED__PRINTF(3, 4);
/* A declared task of an ended session finished: if it was the last,
 * the request is over. */
void sched__session_declared_done(struct sched__srec *r);
/* The policy's appended fields, NULL/0 when the backend's is too old. */
#define SCHED__POLICY_HAS(p, field)                                             \
    ((p) != NULL && (p)->size >= offsetof(sched_session_policy_iface_v1, field) \
                                     + sizeof((p)->field))

#endif
