/* SPDX-License-Identifier: MIT */
/*
 * tests/allocfail_workload.c - sched_host_open and a small workload, run
 * with the n-th allocation failing (tests/allocfail.c, preloaded).
 *
 *   allocfail_workload CONFIG N once|persistent
 *
 * The workload runs once without failures (so that what the C library
 * caches for good is in place), then again with the n-th allocation
 * failing.  That run must end in success or in a returned SCHED_E* code
 * with a sentence, every task that was spawned must be joined with its
 * right value or an error code (nothing lost), and every block allocated
 * while armed must be freed by the end (nothing leaked).  A crash or a
 * hang is caught by the driver (tests/test_allocfail.sh).
 *
 * Exit status: 0 when it held and the n-th allocation was reached; 3 when
 * the workload made fewer than n allocations (the driver stops there); 1
 * when anything was wrong; 2 when the interposer is not loaded.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>

#define TASKS 4

static void (*arm)(long, int);
static void (*disarm)(void);
static int (*reached)(void);
static size_t (*outstanding)(void);
static void (*report)(FILE *);
static int failed;

static void bad(const char *what, int rc)
{
    fprintf(stderr, "allocfail_workload: %s (%d: %s)\n", what, rc, sched_strerror(rc));
    failed = 1;
}

static sched_value twice(void *arg)
{
    return (sched_value){ .i = 2 * *(const int *)arg };
}

/* A returned failure must be a SCHED_E* code with a sentence, when asked
 * for: its own, or "out of memory" when even that could not be made. */
static void check_error(int rc, sched_error *err, const char *what)
{
    if (rc >= 0)
        bad(what, rc);
    if (err != NULL) {
        const char *m = sched_error_message(err);
        int code = sched_error_code(err);
        if (m == NULL || m[0] == '\0' || (code != rc && code != SCHED_ENOMEM))
            bad("an error without its sentence or code", rc);
        sched_error_free(err);
    }
}

static void workload(const char *conf)
{
    static const int input[TASKS] = { 1, 2, 3, 4 };
    sched_host *h = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&h, conf, &err);
    if (rc != 0) {
        check_error(rc, err, "sched_host_open");
        if (h != NULL)
            bad("sched_host_open failed but returned a host", rc);
        return;
    }
    sched_executor *ex = NULL;
    sched_foreground_executor *fx = NULL;
    if ((rc = sched_executor_new(h, &ex)) != 0)
        check_error(rc, NULL, "sched_executor_new");
    if ((rc = sched_foreground_executor_new(h, &fx)) != 0)
        check_error(rc, NULL, "sched_foreground_executor_new");

    sched_task *t[TASKS] = { NULL };
    if (ex != NULL) {
        for (int i = 0; i < TASKS; i++) {
            rc = sched_executor_spawn_at(ex, sched_future_fn(twice, (void *)&input[i]), "twice",
                                         SCHED_PRIORITY_MEDIUM, SCHED_HERE, &t[i]);
            if (rc != 0) {
                check_error(rc, NULL, "sched_executor_spawn_at");
                t[i] = NULL;
            }
        }
    }
    sched_task *timer = NULL;
    if (fx != NULL) {
        rc = sched_foreground_spawn_at(fx, sched_timer(h, 1000000), "timer", SCHED_HERE, &timer);
        if (rc != 0) {
            check_error(rc, NULL, "sched_foreground_spawn_at");
            timer = NULL;
        }
    }
    /* Every task spawned is accounted for: its value, or an error. */
    for (int i = 0; i < TASKS; i++) {
        if (t[i] == NULL)
            continue;
        sched_value v = { 0 };
        err = NULL;
        rc = fx != NULL ? sched_foreground_block(fx, sched_task_join(t[i]), &v, &err)
                        : sched_block(ex, sched_task_join(t[i]), &v, &err);
        if (rc == 0 && v.i != 2 * input[i])
            bad("a task finished with the wrong value", rc);
        else if (rc != 0)
            check_error(rc, err, "joining a task");
    }
    if (timer != NULL) {
        err = NULL;
        rc = sched_foreground_block(fx, sched_task_join(timer), NULL, &err);
        if (rc != 0)
            check_error(rc, err, "joining the timer");
    }
    if (ex != NULL) {
        err = NULL;
        rc = sched_block(ex, sched_timer(h, 1000), NULL, &err);
        if (rc != 0)
            check_error(rc, err, "blocking on a timer");
    }
    sched_foreground_executor_free(fx);
    sched_executor_free(ex);
    sched_host_close(h);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: allocfail_workload CONFIG N once|persistent\n");
        return 2;
    }
    *(void **)&arm = dlsym(RTLD_DEFAULT, "allocfail_arm");
    *(void **)&disarm = dlsym(RTLD_DEFAULT, "allocfail_disarm");
    *(void **)&reached = dlsym(RTLD_DEFAULT, "allocfail_reached");
    *(void **)&outstanding = dlsym(RTLD_DEFAULT, "allocfail_outstanding");
    *(void **)&report = dlsym(RTLD_DEFAULT, "allocfail_report");
    if (arm == NULL || disarm == NULL || reached == NULL || outstanding == NULL || report == NULL) {
        fprintf(stderr, "allocfail_workload: run it with LD_PRELOAD=.../allocfail.so\n");
        return 2;
    }
    workload(argv[1]);
    if (failed) {
        fprintf(stderr, "allocfail_workload: the run without failures failed\n");
        return 1;
    }
    arm(atol(argv[2]), strcmp(argv[3], "persistent") == 0);
    workload(argv[1]);
    disarm();
    /* glibc keeps the last dlopen error until dlerror is called again. */
    dlerror();
    dlerror();
    size_t leaked = outstanding();
    if (leaked > 0) {
        fprintf(stderr, "allocfail_workload: %zu blocks allocated during the run were not freed\n",
                leaked);
        report(stderr);
        failed = 1;
    }
    if (failed)
        return 1;
    return reached() ? 0 : 3;
}
