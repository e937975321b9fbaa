/* SPDX-License-Identifier: MIT */
/*
 * core/session.c - execution contexts and per-request sessions.
 *
 * Everything here runs on the host's main thread: sessions live over a
 * foreground executor.  Each task of a session runs inside a small wrapper
 * future that knows its record, so the host tracks which session tasks
 * are still running, and can cancel them, on every backend.  The task core
 * reaches in through two hooks (internal.h): which session a new task
 * belongs to, and whether an await crosses sessions.
 *
 * The backend's rules come from its "sched.session" policy (plugin.h):
 * the wait_until limit and hung requests are session_rules.c's; the timer
 * cap is the backend's own.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

int sched__session_on_main(sched_host *host)
{
    return sched__thread_equal(sched__thread_self(), host->main_thread);
}

/* ---- hooks for the task core ------------------------------------------ */

/* Any thread may call these, but only the main thread reads host->sessions:
 * it alone creates and frees it (sched_host_close frees it while workers
 * may still be polling), so the thread test must come first. */
uint64_t sched__session_current(sched_host *host)
{
    /* A host that never had sessions (the common case) answers without
     * the thread test: only the main thread sets the flag, and it sees
     * its own write. */
    if (host == NULL || !(atomic_load_explicit(&host->sessions_made, memory_order_relaxed) & SCHED__SESSIONS_MADE)
        || !sched__session_on_main(host) || host->sessions == NULL)
        return 0;
    return host->sessions->current;
}

/* The task core's hooks.await_check (hooks.h): SCHED_ECROSS when the
 * policy forbids awaits across sessions and the two differ. */
static int check_await(sched_host *host, uint64_t awaited_session)
{
    /* Every await of a task or timer asks: a host that never had sessions
     * answers without the thread test, as sched__session_current does. */
    if (host == NULL || !(atomic_load_explicit(&host->sessions_made, memory_order_relaxed) & SCHED__SESSIONS_MADE)
        || !sched__session_on_main(host) || host->sessions == NULL)
        return 0;
    struct sched__sessions *s = host->sessions;
    if (s->policy == NULL || !(s->policy->flags & SCHED_SESSION_POLICY_NO_CROSS_AWAIT))
        return 0;
    if (awaited_session == 0 || s->current == 0 || awaited_session == s->current)
        return 0;
    sched__session_rule(host, SCHED_ECROSS,
                        "session %llu awaited a task or timer of session %llu; this backend "
                        "refuses awaits across sessions (requests), so the await failed with "
                        "SCHED_ECROSS", (unsigned long long)s->current,
                        (unsigned long long)awaited_session);
    return SCHED_ECROSS;
}

static struct sched__session *find(sched_session_ctx *ctx, uint64_t id);

/* The policy forbids crossing sessions, host's sessions are readable
 * here, and the task being polled belongs to one. */
static struct sched__sessions *crossing_rules(sched_host *host)
{
    if (host == NULL || !sched__session_on_main(host) || host->sessions == NULL)
        return NULL;
    struct sched__sessions *s = host->sessions;
    if (s->policy == NULL || !(s->policy->flags & SCHED_SESSION_POLICY_NO_CROSS_AWAIT))
        return NULL;
    return s->current != 0 ? s : NULL;
}

int sched__session_check_io(sched_host *host, uint64_t owner, const char *what,
                            sched_error **err)
{
    struct sched__sessions *s = crossing_rules(host);
    if (s == NULL || owner == 0 || owner == s->current)
        return 0;
    sched__session_rule(host, SCHED_ECROSS,
                        "session %llu used %s of session %llu; this backend refuses I/O on "
                        "behalf of another request (\"Cannot perform I/O on behalf of a "
                        "different request\"), so it failed with SCHED_ECROSS",
                        (unsigned long long)s->current, what ? what : "an I/O object",
                        (unsigned long long)owner);
    return sched__error_set(err, SCHED_ECROSS, "%s", s->rule_msg);
}

/* Whether waking a task of session target (on host), from whatever runs
 * now, may go ahead: the continuation of a request that is over is
 * dropped (and a warning names what), as workerd drops a promise
 * continuation whose request is gone.  Non-zero: wake it.  The task
 * core's hooks.wake_ok. */
static int wake_ok(sched_host *host, uint64_t target, const char *what)
{
    struct sched__sessions *s = crossing_rules(host);
    if (s == NULL || target == 0 || target == s->current)
        return 1;
    /* Another request completed it: the continuation runs in the waiter's
     * own request (its lane), unless that request is over. */
    for (sched_session_ctx *ctx = s->ctxs; ctx != NULL; ctx = ctx->next) {
        struct sched__session *t = find(ctx, target);
        if (t == NULL)
            continue;
        if (!t->ended || sched__session_declared_live(t))
            return 1;
        sched__log(SCHED_LOG_WARN,
                   "session %llu completed %s that a task of session %llu awaits, after that "
                   "request ended; the continuation was dropped",
                   (unsigned long long)s->current, what ? what : "a future",
                   (unsigned long long)target);
        return 0;
    }
    return 1;
}

void sched__session_hooks(struct sched__hooks *hooks)
{
    hooks->spawn_session = sched__session_current;
    hooks->await_check = check_await;
    hooks->io_check = sched__session_check_io;
    hooks->wake_ok = wake_ok;
    hooks->host_free = sched__sessions_close;
}

int sched_session_check_io(sched_context *cx, uint64_t owner, const char *what,
                           sched_error **err)
{
    return sched__session_check_io(sched_context_host(cx), owner, what, err);
}

int sched_session_wake(sched_waker *w, const char *what)
{
    if (w == NULL)
        return 0;
    sched_host *host;
    uint64_t target = sched__waker_session(w, &host);
    if (!wake_ok(host, target, what)) {
        sched_waker_drop(w);
        return 0;
    }
    sched_waker_wake(w);
    return 1;
}

void sched__sessions_close(sched_host *host)
{
    const sched_session_policy_iface_v1 *p = host->sessions ? host->sessions->policy : NULL;
    if (SCHED__POLICY_HAS(p, set_idle_hook) && p->set_idle_hook != NULL)
        p->set_idle_hook(p, NULL, NULL);
    free(host->sessions);
    host->sessions = NULL;
}

/* ---- records and the wrapper future ------------------------------------ */

static void rec_unref(struct sched__srec *r)
{
    assert(r->refs > 0);
    if (--r->refs > 0)
        return;
    if (r->waker)
        sched_waker_drop(r->waker);
    free(r->label);
    free(r);
}

/* "task 12 "fetch" spawned at worker.c:40 (handle)" */
int sched__session_rec_describe(const struct sched__srec *r, char *buf, size_t len)
{
    return snprintf(buf, len, "task %llu%s%s%s spawned at %s:%d (%s)",
                    (unsigned long long)r->task_id, r->label ? " \"" : "",
                    r->label ? r->label : "", r->label ? "\"" : "",
                    r->site.file ? r->site.file : "?", r->site.line,
                    r->site.func ? r->site.func : "?");
}

/* A cancelled task takes the work it spawned into its session with it
 * (not what it declared with wait_until, which outlives it by design). */
static void cancel_children(struct sched__srec *r)
{
    struct sched__session *s = r->ctx ? find(r->ctx, r->session) : NULL;
    if (s == NULL || r->task_id == 0)
        return;
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i]->parent == r->task_id && !s->recs[i]->declared)
            sched__session_rec_cancel(s->recs[i], SCHED_ECANCELED);
}

/* The record's task stopped running; tell a drain waiting for it. */
static void rec_finish(struct sched__srec *r, enum sched__srec_state state)
{
    if (r->state != SCHED__REC_LIVE)
        return;
    r->state = state;
    if (r->waker) {
        sched_waker_drop(r->waker);
        r->waker = NULL;
    }
    if (state == SCHED__REC_CANCELLED)
        cancel_children(r);
    if (r->declared && r->ctx != NULL)
        sched__session_declared_done(r);
    if (r->ctx && r->ctx->drain_waker)
        sched_waker_wake_by_ref(r->ctx->drain_waker);
}

struct wrapper {
    sched_future base;
    sched_future *inner;
    struct sched__srec *rec;
};

/* Poll the session's future with its session current, so that whatever
 * it spawns or awaits is attributed to it. */
static int wrapper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct wrapper *w = (struct wrapper *)f;
    struct sched__srec *r = w->rec;
    if (r->cancel) {
        rec_finish(r, SCHED__REC_CANCELLED);
        return r->cancel_code;
    }
    struct sched__sessions *s = sched_context_host(cx)->sessions;
    uint64_t prev = s->current;
    struct sched__srec *prev_rec = s->running;
    int timed = r->ctx != NULL && SCHED__POLICY_HAS(s->policy, cpu_limit_ns)
                && s->policy->cpu_limit_ns != 0;
    uint64_t cpu0 = timed ? sched__thread_cpu_ns() : 0;
    s->current = r->session;
    s->running = r;
    int rc = sched_future_poll(w->inner, cx, out);
    s->current = prev;
    s->running = prev_rec;
    if (timed && sched__session_charge(r, sched__thread_cpu_ns() - cpu0)) {
        /* Past the limit in this very poll: a real isolate would have been
         * stopped inside it, so whatever it produced never existed. */
        if (rc == SCHED_PENDING) {
            rec_finish(r, SCHED__REC_CANCELLED);
            return SCHED_ECPU;
        }
        rc = SCHED_ECPU;
    }
    if (rc == SCHED_PENDING) {
        sched_waker *wk = sched_waker_clone(sched_context_waker(cx));
        if (r->waker)
            sched_waker_drop(r->waker);
        r->waker = wk;
        return rc;
    }
    if (rc < 0 && r->declared) {
        /* As workerd logs a rejected waitUntil promise: nobody awaits it. */
        char name[512];
        sched__session_rec_describe(r, name, sizeof name);
        sched__log(SCHED_LOG_WARN, "session %llu: wait_until work failed: %s: %s",
                   (unsigned long long)r->session, name, sched_strerror(rc));
    }
    rec_finish(r, SCHED__REC_DONE);
    return rc;
}

static void wrapper_drop(sched_future *f)
{
    struct wrapper *w = (struct wrapper *)f;
    sched_future_drop(w->inner);
    rec_finish(w->rec, SCHED__REC_CANCELLED);
    rec_unref(w->rec);
    free(w);
}

static const sched_future_ops wrapper_ops = { wrapper_poll, wrapper_drop };

/* Ask a live record's task to stop: it fails with code at its next poll,
 * which the wake brings about.  The first reason given wins. */
void sched__session_rec_cancel(struct sched__srec *r, int code)
{
    if (r->state != SCHED__REC_LIVE || r->cancel)
        return;
    r->cancel = 1;
    r->cancel_code = code;
    if (r->waker)
        sched_waker_wake_by_ref(r->waker);
}

/* ---- contexts and sessions ---------------------------------------------- */

int sched__session_wrong_thread(sched_session_ctx *ctx, const char *what, sched_error **err)
{
    char self[64], owner[64];
    sched__thread_describe(sched__thread_self(), self, sizeof self);
    sched__thread_describe(ctx->host->main_thread, owner, sizeof owner);
    return sched__error_set(err, SCHED_EWRONGTHREAD,
                            "%s was called on %s, but sessions belong to the host's main "
                            "thread, %s", what, self, owner);
}

static struct sched__sessions *host_sessions(sched_host *host)
{
    if (host->sessions != NULL)
        return host->sessions;
    struct sched__sessions *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->next_id = 1;
    const sched_session_policy_iface_v1 *p =
        host->ops.query ? host->ops.query(host->backend, "sched.session", 1) : NULL;
    if (p != NULL && p->size >= offsetof(sched_session_policy_iface_v1, cpu_limit_ns))
        s->policy = p;
    if (SCHED__POLICY_HAS(s->policy, set_idle_hook) && s->policy->set_idle_hook != NULL
        && SCHED__POLICY_HAS(s->policy, pending_timers) && s->policy->pending_timers != NULL
        && (s->policy->flags & SCHED_SESSION_POLICY_ABORT_HUNG))
        s->policy->set_idle_hook(s->policy, sched__session_on_idle, host);
    const char *seed = sched__secure_getenv("SCHED_SEED");
    sched_prng_seed(&s->rng, seed ? strtoull(seed, NULL, 0) : sched__mono_ns());
    host->sessions = s;
    atomic_fetch_or_explicit(&host->sessions_made, SCHED__SESSIONS_MADE, memory_order_relaxed);
    return s;
}

int sched_session_ctx_new(sched_host *host, sched_session_ctx **out, sched_error **err)
{
    if (out == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_session_ctx_new: out is NULL");
    *out = NULL;
    if (host == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_session_ctx_new: the host is NULL");
    sched_session_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory creating a session context");
    ctx->host = host;
    if (!sched__session_on_main(host)) {
        int rc = sched__session_wrong_thread(ctx, "sched_session_ctx_new", err);
        free(ctx);
        return rc;
    }
    int rc = host_sessions(host) ? sched_foreground_executor_new(host, &ctx->fx) : SCHED_ENOMEM;
    if (rc != 0) {
        free(ctx);
        return sched__error_set(err, rc, "cannot create the session context's executor: %s",
                                sched_strerror(rc));
    }
    ctx->next = host->sessions->ctxs;
    host->sessions->ctxs = ctx;
    *out = ctx;
    return 0;
}

/* Cancel what still runs, then forget every session.  Wrappers that
 * outlive the context keep their records alive and see ctx as gone.
 * The executor goes first, but for leaving the host's list on the main
 * thread: from any other thread freeing it is the documented
 * foreground-executor abort, before anything is touched. */
void sched_session_ctx_free(sched_session_ctx *ctx)
{
    if (ctx == NULL)
        return;
    /* Leave the host's list first: freeing the executor may free a closed
     * host (after sched_host_close its session state, list and all, is
     * gone already).  Off the main thread the free below aborts. */
    if (sched__session_on_main(ctx->host) && ctx->host->sessions != NULL)
        for (sched_session_ctx **p = &ctx->host->sessions->ctxs; *p != NULL; p = &(*p)->next)
            if (*p == ctx) {
                *p = ctx->next;
                break;
            }
    sched_foreground_executor_free(ctx->fx);
    for (size_t i = 0; i < ctx->nsessions; i++) {
        struct sched__session *s = ctx->sessions[i];
        if (s->watchdog)
            sched_task_free(s->watchdog);   /* unfinished: cancelled */
        for (size_t j = 0; j < s->nrecs; j++) {
            sched__session_rec_cancel(s->recs[j], SCHED_ECANCELED);
            s->recs[j]->ctx = NULL;
            rec_unref(s->recs[j]);
        }
        free(s->recs);
        free(s);
    }
    free(ctx->sessions);
    free(ctx);
}

sched_foreground_executor *sched_session_ctx_executor(sched_session_ctx *ctx)
{
    return ctx ? ctx->fx : NULL;
}

static struct sched__session *find(sched_session_ctx *ctx, uint64_t id)
{
    for (size_t i = 0; i < ctx->nsessions; i++)
        if (ctx->sessions[i]->id == id)
            return ctx->sessions[i];
    return NULL;
}

/* The session id names for what, or a SCHED_ESESSION sentence. */
int sched__session_lookup(sched_session_ctx *ctx, uint64_t id, int allow_ended, const char *what,
                          struct sched__session **out, sched_error **err)
{
    struct sched__session *s = find(ctx, id);
    if (s == NULL)
        return sched__error_set(err, SCHED_ESESSION, "%s: there is no session %llu in this context",
                                what, (unsigned long long)id);
    if (s->ended && !allow_ended)
        return sched__error_set(err, SCHED_ESESSION, "%s: session %llu has already ended", what,
                                (unsigned long long)id);
    *out = s;
    return 0;
}

int sched_session_new(sched_session_ctx *ctx, uint64_t *id, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_new", err);
    if (id == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_session_new: id is NULL");
    if (ctx->nsessions == ctx->capsessions) {
        size_t cap = ctx->capsessions ? ctx->capsessions * 2 : 8;
        struct sched__session **n = realloc(ctx->sessions, cap * sizeof *n);
        if (n == NULL)
            return sched__error_set(err, SCHED_ENOMEM, "out of memory starting a session");
        ctx->sessions = n;
        ctx->capsessions = cap;
    }
    struct sched__session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory starting a session");
    s->id = ctx->host->sessions->next_id++;
    ctx->sessions[ctx->nsessions++] = s;
    *id = s->id;
    return 0;
}

int sched_session_enter(sched_session_ctx *ctx, uint64_t id, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_enter", err);
    struct sched__session *s;
    int rc = sched__session_lookup(ctx, id, 0, "sched_session_enter", &s, err);
    if (rc == 0)
        ctx->host->sessions->current = id;
    return rc;
}

int sched_session_leave(sched_session_ctx *ctx, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_leave", err);
    ctx->host->sessions->current = 0;
    return 0;
}

uint64_t sched_session_current(sched_session_ctx *ctx)
{
    return ctx ? sched__session_current(ctx->host) : 0;
}

/* Spawn fut in session s, wrapped; consumes fut.  The session is made
 * current around the spawn so the task core tags the task with it. */
static int spawn_in(sched_session_ctx *ctx, struct sched__session *s, sched_future *fut,
                    const char *label, const sched_site *site, int declared, sched_task **out,
                    sched_error **err)
{
    struct sched__srec *r = calloc(1, sizeof *r);
    struct wrapper *w = malloc(sizeof *w);
    char *lcopy = label ? strdup(label) : NULL;
    int grow = s->nrecs == s->caprecs;
    size_t cap = grow ? (s->caprecs ? s->caprecs * 2 : 8) : s->caprecs;
    struct sched__srec **recs = grow ? realloc(s->recs, cap * sizeof *recs) : s->recs;
    if (recs != NULL && grow) {
        s->recs = recs;
        s->caprecs = cap;
    }
    if (r == NULL || w == NULL || (label && lcopy == NULL) || recs == NULL) {
        free(r);
        free(w);
        free(lcopy);
        sched_future_drop(fut);
        return sched__error_set(err, SCHED_ENOMEM, "out of memory spawning into session %llu",
                                (unsigned long long)s->id);
    }
    r->refs = 2;    /* the session and the wrapper */
    r->declared = declared;
    r->session = s->id;
    r->label = lcopy;
    r->sess = s;
    r->parent = ctx->host->sessions->running ? ctx->host->sessions->running->task_id : 0;
    if (site)
        r->site = *site;
    r->ctx = ctx;
    w->base.ops = &wrapper_ops;
    w->inner = fut;
    w->rec = r;
    s->recs[s->nrecs++] = r;

    struct sched__sessions *ss = ctx->host->sessions;
    uint64_t prev = ss->current;
    ss->current = s->id;
    sched_task *t = NULL;
    /* The task keeps the label pointer: hand it the record's copy. */
    int rc = sched_foreground_spawn_at(ctx->fx, &w->base, r->label, site, &t);
    ss->current = prev;
    if (rc != 0)
        return sched__error_set(err, rc, "cannot spawn into session %llu: %s",
                                (unsigned long long)s->id, sched_strerror(rc));
    r->task_id = sched_task_id(t);
    if (out)
        *out = t;
    else
        sched_task_detach(t);
    return 0;
}

/* The session a spawn names: id, or the current one when id is 0. */
static int target(sched_session_ctx *ctx, uint64_t id, const char *what, struct sched__session **s,
                  sched_error **err)
{
    if (id == 0) {
        id = ctx->host->sessions->current;
        if (id == 0)
            return sched__error_set(err, SCHED_ENOSESSION,
                                    "%s: no session is current (enter one with "
                                    "sched_session_enter, or call it from a session's task)",
                                    what);
    }
    return sched__session_lookup(ctx, id, 0, what, s, err);
}

int sched_session_spawn_at(sched_session_ctx *ctx, uint64_t id, sched_future *fut,
                           const char *label, const sched_site *site, sched_task **out,
                           sched_error **err)
{
    if (out)
        *out = NULL;
    int rc = SCHED_EINVAL;
    struct sched__session *s = NULL;
    if (ctx == NULL)
        rc = sched__error_set(err, rc, "sched_session_spawn: the context is NULL");
    else if (fut == NULL)
        rc = sched__error_set(err, rc, "sched_session_spawn: the future is NULL");
    else if (!sched__session_on_main(ctx->host))
        rc = sched__session_wrong_thread(ctx, "sched_session_spawn", err);
    else
        rc = target(ctx, id, "sched_session_spawn", &s, err);
    if (rc != 0) {
        if (fut)
            sched_future_drop(fut);
        return rc;
    }
    return spawn_in(ctx, s, fut, label, site, 0, out, err);
}

/* Is the caller declared work of the current session?  As in Workers,
 * such work may declare more after the response. */
static int declared_caller(sched_session_ctx *ctx)
{
    const struct sched__sessions *ss = ctx->host->sessions;
    return ss->running != NULL && ss->running->declared && ss->current != 0
           && ss->running->session == ss->current;
}

int sched_session_wait_until_at(sched_session_ctx *ctx, sched_future *fut, const char *label,
                                const sched_site *site, sched_error **err)
{
    int rc = SCHED_EINVAL;
    struct sched__session *s = NULL;
    if (ctx == NULL)
        rc = sched__error_set(err, rc, "sched_session_wait_until: the context is NULL");
    else if (fut == NULL)
        rc = sched__error_set(err, rc, "sched_session_wait_until: the future is NULL");
    else if (!sched__session_on_main(ctx->host))
        rc = sched__session_wrong_thread(ctx, "sched_session_wait_until", err);
    else if (declared_caller(ctx))
        rc = sched__session_lookup(ctx, ctx->host->sessions->current, 1,
                                   "sched_session_wait_until", &s, err);
    else
        rc = target(ctx, 0, "sched_session_wait_until", &s, err);
    if (rc != 0) {
        if (fut)
            sched_future_drop(fut);
        return rc;
    }
    return spawn_in(ctx, s, fut, label, site, 1, NULL, err);
}

/* ---- delays --------------------------------------------------------------- */

int sched_session_delay(sched_session_ctx *ctx, int64_t ns, sched_future **out, sched_error **err)
{
    if (out == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_session_delay: out is NULL");
    *out = NULL;
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_delay", err);
    if (ns < 0)
        return sched__error_set(err, SCHED_EINVAL,
                                "sched_session_delay: the delay %lld ns is negative",
                                (long long)ns);
    *out = sched_timer(ctx->host, (uint64_t)ns);
    if (*out == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory creating a delay");
    return 0;
}

/* The backend's "sched.test" interface, for its PRNG; NULL when it has
 * none. */
static const sched_test_iface_v1 *backend_test(sched_host *host)
{
    return host->ops.query ? host->ops.query(host->backend, "sched.test", 1) : NULL;
}

/* Uniform in [0, span) from the backend's seeded PRNG, or the host's own. */
static uint64_t draw(sched_host *host, uint64_t span)
{
    const sched_test_iface_v1 *t = backend_test(host);
    if (t != NULL && t->rng != NULL)
        return (uint64_t)(((__uint128_t)t->rng(host->backend) * span) >> 64);
    return sched_prng_below(&host->sessions->rng, span);
}

int sched_session_delay_range(sched_session_ctx *ctx, int64_t min_ns, int64_t max_ns,
                              sched_future **out, sched_error **err)
{
    if (out == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_session_delay_range: out is NULL");
    *out = NULL;
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_delay_range", err);
    if (min_ns < 0 || max_ns < 0)
        return sched__error_set(err, SCHED_EINVAL,
                                "sched_session_delay_range: the range [%lld, %lld] ns has a "
                                "negative bound", (long long)min_ns, (long long)max_ns);
    if (min_ns > max_ns)
        return sched__error_set(err, SCHED_EINVAL,
                                "sched_session_delay_range: the range [%lld, %lld] ns is inverted "
                                "(min > max)", (long long)min_ns, (long long)max_ns);
    uint64_t span = (uint64_t)(max_ns - min_ns) + 1;
    uint64_t ns = (uint64_t)min_ns + draw(ctx->host, span);
    *out = sched_timer(ctx->host, ns);
    if (*out == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory creating a delay");
    return 0;
}

struct yields {
    sched_future base;
    uint32_t left;
};

/* Pending, woken at once, `left` times; then ready. */
static int yields_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct yields *y = (struct yields *)f;
    if (y->left == 0) {
        out->i = 0;
        return 0;
    }
    y->left--;
    sched_waker_wake_by_ref(sched_context_waker(cx));
    return SCHED_PENDING;
}

static void yields_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops yields_ops = { yields_poll, yields_drop };

sched_future *sched_session_pass_through(sched_session_ctx *ctx)
{
    if (ctx == NULL)
        return NULL;
    struct yields *y = malloc(sizeof *y);
    if (y == NULL)
        return NULL;
    y->base.ops = &yields_ops;
    y->left = 1;
    const sched_test_iface_v1 *t = backend_test(ctx->host);
    if (t != NULL && t->random_yields != NULL)
        y->left += t->random_yields(ctx->host->backend);
    return &y->base;
}

/* ---- cleanup ------------------------------------------------------------- */

/* Append "task ..." descriptions of s's live tasks (declared or not, as
 * asked) to buf; returns how many. */
size_t sched__session_describe_live(const struct sched__session *s, int declared, char *buf,
                                    size_t len)
{
    size_t n = 0, used = strlen(buf);
    for (size_t i = 0; i < s->nrecs; i++) {
        const struct sched__srec *r = s->recs[i];
        /* Undeclared work cancelled at the request's end is still reported. */
        int shown = r->state == SCHED__REC_LIVE || (declared == 0 && r->dangling);
        if (!shown || (declared >= 0 && r->declared != declared))
            continue;
        if (n > 0 && used + 2 < len) {
            strcpy(buf + used, "; ");
            used += 2;
        }
        if (used < len) {
            int w = sched__session_rec_describe(r, buf + used, len - used);
            used += w > 0 ? (size_t)w : 0;
            if (used < len && r->dangling) {
                w = snprintf(buf + used, len - used, ", cancelled when the request ended");
                used += w > 0 ? (size_t)w : 0;
            }
            if (used >= len)
                used = len - 1;
        }
        n++;
    }
    return n;
}

int sched_session_validate_cleanup(sched_session_ctx *ctx, uint64_t id, sched_error **err)
{
    SCHED__SESSION_CHECK_CTX(ctx, "sched_session_validate_cleanup", err);
    struct sched__session *s;
    int rc = sched__session_lookup(ctx, id, 1, "sched_session_validate_cleanup", &s, err);
    if (rc != 0)
        return rc;
    char names[4096] = "";
    size_t n = sched__session_describe_live(s, 0, names, sizeof names);
    if (n == 0)
        return 0;
    return sched__error_set(err, SCHED_EDANGLING,
                            "session %llu cleanup failed: %zu task%s still running %s not "
                            "declared with wait_until: %s",
                            (unsigned long long)id, n, n == 1 ? "" : "s", n == 1 ? "was" : "were",
                            names);
}
