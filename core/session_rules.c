/* SPDX-License-Identifier: MIT */
/*
 * core/session_rules.c - the end of a request, and the backend's rules for
 * it: sched_session_end arms the wait_until limit (a watchdog task that
 * cancels declared work still running past it, and logs each task), and
 * sched_session_block turns a backend's proof that nothing can wake the
 * blocked work (SCHED_EDEADLK) into SCHED_EHUNG, naming and aborting what
 * each request was waiting on.  Both only where the backend's
 * "sched.session" policy asks for them.  Main thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* The sentence a rule failed something with: logged, and kept for
 * sched_session_block's error (hung sessions accumulate, since one idle
 * moment may abort several). */
void sched__session_rule(sched_host *host, int code, const char *fmt, ...)
{
    struct sched__sessions *ss = host->sessions;
    char line[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sched__log(SCHED_LOG_ERROR, "%s", line);
    size_t used = ss->rule_code == code && code == SCHED_EHUNG ? strlen(ss->rule_msg) : 0;
    snprintf(ss->rule_msg + used, sizeof ss->rule_msg - used, "%s%s", used ? "; " : "", line);
    ss->rule_code = code;
    ss->rule_gen++;
}

/* ---- the end of a request: production's cancellation --------------------- */

/* Does s still run declared work? */
int sched__session_declared_live(const struct sched__session *s)
{
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i]->declared && s->recs[i]->state == SCHED__REC_LIVE)
            return 1;
    return 0;
}

/* s's request is over (ended, no declared work left): as a real isolate
 * does, cancel the undeclared work still running, say what it was, and
 * keep it for sched_session_validate_cleanup's report. */
static void cancel_undeclared(sched_session_ctx *ctx, struct sched__session *s)
{
    const sched_session_policy_iface_v1 *p = ctx->host->sessions->policy;
    if (p == NULL || !(p->flags & SCHED_SESSION_POLICY_CANCEL_UNDECLARED))
        return;
    char names[2048] = "";
    size_t n = 0, used = 0;
    for (size_t i = 0; i < s->nrecs; i++) {
        struct sched__srec *r = s->recs[i];
        if (r->declared || r->state != SCHED__REC_LIVE || r->dangling)
            continue;
        used = strlen(names);
        if (n++ > 0 && used + 2 < sizeof names)
            strcpy(names + used, "; "), used += 2;
        sched__session_rec_describe(r, names + used, sizeof names - used);
    }
    if (n == 0)
        return;
    for (size_t i = 0; i < s->nrecs; i++) {
        struct sched__srec *r = s->recs[i];
        if (!r->declared && r->state == SCHED__REC_LIVE && !r->dangling) {
            r->dangling = 1;
            sched__session_rec_cancel(r, SCHED_ECANCELED);
        }
    }
    sched__log(SCHED_LOG_WARN,
               "session %llu: its request ended with %zu undeclared task%s still running, "
               "cancelled as production cancels them: %s",
               (unsigned long long)s->id, n, n == 1 ? "" : "s", names);
}

void sched__session_declared_done(struct sched__srec *r)
{
    struct sched__session *s = r->sess;
    if (r->ctx->host->sessions == NULL)
        return;     /* the host is closed: nothing runs any more */
    if (s != NULL && s->ended && !sched__session_declared_live(s))
        cancel_undeclared(r->ctx, s);
}

/* The wait_until limit passed: cancel what session s declared and still
 * runs, and log each task cancelled. */
static void expire_declared(sched_session_ctx *ctx, struct sched__session *s)
{
    char names[2048] = "";
    size_t n = sched__session_describe_live(s, 1, names, sizeof names);
    if (n == 0)
        return;
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i]->declared)
            sched__session_rec_cancel(s->recs[i], SCHED_ECANCELED);
    sched__log(SCHED_LOG_WARN,
               "session %llu: wait_until work still running %llu ms after the response "
               "was cancelled: %s",
               (unsigned long long)s->id,
               (unsigned long long)(ctx->host->sessions->policy->wait_until_limit_ns / 1000000u),
               names);
}

struct watchdog {
    sched_coro co;
    sched_session_ctx *ctx;
    struct sched__session *s;
    sched_future *timer;    /* until awaited */
    sched_value v;
};

static sched_future *take(sched_future **f)
{
    sched_future *t = *f;
    *f = NULL;
    return t;
}

/* The watchdog is the runtime's, not a request's: it runs outside every
 * session, whichever one the main thread has entered. */
static int watchdog_body(struct watchdog *st, sched_context *cx, sched_value *out)
{
    SCHED_ASYNC_BEGIN(st);
    SCHED_AWAIT(st, take(&st->timer), &st->v);
    if (st->co.rc == 0)
        expire_declared(st->ctx, st->s);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static int watchdog_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct watchdog *st = (struct watchdog *)f;
    struct sched__sessions *ss = st->ctx->host->sessions;
    uint64_t prev = ss->current;
    ss->current = 0;
    int rc = watchdog_body(st, cx, out);
    ss->current = prev;
    return rc;
}

static void watchdog_drop(sched_future *f)
{
    struct watchdog *st = (struct watchdog *)f;
    if (st->timer)
        sched_future_drop(st->timer);
    sched_coro_drop_default(f);
}

static const sched_future_ops watchdog_ops = { watchdog_poll, watchdog_drop };

/* Arm the wait_until limit of an ended session that still has declared
 * work; the watchdog runs outside every session. */
static int arm_watchdog(sched_session_ctx *ctx, struct sched__session *s, sched_error **err)
{
    const sched_session_policy_iface_v1 *p = ctx->host->sessions->policy;
    char none[1] = "";
    if (p == NULL || p->wait_until_limit_ns == 0)
        return 0;
    if (sched__session_describe_live(s, 1, none, 1) == 0)
        return 0;
    /* The limit's timer belongs to no request either. */
    struct sched__sessions *ss = ctx->host->sessions;
    uint64_t prev = ss->current;
    ss->current = 0;
    struct watchdog *st = (struct watchdog *)sched_coro_new(sizeof *st, &watchdog_ops);
    sched_future *timer = st ? sched_timer(ctx->host, p->wait_until_limit_ns) : NULL;
    if (timer == NULL) {
        ss->current = prev;
        if (st)
            sched_future_drop(&st->co.base);
        return sched__error_set(err, SCHED_ENOMEM, "out of memory arming the wait_until limit");
    }
    st->ctx = ctx;
    st->s = s;
    st->timer = timer;
    int rc = sched_foreground_spawn_at(ctx->fx, &st->co.base, "wait_until limit", SCHED_HERE,
                                       &s->watchdog);
    ss->current = prev;
    if (rc != 0)
        return sched__error_set(err, rc, "cannot arm the wait_until limit of session %llu: %s",
                                (unsigned long long)s->id, sched_strerror(rc));
    return 0;
}

int sched_session_end(sched_session_ctx *ctx, uint64_t id, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_end", err);
    struct sched__session *s;
    int rc = sched__session_lookup(ctx, id, 0, "sched_session_end", &s, err);
    if (rc != 0)
        return rc;
    s->ended = 1;
    if (ctx->host->sessions->current == id)
        ctx->host->sessions->current = 0;
    if (!sched__session_declared_live(s))
        cancel_undeclared(ctx, s);
    return arm_watchdog(ctx, s, err);
}

int sched_session_abort(sched_session_ctx *ctx, uint64_t id, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_abort", err);
    struct sched__session *s;
    int rc = sched__session_lookup(ctx, id, 1, "sched_session_abort", &s, err);
    if (rc != 0)
        return rc;
    s->ended = 1;
    if (ctx->host->sessions->current == id)
        ctx->host->sessions->current = 0;
    for (size_t i = 0; i < s->nrecs; i++)
        sched__session_rec_cancel(s->recs[i], SCHED_ECANCELED);
    return 0;
}

/* ---- CPU time ------------------------------------------------------------------ */

int sched__session_charge(struct sched__srec *r, uint64_t cpu_ns)
{
    struct sched__session *s = r->sess;
    const sched_session_policy_iface_v1 *p = r->ctx->host->sessions->policy;
    s->cpu_ns += cpu_ns;
    if (s->aborted || s->cpu_ns <= p->cpu_limit_ns)
        return 0;
    s->aborted = 1;
    char name[512];
    sched__session_rec_describe(r, name, sizeof name);
    sched__session_rule(r->ctx->host, SCHED_ECPU,
                        "session %llu exceeded its CPU time limit of %llu ms (its tasks used "
                        "%llu ms) while %s was running, and was aborted",
                        (unsigned long long)s->id,
                        (unsigned long long)(p->cpu_limit_ns / 1000000u),
                        (unsigned long long)(s->cpu_ns / 1000000u), name);
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i] != r)
            sched__session_rec_cancel(s->recs[i], SCHED_ECPU);
    return 1;
}

/* ---- hung requests --------------------------------------------------------- */

/* Has s live work not already being cancelled? */
static int runs(const struct sched__session *s)
{
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i]->state == SCHED__REC_LIVE && !s->recs[i]->cancel)
            return 1;
    return 0;
}

static void abort_as_hung(sched_session_ctx *ctx, struct sched__session *s)
{
    char names[2048] = "";
    sched__session_describe_live(s, -1, names, sizeof names);
    sched__session_rule(ctx->host, SCHED_EHUNG,
                        "session %llu hung (nothing pending can ever wake it) and was aborted; "
                        "it was waiting on %s", (unsigned long long)s->id, names);
    s->aborted = 1;
    for (size_t j = 0; j < s->nrecs; j++)
        sched__session_rec_cancel(s->recs[j], SCHED_EHUNG);
}

/*
 * The loop has nothing ready.  As workerd counts each request's pending
 * events, a session is hung when none of its timers is armed, unless the
 * program outside every session still waits on a timer of its own (it may
 * go on to wake the session; the wait_until limits' timers are the
 * runtime's and do not count).  Stalled (no timer at all, no wake from
 * outside), every session still running is hung.
 */
int sched__session_on_idle(void *arg, int stalled)
{
    sched_host *host = arg;
    struct sched__sessions *ss = host->sessions;
    const sched_session_policy_iface_v1 *p = ss->policy;
    if (!stalled) {
        uint64_t limits = 0;
        for (sched_session_ctx *ctx = ss->ctxs; ctx != NULL; ctx = ctx->next)
            for (size_t i = 0; i < ctx->nsessions; i++)
                if (ctx->sessions[i]->watchdog != NULL
                    && !sched_task_is_finished(ctx->sessions[i]->watchdog))
                    limits++;
        if (p->pending_timers(p, 0) > limits)
            return 0;
    }
    int made = 0;
    for (sched_session_ctx *ctx = ss->ctxs; ctx != NULL; ctx = ctx->next)
        for (size_t i = 0; i < ctx->nsessions; i++) {
            struct sched__session *s = ctx->sessions[i];
            if (!runs(s) || (!stalled && p->pending_timers(p, s->id) != 0))
                continue;
            abort_as_hung(ctx, s);
            made = 1;
        }
    return made;
}

/* Ready once no cancelled task of the context is still live. */
static int drain_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    sched_session_ctx *ctx = *(sched_session_ctx **)(f + 1);
    for (size_t i = 0; i < ctx->nsessions; i++)
        for (size_t j = 0; j < ctx->sessions[i]->nrecs; j++) {
            const struct sched__srec *r = ctx->sessions[i]->recs[j];
            if (r->state == SCHED__REC_LIVE && r->cancel) {
                if (ctx->drain_waker == NULL)
                    ctx->drain_waker = sched_waker_clone(sched_context_waker(cx));
                return SCHED_PENDING;
            }
        }
    out->i = 0;
    return 0;
}

static void drain_drop(sched_future *f)
{
    sched_session_ctx *ctx = *(sched_session_ctx **)(f + 1);
    if (ctx->drain_waker) {
        sched_waker_drop(ctx->drain_waker);
        ctx->drain_waker = NULL;
    }
    free(f);
}

static const sched_future_ops drain_ops = { drain_poll, drain_drop };

/* The backend proved nothing can wake the blocked work: name, per session
 * with work still running, the tasks it was waiting on, abort them, and
 * wait for the cancellations to land. */
static int abort_hung(sched_session_ctx *ctx, sched_error **err)
{
    char msg[4096] = "";
    size_t hung = 0;
    for (size_t i = 0; i < ctx->nsessions; i++) {
        struct sched__session *s = ctx->sessions[i];
        char names[2048] = "";
        if (sched__session_describe_live(s, -1, names, sizeof names) == 0)
            continue;
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof msg - used,
                 "%ssession %llu hung (nothing pending can ever wake it) and was aborted; "
                 "it was waiting on %s",
                 hung ? "; " : "", (unsigned long long)s->id, names);
        for (size_t j = 0; j < s->nrecs; j++)
            sched__session_rec_cancel(s->recs[j], SCHED_EHUNG);
        s->aborted = 1;
        hung++;
    }
    if (hung == 0)
        return 0;
    sched_future *drain = malloc(sizeof(sched_future) + sizeof(sched_session_ctx *));
    if (drain != NULL) {
        drain->ops = &drain_ops;
        *(sched_session_ctx **)(drain + 1) = ctx;
        sched_foreground_block(ctx->fx, drain, NULL, NULL);
    }
    return sched__error_set(err, SCHED_EHUNG, "%s", msg);
}

int sched_session_block(sched_session_ctx *ctx, sched_future *fut, sched_value *out,
                        sched_error **err)
{
    if (ctx == NULL || fut == NULL || !sched__session_on_main(ctx->host)) {
        int rc = ctx == NULL || fut == NULL
                     ? sched__error_set(err, SCHED_EINVAL, "sched_session_block: %s is NULL",
                                        ctx == NULL ? "the context" : "the future")
                     : sched__session_wrong_thread(ctx, "sched_session_block", err);
        if (fut)
            sched_future_drop(fut);
        return rc;
    }
    struct sched__sessions *ss = ctx->host->sessions;
    const sched_session_policy_iface_v1 *p = ss->policy;
    ss->rule_msg[0] = '\0';
    ss->rule_code = 0;
    uint64_t gen = ss->rule_gen;
    sched_error *e = NULL;
    int rc = sched_foreground_block(ctx->fx, fut, out, &e);
    if (rc == SCHED_EDEADLK && p != NULL && (p->flags & SCHED_SESSION_POLICY_ABORT_HUNG)) {
        if (ss->rule_gen != gen && ss->rule_code == SCHED_EHUNG) {
            rc = SCHED_EHUNG;   /* the idle hook aborted them, one by one */
        } else if (!SCHED__POLICY_HAS(p, set_idle_hook) || p->set_idle_hook == NULL) {
            int hung = abort_hung(ctx, err);
            if (hung != 0) {
                if (e != NULL)
                    sched_error_free(e);
                return hung;
            }
        }
    }
    /* Failed by a rule: the error carries the rule's own sentence. */
    if (rc < 0 && ss->rule_gen != gen && rc == ss->rule_code) {
        if (e != NULL)
            sched_error_free(e);
        return sched__error_set(err, rc, "%s", ss->rule_msg);
    }
    if (rc < 0 && err != NULL)
        *err = e;
    else if (e != NULL)
        sched_error_free(e);
    return rc;
}
