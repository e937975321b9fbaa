/* SPDX-License-Identifier: MIT */
/*
 * sched/session.h - execution contexts and per-request sessions.
 *
 * Server code runs each request as a session.  Work spawned while handling
 * a request belongs to it; work meant to outlive the response is declared
 * with sched_session_wait_until(); anything else still running when the
 * request has ended is a bug, and sched_session_validate_cleanup() names
 * it (task id, label, spawn site).  Sessions live in the host, over a
 * foreground executor, and work on every backend; a backend may add rules
 * of its own (cloudflare-sim imposes the Workers runtime's: see
 * sched-cloudflare-sim(7)).
 *
 * Every function here belongs to the host's main thread: called from
 * another thread it fails with SCHED_EWRONGTHREAD (it does not abort).
 * See sched_session(3).
 */
#ifndef SCHED_SESSION_H
#define SCHED_SESSION_H

#include <sched/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An execution context: a foreground executor and the sessions run on it. */
typedef struct sched_session_ctx sched_session_ctx;

/* Create a context on the host's main thread.  SCHED_EWRONGTHREAD from any
 * other thread, SCHED_EINVAL, SCHED_ENOMEM. */
int sched_session_ctx_new(sched_host *host, sched_session_ctx **out, sched_error **err);
/* Free the context: work still running in its sessions is cancelled. */
void sched_session_ctx_free(sched_session_ctx *ctx);
sched_foreground_executor *sched_session_ctx_executor(sched_session_ctx *ctx);

/* Start a session (a request); *id is never 0 and unique in the host. */
int sched_session_new(sched_session_ctx *ctx, uint64_t *id, sched_error **err);
/* Make id the current session of the main thread (unknown or ended id:
 * SCHED_ESESSION); leave makes none current. */
int sched_session_enter(sched_session_ctx *ctx, uint64_t id, sched_error **err);
int sched_session_leave(sched_session_ctx *ctx, sched_error **err);
/* The current session: the one entered, or, while one of a session's
 * tasks is being polled, that task's session.  0 when none. */
uint64_t sched_session_current(sched_session_ctx *ctx);

/*
 * Spawn fut on the context's executor as a task of session id (0: the
 * current session).  Always takes ownership of fut.  out NULL detaches the
 * task.  label is copied (it lives as long as the context).  SCHED_ENOSESSION when id is 0 and no session is current,
 * SCHED_ESESSION when id is unknown or has ended.
 */
int sched_session_spawn_at(sched_session_ctx *ctx, uint64_t id, sched_future *fut,
                           const char *label, const sched_site *site, sched_task **out,
                           sched_error **err);

#define sched_session_spawn(ctx, fut, out, err) \
    sched_session_spawn_at((ctx), 0, (fut), NULL, SCHED_HERE, (out), (err))
#define sched_session_spawn_labeled(ctx, fut, label, out, err) \
    sched_session_spawn_at((ctx), 0, (fut), (label), SCHED_HERE, (out), (err))
#define sched_session_spawn_in(ctx, id, fut, out, err) \
    sched_session_spawn_at((ctx), (id), (fut), NULL, SCHED_HERE, (out), (err))

/*
 * ctx.waitUntil(): spawn fut, detached, in the current session as work
 * declared to outlive the response.  Takes ownership of fut.
 * SCHED_ENOSESSION with no current session, SCHED_ESESSION when it has
 * ended.
 */
int sched_session_wait_until_at(sched_session_ctx *ctx, sched_future *fut, const char *label,
                                const sched_site *site, sched_error **err);

#define sched_session_wait_until(ctx, fut, err) \
    sched_session_wait_until_at((ctx), (fut), NULL, SCHED_HERE, (err))
#define sched_session_wait_until_labeled(ctx, fut, label, err) \
    sched_session_wait_until_at((ctx), (fut), (label), SCHED_HERE, (err))

/* A future ready after ns of the host's clock.  Negative ns: SCHED_EINVAL. */
int sched_session_delay(sched_session_ctx *ctx, int64_t ns, sched_future **out,
                        sched_error **err);
/* A future ready after a delay drawn from [min_ns, max_ns], by the
 * backend's seeded PRNG when it has one.  Negative or inverted bounds:
 * SCHED_EINVAL. */
int sched_session_delay_range(sched_session_ctx *ctx, int64_t min_ns, int64_t max_ns,
                              sched_future **out, sched_error **err);
/* A future that yields through the loop once, plus the backend's random
 * delay where it has one.  NULL when out of memory. */
sched_future *sched_session_pass_through(sched_session_ctx *ctx);

/*
 * The response is sent: the session ends.  Its declared work may run on
 * (until the backend's wait_until limit, if any, after which it is
 * cancelled and the cancellation logged).  SCHED_ESESSION when unknown or
 * already ended.
 */
int sched_session_end(sched_session_ctx *ctx, uint64_t id, sched_error **err);

/*
 * The cross-request rule for an awaitable of the application's own (an
 * I/O object).  Record sched_session_current() when it is made, as owner;
 * call sched_session_check_io from its poll: 0, or, on a backend that
 * refuses I/O across requests (cloudflare-sim), SCHED_ECROSS when the
 * task polling it belongs to another session, with the sentence (naming
 * what, e.g. "a socket") logged and in *err.  Complete it with
 * sched_session_wake instead of sched_waker_wake: the waiter's
 * continuation runs in the waiter's own request, or, when that request is
 * over and another completed it, is dropped with a warning.  Consumes w;
 * 1 when woken, 0 when dropped.
 */
int sched_session_check_io(sched_context *cx, uint64_t owner, const char *what,
                           sched_error **err);
int sched_session_wake(sched_waker *w, const char *what);

/*
 * The client went away: cancel every task of session id still running
 * (its handler, what that spawned, and its wait_until work) and end it.
 * Its tasks fail with SCHED_ECANCELED at their next poll; an ended
 * session may be aborted too.  SCHED_ESESSION when id is unknown.
 */
int sched_session_abort(sched_session_ctx *ctx, uint64_t id, sched_error **err);

/*
 * 0 when every task of session id still running was declared with
 * sched_session_wait_until; else SCHED_EDANGLING and a sentence naming each
 * undeclared task still running: id, label and spawn site.
 * SCHED_ESESSION when id is unknown.
 */
int sched_session_validate_cleanup(sched_session_ctx *ctx, uint64_t id, sched_error **err);

/*
 * Block on fut, running the context's sessions meanwhile (consumes fut).
 * As sched_foreground_block(), except that on a backend that aborts hung
 * requests, each session nothing pending can wake is aborted (its tasks
 * fail with SCHED_EHUNG) and the call fails with SCHED_EHUNG, the sentence
 * naming, per session, the tasks it was waiting on.  When fut fails with
 * the code of a rule that struck while blocking (SCHED_EHUNG, SCHED_ECPU,
 * SCHED_ECROSS), the error carries that rule's sentence.
 */
int sched_session_block(sched_session_ctx *ctx, sched_future *fut, sched_value *out,
                        sched_error **err);

#ifdef __cplusplus
}
#endif

#endif
