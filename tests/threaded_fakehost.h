/* SPDX-License-Identifier: MIT */
/*
 * tests/threaded_fakehost.h - the host the threaded backends' tests
 * (test_linux.c, test_mac.c, test_windows.c) drive a real plugin with:
 * the plugin opened with sched__dl_open, a services table whose
 * runnables record how often, where, when and in which order they ran
 * or were dropped, one int config key, the log, and the counters, waits
 * and gate the tests share.  The simulated backends' tests have theirs
 * in plugin_fakehost.c.
 */
#ifndef SCHED_THREADED_FAKEHOST_H
#define SCHED_THREADED_FAKEHOST_H

#include <stdatomic.h>
#include <stdint.h>

#include <sched/plugin.h>

#include "platform.h"

/* A runnable as the host would hand it: the ABI's slots, then what the
 * services record.  Zero it before use. */
typedef struct trun trun;
struct trun {
    sched_runnable base;
    void (*fn)(trun *t);        /* called when it runs, after the counts */
    atomic_int runs;
    atomic_int drops;
    atomic_int runs_on_main;    /* runs on the thread that loaded the plugin */
    atomic_int early;           /* runs before due */
    int prio;                   /* what info reports */
    uint64_t due;               /* timers: earliest allowed run time; 0: none */
    uint64_t due_hi;            /* ... and the latest the backend can have set */
    uint64_t ran_at;            /* the backend's now() when it last ran */
    int ran_on_main;            /* the backend's is_main_thread() then */
    int order;                  /* position in the run order since open */
    int policy;                 /* POSIX: scheduling policy of its thread */
    sched__thread_id thread;    /* the thread it last ran on */
    void *arg;
};

extern const sched_host_services services;
extern const sched_plugin_descriptor *desc;
extern void *self;                  /* the backend under test */

/* Open plugins/<name>/.libs/<name>.so (.dll) of the build tree, from
 * the thread that is then the main thread: 0, or -1 saying why on
 * stderr.  fakehost_unload closes it. */
int fakehost_load(const char *name);
int fakehost_unload(void);

/* The one int key config_int answers (key NULL: none, ENOENT). */
void fakehost_config_int(const char *key, int64_t value);
/* Create the backend into self with the config set above, after
 * resetting the run order, the consumed count and stop_after: create's
 * code.  fakehost_close destroys it. */
int fakehost_open(void);
void fakehost_close(void);

/* What the backend logged, a line each (cleared by the tests). */
extern char log_text[4096];
/* Runnables run or dropped since fakehost_open; the run that makes it
 * reach stop_after calls stop() (-1: never). */
extern atomic_int consumed, stop_after;
/* Runs since fakehost_open: the next run's order. */
extern atomic_int run_seq;

/* Wait until *counter reaches n: 0, or -1 after 30 s. */
int wait_count(atomic_int *counter, int n);
/* A runnable fn counting done_count. */
extern atomic_int done_count;
void count_done(trun *t);

/* A gate: the first runnable a one-thread pool runs waits in it
 * (wait_gate, its fn) until open_gate, so what is queued behind it is
 * still queued while a test arranges things.  gate_close makes it wait
 * again; gate_entered says it is waiting.  block_single_worker zeroes
 * gate, schedules it and returns once it waits. */
extern atomic_int gate_entered;
void gate_close(void);
void wait_gate(trun *t);
void open_gate(void);
void block_single_worker(trun *gate);

#endif
