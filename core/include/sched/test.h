/* SPDX-License-Identifier: MIT */
/*
 * sched/test.h - the deterministic test scheduler's extra controls.
 *
 * sched_as_test(host) is a downcast by query: it asks the backend for the
 * "sched.test" interface, version 1, and returns NULL on a backend that
 * does not offer it (linux, mac, windows).  The test and cloudflare-sim
 * backends do.  See sched-test(7) and sched_as_test(3).
 */
#ifndef SCHED_TEST_H
#define SCHED_TEST_H

#include <sched/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sched_test sched_test;

/* The test controls of host's backend, or NULL.  Owned by the host. */
sched_test *sched_as_test(sched_host *host);

/* Run one runnable; 1 if one ran, 0 if nothing was runnable. */
int sched_test_tick(sched_test *t);
int sched_test_tick_background_only(sched_test *t);
/* Run until nothing is runnable (timers not yet due stay pending).
 * Returns the number of runnables run. */
uint64_t sched_test_run_until_parked(sched_test *t);
/* Run ready work, then fire due timers in due order, moving virtual time
 * to each, until ns have passed. */
void sched_test_advance_clock(sched_test *t, uint64_t ns);
/* Move virtual time to the next timer and fire it; 0 if there was none. */
int sched_test_advance_clock_to_next_timer(sched_test *t);
/* Move virtual time ns forward and queue the runnables of every timer due
 * by then, in due order, running nothing.  Returns how many timers it
 * made ready. */
uint64_t sched_test_move_clock(sched_test *t, uint64_t ns);

typedef struct sched_test_counts {
    uint64_t foreground;    /* runnable, on foreground executors */
    uint64_t background;    /* runnable, background */
    uint64_t timers;        /* waiting on the virtual clock */
    uint64_t deprioritized; /* runnable, but with a deprioritized label */
} sched_test_counts;
int sched_test_has_pending_tasks(sched_test *t);
void sched_test_pending_counts(sched_test *t, sched_test_counts *out);

void sched_test_deprioritize(sched_test *t, const char *label);
void sched_test_allow_parking(sched_test *t);
void sched_test_forbid_parking(sched_test *t);
/* Model a real main thread (on, non-zero): a foreground task that blocks
 * holds its executor, which runs none of its other tasks until the block
 * returns (sched-test(7)).  0, or SCHED_ENOTSUP. */
int sched_test_set_strict_main_block(sched_test *t, int on);
int sched_test_is_task_running(sched_test *t, uint64_t task_id);

/* A future that yields a random number of times (mostly 0-1, sometimes
 * many), drawn from the scheduler's PRNG. */
sched_future *sched_test_random_delay(sched_test *t);

uint64_t sched_test_seed(sched_test *t);
/* Next 64 random bits from the scheduler's own PRNG (so a test's own
 * randomness follows the seed). */
uint64_t sched_test_rng(sched_test *t);

uint64_t sched_test_now(sched_test *t);     /* virtual monotonic ns */
int64_t sched_test_utc_ns(sched_test *t);   /* virtual UTC, ns since 1970 */

/* The execution history: the sequence of runnables run, oldest first. */
typedef struct sched_test_step {
    uint64_t task_id;
    const char *label;      /* NULL when the task had none; owned by t */
} sched_test_step;
size_t sched_test_history(sched_test *t, const sched_test_step **steps);
/* A 64-bit FNV-1a hash of the history, for determinism checks. */
uint64_t sched_test_history_hash(sched_test *t);

/* Reseed the scheduler's PRNG (before a test body runs).  0, or
 * SCHED_ENOTSUP on a backend without seeds. */
int sched_test_reseed(sched_test *t, uint64_t seed);
/* Take every decision from a copy of bytes instead of the PRNG (for
 * fuzzers); when they run out every decision is the first option.  NULL
 * returns to the PRNG.  0, SCHED_ENOMEM or SCHED_ENOTSUP. */
int sched_test_set_decisions(sched_test *t, const uint8_t *bytes, size_t len);
/* Write the schedule from now on as Chrome Trace Event JSON to path
 * (NULL finishes the file).  0, SCHED_EBACKEND (cannot create the file)
 * or SCHED_ENOTSUP. */
int sched_test_trace(sched_test *t, const char *path);
/* Why nothing can run: the seed, the virtual time, what is queued, and
 * every live task with its id, label, priority, spawn site and what it
 * waits on.  Returns the length needed, like snprintf. */
size_t sched_test_parking_report(sched_test *t, char *buf, size_t len);

/*
 * End a test that manages its own host: 0, or SCHED_EBACKEND when, while
 * parking was forbidden, a thread the backend does not run woke, cloned
 * or dropped a waker of one of the host's tasks; *err (may be NULL) then
 * names that thread, the task and the scheduler's thread, and says the
 * test is not deterministic.  From then on such activity aborts the
 * process at once with the same sentence.  Returns the same each time;
 * sched_test_run_seeds ends each seed's host itself.  0 on a backend that
 * does not watch (t NULL included).
 */
int sched_test_end(sched_test *t, sched_error **err);

/*
 * Run body over seeds SEED..SEED+N-1 ($SCHED_SEED, else the config's seed;
 * $SCHED_ITERATIONS, else 1), each in a fresh host opened from
 * config_path; with $SCHED_CHECK_DETERMINISM=1 each seed runs twice and
 * the two schedules must be the same (0 or unset: once; other values are
 * SCHED_ECONFIG).  body returns 0 when the test passed.  On failure
 * returns the body's result, or SCHED_EBACKEND when two runs of a seed
 * differ, with *err saying "failing seed: K" and the
 * command, built from argv (NULL-terminated; may be NULL), that replays
 * it; a failing seed's replay file goes to $SCHED_REPLAY_DIR (and, with
 * $SCHED_SHRINK=1, its shrunk run beside it), and *err names them and
 * the commands that replay them.  With $SCHED_REPLAY set the body runs
 * once on that file's decisions.  The library prints nothing: the
 * harness prints *err.
 */
typedef int (*sched_test_body_fn)(sched_host *host, void *arg);
int sched_test_run_seeds(const char *config_path, char *const argv[], sched_test_body_fn body,
                         void *arg, sched_error **err);

/*
 * Interface "sched.test", version 1, as a backend implements it (returned
 * by the query op).  Fields are only appended; a NULL op means the backend
 * does not offer it and the sched_test_* wrapper returns a neutral value
 * (0, or does nothing).
 */
typedef struct sched_test_iface_v1 {
    uint32_t size;
    int (*tick)(void *self, int background_only);
    uint64_t (*run_until_parked)(void *self);
    void (*advance_clock)(void *self, uint64_t ns);
    int (*advance_clock_to_next_timer)(void *self);
    void (*pending_counts)(void *self, sched_test_counts *out);
    void (*deprioritize)(void *self, const char *label);
    void (*set_parking_allowed)(void *self, int allowed);
    uint32_t (*random_yields)(void *self);  /* for sched_test_random_delay */
    uint64_t (*seed)(void *self);
    uint64_t (*rng)(void *self);
    int64_t (*utc_ns)(void *self);
    size_t (*history)(void *self, const sched_test_step **steps);
    /* Appended after the first version; check size before use. */
    void (*reseed)(void *self, uint64_t seed);
    int (*set_decisions)(void *self, const uint8_t *bytes, size_t len);
    int (*trace)(void *self, const char *path);
    size_t (*parking_report)(void *self, char *buf, size_t len);
    /* Call visit(ctx, r) for every runnable the backend holds (queued or
     * armed, not yet run or dropped), under the backend's lock: visit only
     * reads r and must not call into the backend.  With it the host lists
     * queued tasks in reports without tracking each one itself. */
    void (*queued)(void *self, void (*visit)(void *ctx, const sched_runnable *r), void *ctx);
    /* sched_test_move_clock: advance the clock, queue what is due, run
     * nothing; the number of timers made ready. */
    uint64_t (*move_clock)(void *self, uint64_t ns);
    /* sched_test_set_strict_main_block. */
    void (*set_strict_main_block)(void *self, int on);
    /* What, besides the pending tasks, keeps work from running (one line
     * per reason, each ending in a newline), for the SCHED_EDEADLK
     * sentence of a block; "" when nothing.  Returns the length needed,
     * like snprintf. */
    size_t (*deadlock_note)(void *self, char *buf, size_t len);
    /* Asked by the host on a thread other than the main thread that
     * wakes, clones or drops a waker of one of its unfinished tasks:
     * non-zero when the test cannot control that (the thread is none of
     * the backend's own and parking is forbidden), 0 when it is
     * legitimate (parking allowed: the test waits on a real thread).  Any
     * thread, no lock of the host held; must not call into the host.
     * With it the host records such activity for sched_test_end. */
    int (*foreign_activity)(void *self);
    /* Replay files (sched-test(7), "Replay files"), which the host reads
     * and writes for sched_test_run_seeds.  replay_start: record every
     * decision from now on and, with text (len bytes, called name in
     * messages), take the decisions from it instead of choosing; only
     * before the first step.  0, SCHED_ECONFIG (err names the line that
     * is wrong), SCHED_EINVAL (steps have run) or SCHED_ENOMEM. */
    int (*replay_start)(void *self, const char *text, size_t len, const char *name, char *err,
                        size_t errlen);
    /* The decisions recorded so far, as a replay file.  Returns the
     * length needed, like snprintf; 0 when nothing was recorded. */
    size_t (*replay_record)(void *self, char *buf, size_t len);
    /* 0 while the run follows its replay (or has none); once it departed
     * from it, a sentence saying at which step, what the file holds and
     * what the program did instead, into buf like snprintf (the length
     * needed is returned). */
    size_t (*replay_status)(void *self, char *buf, size_t len);
} sched_test_iface_v1;

#ifdef __cplusplus
}
#endif

#endif
