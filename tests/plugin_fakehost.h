/* SPDX-License-Identifier: MIT */
/*
 * tests/plugin_fakehost.h - a minimal host for driving a real simulated
 * backend (test.so, cloudflare-sim.so) through its descriptor: runnables
 * that record what happened to them, a config group and an environment set
 * per test, and the plugin opened with sched__dl_open.
 */
#ifndef SCHED_PLUGIN_FAKEHOST_H
#define SCHED_PLUGIN_FAKEHOST_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include <sched/plugin.h>
#include <sched/test.h>

#include "platform.h"

#define MS 1000000ull

typedef struct fake_runnable {
    sched_runnable base;
    uint64_t task_id;
    uint64_t executor_id;
    uint64_t session_id;
    unsigned priority;
    const char *label;
    void (*fn)(struct fake_runnable *);
    void *arg;
    int ran;
    int dropped;
    sched__thread_id ran_on;
} fake_runnable;

/* The order runnables ran in, by task id. */
extern uint64_t order[4096];
extern size_t norder;

/* What describe_tasks reports, and the environment the plugin sees. */
extern const char *described;
extern const char *env_seed, *env_trace;

/* How many times the backend's "queued" op showed each task id (ids
 * below 16), counted by count_shown, its visitor. */
extern int shown[16];
void count_shown(void *ctx, const sched_runnable *r);

/* The last line the plugin logged, and how many it logged. */
extern char last_log[1024];
extern int nlogs;

extern const sched_host_services services;
extern const sched_plugin_descriptor *desc;
extern const sched_backend_ops *ops;

/* Open plugins/<name>/.libs/<name>.so of the build tree: 0, or -1 saying
 * why on stderr.  For a suite's init and fini. */
int fakehost_load(const char *name);
int fakehost_unload(void);

void config_set(const char *key, int64_t value);
void config_set_str(const char *key, const char *value);
/* Forget the config, the environment, the log and the recorded order. */
void reset(void);
/* Create the backend (asserting success) and its "sched.test" table. */
void *open_backend(void);
const sched_test_iface_v1 *iface(void *self);
/* n runnables with task ids 1..n, medium priority, background. */
fake_runnable *make(size_t n);

/* test_testbackend_park.c: blocking, parking and the main loop. */
void add_park_tests(CU_pSuite s);

#endif
