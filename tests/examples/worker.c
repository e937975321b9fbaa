/* SPDX-License-Identifier: MIT */
/*
 * worker - a small server that handles concurrent requests as sessions.
 *
 *   worker [--fixed] CONFIG
 *
 * Three requests arrive at once.  Each handler waits on a simulated fetch
 * and answers; request 2 also sends analytics that must outlive its
 * response.  As written, that analytics task is spawned into the request
 * but neither awaited nor declared with wait_until: the leak that a
 * Workers runtime silently cancels.  After each response the program
 * validates the request's cleanup and reports what leaked, by spawn site;
 * --fixed declares the analytics with wait_until instead, and every
 * request passes.
 *
 * The program is the same on every backend; CONFIG alone chooses it
 * (cloudflare-sim for the Workers rules and virtual time, linux for real
 * threads and clocks).  Exit status: 0 when every request cleaned up, 1
 * when one leaked, 2 on any other error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>
#include <sched/session.h>

#define MS 1000000LL
#define NREQUESTS 3

static int analytics_sent;

static sched_future *take(sched_future **f)
{
    sched_future *t = *f;
    *f = NULL;
    return t;
}

/* The analytics beacon: half a second of I/O, then it is sent. */
struct analytics {
    sched_coro co;
    sched_session_ctx *ctx;
    sched_future *delay;
    int request;
    sched_value v;
};

static int analytics_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct analytics *st = (struct analytics *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, take(&st->delay), &st->v);
    analytics_sent++;
    printf("analytics for request %d sent\n", st->request);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static void analytics_drop(sched_future *f)
{
    struct analytics *st = (struct analytics *)f;
    if (st->delay)
        sched_future_drop(st->delay);
    sched_coro_drop_default(f);
}

static const sched_future_ops analytics_ops = { analytics_poll, analytics_drop };

static sched_future *analytics_new(sched_session_ctx *ctx, int request)
{
    struct analytics *st = (struct analytics *)sched_coro_new(sizeof *st, &analytics_ops);
    if (st == NULL)
        return NULL;
    st->ctx = ctx;
    st->request = request;
    if (sched_session_delay(ctx, 500 * MS, &st->delay, NULL) != 0) {
        sched_future_drop(&st->co.base);
        return NULL;
    }
    return &st->co.base;
}

/* One request: fetch (1-5 ms), let other requests through, answer. */
struct handler {
    sched_coro co;
    sched_session_ctx *ctx;
    sched_future *fetch;
    int request;
    int fixed;
    sched_value v;
};

static int handle_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct handler *st = (struct handler *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, take(&st->fetch), &st->v);
    SCHED_TRY_AWAIT(st, sched_session_pass_through(st->ctx), &st->v);
    if (st->request == 2) {
        sched_future *beacon = analytics_new(st->ctx, st->request);
        if (beacon == NULL)
            SCHED_FAIL(st, SCHED_ENOMEM);
        int rc = st->fixed
                     ? sched_session_wait_until_labeled(st->ctx, beacon, "analytics", NULL)
                     : sched_session_spawn_labeled(st->ctx, beacon, "analytics", NULL, NULL);
        if (rc != 0)
            SCHED_FAIL(st, rc);
    }
    SCHED_RETURN(st, out, (sched_value){ .i = 200 });
    SCHED_ASYNC_END(st);
}

static void handle_drop(sched_future *f)
{
    struct handler *st = (struct handler *)f;
    if (st->fetch)
        sched_future_drop(st->fetch);
    sched_coro_drop_default(f);
}

static const sched_future_ops handle_ops = { handle_poll, handle_drop };

static sched_future *handler_new(sched_session_ctx *ctx, int request, int fixed)
{
    struct handler *st = (struct handler *)sched_coro_new(sizeof *st, &handle_ops);
    if (st == NULL)
        return NULL;
    st->ctx = ctx;
    st->request = request;
    st->fixed = fixed;
    if (sched_session_delay_range(ctx, 1 * MS, 5 * MS, &st->fetch, NULL) != 0) {
        sched_future_drop(&st->co.base);
        return NULL;
    }
    return &st->co.base;
}

static int fail(const char *what, sched_error *err)
{
    fprintf(stderr, "worker: %s: %s\n", what, err ? sched_error_message(err) : "failed");
    sched_error_free(err);
    return 2;
}

/* Serve the requests; 0 when all cleaned up, 1 when one leaked. */
static int serve(sched_host *host, sched_session_ctx *ctx, int fixed)
{
    sched_error *err = NULL;
    uint64_t id[NREQUESTS];
    sched_future *joins[NREQUESTS];
    for (int i = 0; i < NREQUESTS; i++) {
        sched_task *t;
        char label[32];
        snprintf(label, sizeof label, "request %d", i + 1);
        if (sched_session_new(ctx, &id[i], &err) != 0)
            return fail("starting a request", err);
        if (sched_session_spawn_at(ctx, id[i], handler_new(ctx, i + 1, fixed), label, SCHED_HERE,
                                   &t, &err) != 0)
            return fail("spawning a handler", err);
        joins[i] = sched_task_join(t);
    }
    sched_value v;
    if (sched_session_block(ctx, sched_all(joins, NREQUESTS), &v, &err) != 0)
        return fail("handling the requests", err);
    free(v.ptr);
    printf("%d responses sent\n", NREQUESTS);

    int leaked = 0;
    for (int i = 0; i < NREQUESTS; i++) {
        if (sched_session_end(ctx, id[i], &err) != 0)
            return fail("ending a request", err);
        if (sched_session_validate_cleanup(ctx, id[i], &err) != 0) {
            printf("request %d: %s\n", i + 1, sched_error_message(err));
            sched_error_free(err);
            err = NULL;
            leaked = 1;
        } else {
            printf("request %d: clean\n", i + 1);
        }
    }

    /* Let the work that outlives the responses finish. */
    sched_future *grace;
    if (sched_session_delay(ctx, 1000 * MS, &grace, &err) != 0 ||
        sched_session_block(ctx, grace, NULL, &err) != 0)
        return fail("waiting for background work", err);
    printf("%d analytics beacon%s sent\n", analytics_sent, analytics_sent == 1 ? "" : "s");
    (void)host;
    return leaked;
}

int main(int argc, char **argv)
{
    int fixed = 0;
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fixed") == 0)
            fixed = 1;
        else
            config = argv[i];
    }
    if (config == NULL) {
        fprintf(stderr, "usage: worker [--fixed] CONFIG\n");
        return 2;
    }
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, config, &err) != 0)
        return fail("opening the host", err);
    printf("backend: %s\n", sched_host_backend_name(host));
    sched_session_ctx *ctx;
    if (sched_session_ctx_new(host, &ctx, &err) != 0) {
        sched_host_close(host);
        return fail("creating the context", err);
    }
    int rc = serve(host, ctx, fixed);
    sched_session_ctx_free(ctx);
    sched_host_close(host);
    return rc;
}
