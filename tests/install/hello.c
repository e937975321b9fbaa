/* SPDX-License-Identifier: MIT */
/* tests/install/hello.c - README's example, built against the installed
 * headers and library through sched.pc, and by make check. */
#include <stdio.h>
#include <sched/sched.h>

static sched_value twice(void *arg)
{
    return (sched_value){ .i = 2 * (int64_t)(intptr_t)arg };
}

/* An async function; what lives across an await lives in its state. */
struct answer {
    sched_coro co;
    sched_executor *ex;
    sched_task *a, *b;
    sched_value va, vb;
};

static int answer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct answer *st = (struct answer *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sched_timer(sched_executor_host(st->ex), 10000000), NULL); /* 10 ms */
    sched_spawn(st->ex, sched_future_fn(twice, (void *)20), &st->a);
    sched_spawn(st->ex, sched_future_fn(twice, (void *)1), &st->b);
    SCHED_TRY_AWAIT(st, sched_task_join(st->a), &st->va);
    SCHED_TRY_AWAIT(st, sched_task_join(st->b), &st->vb);
    SCHED_RETURN(st, out, (sched_value){ .i = st->va.i + st->vb.i });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops answer_ops = { answer_poll, sched_coro_drop_default };

int main(void)
{
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, NULL, &err) != 0) {     /* reads sched.conf(5) */
        fprintf(stderr, "%s\n", sched_error_message(err));
        sched_error_free(err);
        return 1;
    }
    sched_executor *ex;
    sched_executor_new(host, &ex);
    struct answer *st = (struct answer *)sched_coro_new(sizeof *st, &answer_ops);
    st->ex = ex;
    sched_value v;
    int rc = sched_block(ex, &st->co.base, &v, NULL);  /* spawns, waits, combines */
    if (rc == 0)
        printf("%s says %lld\n", sched_host_backend_name(host), (long long)v.i);
    else
        fprintf(stderr, "failed: %s\n", sched_strerror(rc));
    sched_executor_free(ex);
    sched_host_close(host);
    return rc == 0 ? 0 : 1;
}
