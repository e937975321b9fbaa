/* SPDX-License-Identifier: MIT */
/*
 * tests/man_errors.c - the obvious misuse of each section-3 page's
 * functions, through the public API of libsched.so only.  For every call
 * it prints "PAGE FUNCTION CODE", the code the library really returned;
 * test_man_errors.sh checks that the page's ERRORS section lists it.  A
 * misuse that does not fail is itself a failure (exit 1).
 *
 * argv[1] is a scratch directory: config files are written there.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>
#include <sched/session.h>
#include <sched/test.h>

static const char *dir;
static int failed;

static const char *code_name(int rc)
{
    static const char *const names[] = {
        "0", "SCHED_EINVAL", "SCHED_ENOMEM", "SCHED_ENOENT", "SCHED_ECONFIG", "SCHED_ELOAD",
        "SCHED_ECLOSED", "SCHED_ETIMEDOUT", "SCHED_ECANCELED", "SCHED_EDEADLK",
        "SCHED_EWRONGTHREAD", "SCHED_ENOSESSION", "SCHED_ESESSION", "SCHED_EDANGLING",
        "SCHED_ECROSS", "SCHED_ELIMIT", "SCHED_ENOTSUP", "SCHED_EHUNG", "SCHED_EBACKEND",
        "SCHED_EAGAIN", "SCHED_ECPU", "SCHED_EEMPTY",
    };
    if (rc <= 0 && -rc < (int)(sizeof names / sizeof names[0]))
        return names[-rc];
    return "(not a SCHED_E* code)";
}

/* Record what a misuse returned; it must be a failure. */
static void got(const char *page, const char *func, int rc)
{
    if (rc >= 0) {
        fprintf(stderr, "%s: %s returned %d for a misuse\n", page, func, rc);
        failed = 1;
        return;
    }
    printf("%s %s %s\n", page, func, code_name(rc));
}

static const char *conf(const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        perror(path);
        exit(99);
    }
    return path;
}

static sched_host *open_or_die(const char *config)
{
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, config, &err) != 0) {
        fprintf(stderr, "cannot open a host: %s\n", sched_error_message(err));
        exit(99);
    }
    return host;
}

static void host_open(void)
{
    sched_host *host;
    char text[4200];

    got("sched_host_open.3", "sched_host_open", sched_host_open(NULL, NULL, NULL));
    snprintf(text, sizeof text, "%s/absent.conf", dir);
    got("sched_host_open.3", "sched_host_open", sched_host_open(&host, text, NULL));
    got("sched_host_open.3", "sched_host_open",
        sched_host_open(&host, conf("syntax.conf", "backend = ;\n"), NULL));
    got("sched_host_open.3", "sched_host_open",
        sched_host_open(&host, conf("unknown.conf", "backend = \"linux\";\nnosuchkey = 1;\n"), NULL));
    got("sched_host_open.3", "sched_host_open",
        sched_host_open(&host, conf("nobackend.conf", "backend = \"nosuch\";\n"), NULL));
    /* A backend name that cannot be a file name is a config error. */
    got("sched_host_open.3", "sched_host_open",
        sched_host_open(&host, conf("badname.conf", "backend = \"Bad/Name\";\n"), NULL));
    /* A file that is not a shared object, where the config looks. */
    snprintf(text, sizeof text, "backend = \"junk\";\nplugin_path = [ \"%s\" ];\n", dir);
    conf("junk.so", "not a shared object\n");
    char *env = getenv("SCHED_PLUGIN_PATH") ? strdup(getenv("SCHED_PLUGIN_PATH")) : NULL;
    unsetenv("SCHED_PLUGIN_PATH");      /* it would replace plugin_path */
    got("sched_host_open.3", "sched_host_open", sched_host_open(&host, conf("junk.conf", text), NULL));
    if (env != NULL)
        setenv("SCHED_PLUGIN_PATH", env, 1);
    free(env);

    got("sched_host_open.3", "sched_host_run", sched_host_run(NULL));
    got("sched_host_open.3", "sched_host_poll_fd", sched_host_poll_fd(NULL, NULL));
    got("sched_host_open.3", "sched_host_dispatch", sched_host_dispatch(NULL));
}

struct off_main {
    sched_host *host;
    int run, fx_new;
};

static void *call_off_main(void *arg)
{
    struct off_main *o = arg;
    sched_foreground_executor *fx;
    o->run = sched_host_run(o->host);
    o->fx_new = sched_foreground_executor_new(o->host, &fx);
    return NULL;
}

static void wrong_thread(sched_host *host)
{
    struct off_main o = { host, 0, 0 };
    pthread_t th;
    if (pthread_create(&th, NULL, call_off_main, &o) != 0 || pthread_join(th, NULL) != 0) {
        fprintf(stderr, "cannot start a thread\n");
        exit(99);
    }
    got("sched_host_open.3", "sched_host_run", o.run);
    got("sched_executor_new.3", "sched_foreground_executor_new", o.fx_new);
}

static int positive(void *arg, sched_context *cx, sched_value *out)
{
    (void)arg, (void)cx, (void)out;
    return 5;
}

static int fail_positive(void *arg, sched_context *cx, sched_value *out)
{
    (void)out;
    *(int *)arg = sched_context_fail(cx, 5, "not a failure");
    return 0;
}

static void futures(sched_executor *ex)
{
    int failrc = 0;
    got("sched_future.3", "sched_future_poll", sched_future_poll(NULL, NULL, NULL));
    sched_block(ex, sched_future_try_fn(fail_positive, &failrc, NULL), NULL, NULL);
    got("sched_future.3", "sched_context_fail", failrc);
    got("sched_future_fn.3", "sched_any", sched_block(ex, sched_any(NULL, 0, NULL), NULL, NULL));
    got("sched_future_fn.3", "sched_future_try_fn",
        sched_block(ex, sched_future_try_fn(positive, NULL, NULL), NULL, NULL));
    got("sched_timer.3", "sched_timer", sched_block(ex, sched_timer(NULL, 1), NULL, NULL));
}

static void spawn_and_block(sched_host *host, sched_executor *ex)
{
    sched_task *t;
    sched_future *fut = NULL;

    got("sched_spawn.3", "sched_executor_spawn_at",
        sched_executor_spawn_at(NULL, sched_future_ready((sched_value){ .i = 0 }), NULL,
                                SCHED_PRIORITY_MEDIUM, SCHED_HERE, NULL));
    got("sched_spawn.3", "sched_executor_spawn_at",
        sched_executor_spawn_at(ex, sched_future_ready((sched_value){ .i = 0 }), NULL,
                                (sched_priority)99, SCHED_HERE, NULL));
    got("sched_spawn.3", "sched_spawn", sched_spawn(ex, NULL, NULL));

    if (sched_spawn(ex, sched_timer(host, 3600000000000ull), &t) != 0)
        exit(99);
    sched_task_cancel(t);
    got("sched_task_cancel.3", "sched_task_cancel", sched_block(ex, sched_task_join(t), NULL, NULL));

    got("sched_block.3", "sched_block", sched_block(NULL, NULL, NULL, NULL));
    got("sched_block.3", "sched_block", sched_block(ex, NULL, NULL, NULL));
    got("sched_block.3", "sched_block_with_timeout",
        sched_block_with_timeout(ex, NULL, 0, NULL, NULL));
    fut = sched_timer(host, 3600000000000ull);
    got("sched_block.3", "sched_block_with_timeout",
        sched_block_with_timeout(ex, &fut, 0, NULL, NULL));
    sched_future_drop(fut);

    got("sched_executor_new.3", "sched_executor_new", sched_executor_new(NULL, NULL));
    got("sched_host_query.3", "sched_host_query", sched_host_query(host, NULL, 1, NULL, NULL));
    const void *table;
    void *self;
    got("sched_host_query.3", "sched_host_query",
        sched_host_query(host, "no.such.interface", 1, &table, &self));
}

static void channels(sched_executor *ex)
{
    sched_channel *ch;
    sched_oneshot *o;
    sched_value v;

    got("sched_channel_new.3", "sched_channel_new", sched_channel_new(0, &ch));
    got("sched_channel_new.3", "sched_channel_new", sched_channel_new(1, NULL));
    /* A capacity no allocator can give (SIZE_MAX / 2 bytes). */
    got("sched_channel_new.3", "sched_channel_new",
        sched_channel_new(SIZE_MAX / sizeof(sched_value) / 2, &ch));
    if (sched_channel_new(1, &ch) != 0)
        exit(99);
    got("sched_channel_new.3", "sched_channel_try_recv", sched_channel_try_recv(ch, &v));
    sched_channel_try_send(ch, (sched_value){ .i = 1 });
    got("sched_channel_new.3", "sched_channel_try_send",
        sched_channel_try_send(ch, (sched_value){ .i = 2 }));
    sched_channel_close(ch);
    got("sched_channel_new.3", "sched_channel_try_send",
        sched_channel_try_send(ch, (sched_value){ .i = 3 }));
    sched_channel_try_recv(ch, &v);
    got("sched_channel_new.3", "sched_channel_try_recv", sched_channel_try_recv(ch, &v));
    got("sched_channel_new.3", "sched_channel_recv",
        sched_block(ex, sched_channel_recv(ch), NULL, NULL));
    sched_channel_free(ch);

    if (sched_oneshot_new(&o) != 0)
        exit(99);
    sched_future_drop(sched_oneshot_recv(o));
    got("sched_channel_new.3", "sched_oneshot_send", sched_oneshot_send(o, (sched_value){ .i = 1 }));
    if (sched_oneshot_new(&o) != 0)
        exit(99);
    sched_oneshot_close(o);
    got("sched_channel_new.3", "sched_oneshot_recv",
        sched_block(ex, sched_oneshot_recv(o), NULL, NULL));
}

static void sessions(sched_host *host)
{
    sched_session_ctx *ctx;
    uint64_t id;
    got("sched_session.3", "sched_session_new", sched_session_new(NULL, &id, NULL));
    if (sched_session_ctx_new(host, &ctx, NULL) != 0)
        exit(99);
    got("sched_session.3", "sched_session_spawn",
        sched_session_spawn(ctx, sched_future_ready((sched_value){ .i = 0 }), NULL, NULL));
    got("sched_session.3", "sched_session_enter", sched_session_enter(ctx, 12345, NULL));
    sched_session_ctx_free(ctx);
}

static int nothing(sched_host *host, void *arg)
{
    (void)host, (void)arg;
    return 0;
}

/* The test backend: a wait nothing can end, and the seed sweep's refusals. */
static void test_backend(void)
{
    const char *test_conf = conf("test.conf", "backend = \"test\";\n");
    sched_host *host = open_or_die(test_conf);
    sched_executor *ex;
    sched_oneshot *o;
    if (sched_executor_new(host, &ex) != 0 || sched_oneshot_new(&o) != 0)
        exit(99);
    got("sched_block.3", "sched_block", sched_block(ex, sched_oneshot_recv(o), NULL, NULL));
    sched_oneshot_close(o);
    sched_executor_free(ex);
    sched_host_close(host);

    char *argv[] = { "man_errors", NULL };
    got("sched_as_test.3", "sched_test_run_seeds",
        sched_test_run_seeds(test_conf, argv, NULL, NULL, NULL));
    setenv("SCHED_SEED", "twelve", 1);
    got("sched_as_test.3", "sched_test_run_seeds",
        sched_test_run_seeds(test_conf, argv, nothing, NULL, NULL));
    unsetenv("SCHED_SEED");
}

/* After the close, through an executor that keeps the host's memory. */
static void closed(void)
{
    sched_host *host = open_or_die(NULL);
    sched_executor *ex, *ex2;
    if (sched_executor_new(host, &ex) != 0)
        exit(99);
    sched_host_close(host);
    got("sched_host_open.3", "sched_host_run", sched_host_run(host));
    got("sched_executor_new.3", "sched_executor_new", sched_executor_new(host, &ex2));
    got("sched_spawn.3", "sched_spawn",
        sched_spawn(ex, sched_future_ready((sched_value){ .i = 0 }), NULL));
    got("sched_block.3", "sched_block",
        sched_block(ex, sched_future_ready((sched_value){ .i = 0 }), NULL, NULL));
    got("sched_timer.3", "sched_timer", sched_block(ex, sched_timer(host, 1000), NULL, NULL));
    sched_executor_free(ex);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: man_errors SCRATCH-DIR\n");
        return 99;
    }
    dir = argv[1];
    host_open();

    sched_host *host = open_or_die(NULL);
    sched_executor *ex;
    if (sched_executor_new(host, &ex) != 0)
        return 99;
    wrong_thread(host);
    futures(ex);
    spawn_and_block(host, ex);
    channels(ex);
    sessions(host);
    sched_executor_free(ex);
    sched_host_close(host);

    test_backend();
    closed();
    return failed;
}
