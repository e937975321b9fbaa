/* tests/install/hello.c - README's example, built against the installed
 * headers and library through sched.pc. */
#include <stdio.h>
#include <sched/sched.h>

static sched_value answer(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 42 };
}

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
    sched_task *task;
    sched_value v;
    sched_executor_new(host, &ex);
    sched_spawn(ex, sched_future_fn(answer, NULL), &task);
    sched_block(ex, sched_task_join(task), &v, NULL);
    printf("%s says %lld\n", sched_host_backend_name(host), (long long)v.i);
    sched_executor_free(ex);
    sched_host_close(host);
    return 0;
}
