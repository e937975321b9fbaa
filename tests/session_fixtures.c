/* SPDX-License-Identifier: MIT */
/*
 * tests/session_fixtures.c - test_session's fixtures: a host and context
 * on a config of each test's own, the captured log, and the sleeper.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session_fixtures.h"

sched_host *sess_host;
sched_session_ctx *sess_ctx;

/* Open a host on a config written from text, and a context on it. */
void sess_open_with(const char *text)
{
    char path[] = "/tmp/test_session-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    sched_error *err = NULL;
    int rc = sched_host_open(&sess_host, path, &err);
    unlink(path);
    if (rc != 0)
        fprintf(stderr, "%s\n", sched_error_message(err));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(sched_session_ctx_new(sess_host, &sess_ctx, NULL), 0);
}

void sess_open_cf(int seed, const char *extra)
{
    char text[512];
    snprintf(text, sizeof text,
             "backend = \"cloudflare-sim\";\ncloudflare-sim: { seed = %d; io_wait_ms = 0; %s };\n",
             seed, extra ? extra : "");
    sess_open_with(text);
}

void sess_open_linux(void)
{
    sess_open_with("backend = \"" SCHED_NATIVE_BACKEND "\";\n");
}

void sess_close_all(void)
{
    sched_session_ctx_free(sess_ctx);
    sched_host_close(sess_host);
    sess_ctx = NULL;
    sess_host = NULL;
}

char sess_logged[4096];

void sess_capture_log(int level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    snprintf(sess_logged, sizeof sess_logged, "%s", msg);
}

uint64_t sess_new_session(void)
{
    uint64_t id = 0;
    CU_ASSERT_EQUAL(sched_session_new(sess_ctx, &id, NULL), 0);
    CU_ASSERT(id != 0);
    return id;
}

/* Block on fut with the context's sessions running; its status. */
int sess_block(sched_future *fut, sched_error **err)
{
    return sched_session_block(sess_ctx, fut, NULL, err);
}

int sess_block_for(int64_t ns)
{
    sched_future *d;
    CU_ASSERT_EQUAL_FATAL(sched_session_delay(sess_ctx, ns, &d, NULL), 0);
    return sess_block(d, NULL);
}

sched_future *sess_take(sched_future **f)
{
    sched_future *t = *f;
    *f = NULL;
    return t;
}

/* sleeper: waits a delay, then sets *done. */
struct sleeper {
    sched_coro co;
    sched_future *delay;
    int *done;
    sched_value v;
};

static int sleeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sleeper *st = (struct sleeper *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sess_take(&st->delay), &st->v);
    (*st->done)++;
    SCHED_RETURN(st, out, (sched_value){ .i = 1 });
    SCHED_ASYNC_END(st);
}

static void sleeper_drop(sched_future *f)
{
    struct sleeper *st = (struct sleeper *)f;
    if (st->delay)
        sched_future_drop(st->delay);
    sched_coro_drop_default(f);
}

static const sched_future_ops sleeper_ops = { sleeper_poll, sleeper_drop };

sched_future *sess_sleeper(int64_t ns, int *done)
{
    struct sleeper *st = (struct sleeper *)sched_coro_new(sizeof *st, &sleeper_ops);
    st->delay = sched_timer(sess_host, (uint64_t)ns);
    st->done = done;
    return &st->co.base;
}
