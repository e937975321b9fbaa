/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/tb.h - the test backend's state, shared by its files.
 *
 * Nothing runs by itself: runnables wait in queues until the main thread
 * (the one that opened the host) drives the scheduler through tick, park,
 * run or the sched.test interface.  Every choice between runnables comes
 * from one decision source (the seeded PRNG, or caller-supplied bytes), so
 * the same seed replays the same schedule.
 *
 * Locking: everything under tb->mu except what is marked "main thread".
 * svc->run and svc->drop are never called with mu held, because a running
 * task schedules (and so locks) re-entrantly.
 */
#ifndef SCHED_TB_H
#define SCHED_TB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sched/plugin.h>
#include <sched/test.h>

#include "../common/prng.h"
#include "../common/replay.h"
#include "os.h"

#define TB_NPRIO 4
/* Deepest pct_depth: priorities below it are the demoted ones. */
#define TB_PCT_MAX_DEPTH 64

enum tb_strategy { TB_STRATEGY_RANDOM, TB_STRATEGY_FIFO, TB_STRATEGY_PCT };

struct tb_pct_slot {
    uint64_t task_id;       /* 0: empty */
    uint64_t prio;
};

/* The state of the pct strategy (strategy.c). */
struct tb_pct {
    unsigned depth;         /* d: d-1 change points */
    uint64_t steps;         /* k: the estimated number of choices of a run */
    uint64_t change[TB_PCT_MAX_DEPTH];
    int started;            /* change points drawn */
    uint64_t step;          /* choices made so far */
    uint64_t waiter_prio;   /* 0 until drawn */
    struct tb_pct_slot *slot;   /* task id -> priority, open addressing */
    size_t len, cap;        /* cap is a power of two */
};

/* Runnables linked through backend_slot[0]; backend_slot[1] holds the
 * sequence number of the schedule call, which orders FIFO mode. */
struct tb_fifo {
    sched_runnable *head, *tail;
    size_t len;
};

/* An unordered set of runnables for random picks (swap-remove). */
struct tb_bag {
    sched_runnable **v;
    size_t len, cap;
};

/* Background runnables: one bag per priority under the random strategy,
 * so a weighted pick costs O(1), else a FIFO. */
struct tb_pool {
    struct tb_fifo fifo;
    struct tb_bag bag[TB_NPRIO];
    size_t len;
};

/* The FIFO of one foreground executor (executor_id 0: main-thread work
 * that belongs to no executor). */
struct tb_lane {
    uint64_t executor_id;
    struct tb_fifo q;
};

struct tb_timer {
    uint64_t due;           /* virtual ns */
    uint64_t seq;           /* ties fire in the order they were set */
    sched_runnable *r;
    int main;
};

struct tb_heap {
    struct tb_timer *v;
    size_t len, cap;
};

/* Interned label strings: the history outlives the tasks it names. */
struct tb_labels {
    char **slot;
    size_t len, cap;        /* cap is a power of two */
};

struct tb_trace;
struct tb_replay;

/* A foreground runnable being run, in strict_main_block mode (serial.c),
 * and, during a pick, the queue of its executor set aside. */
struct tb_busy {
    uint64_t executor_id;
    uint64_t task_id;
    struct tb_fifo held;
    int holding;
};

struct tb {
    const sched_host_services *svc;
    sched_plugin_host *host;
    tb_thread_id main_thread;
    tb_mutex mu;
    tb_cond cv;             /* parked threads; broadcast on every change */

    /* Settings, fixed after create. */
    enum tb_strategy strategy;
    unsigned num_cpus;
    uint64_t ticks_min, ticks_max;
    int64_t utc_start_ns;

    int parking_allowed;
    int strict_main_block;  /* a busy foreground executor runs nothing else */
    uint64_t seed;
    sched_prng prng;
    uint8_t *bytes;         /* decisions from bytes when non-NULL */
    size_t nbytes, bytepos;

    struct tb_lane *lanes;
    size_t nlanes, caplanes;
    size_t fg_len;          /* runnables over all lanes */
    struct tb_pool bg;      /* background */
    struct tb_pool low;     /* background with a deprioritized label */
    char **deprio;
    size_t ndeprio, capdeprio;
    struct tb_heap timers;

    uint64_t seq;           /* schedule calls so far */
    uint64_t now;           /* virtual monotonic ns */
    uint64_t steps;         /* runnables run so far */
    unsigned waiters;       /* threads in tb_cond_wait */
    int stop;
    int closed;

    sched_test_step *hist;
    size_t nhist, caphist;
    struct tb_labels labels;

    struct tb_trace *trace;

    /* Foreground runnables being run (nested: each one's waits run the
     * next), innermost last; only in strict_main_block mode. */
    struct tb_busy *busy;
    size_t nbusy, capbusy;
    struct tb_pct pct;
    struct tb_replay *replay;   /* recording or replaying decisions; NULL: neither */
};

/* test.c: driving the scheduler.  Under mu, on the main thread for step. */
int sched__tb_step(struct tb *tb, int background_only);
void sched__tb_advance_to(struct tb *tb, uint64_t t);
int sched__tb_fire_next(struct tb *tb, uint64_t limit);

/* control.c: the "sched.test" interface. */
extern const sched_test_iface_v1 sched__tb_test_iface;

/*
 * One choice of what runs next (strategy.c has the contract).  A pick
 * chooses the runnable the next step runs; a waiter choice decides whether
 * the woken waiter of a blocking call on the main thread resumes before
 * any ready runnable.
 */
struct tb_choice {
    int waiter;             /* 1: a waiter choice; 0: a pick */
    int background_only;    /* a pick that skips the foreground lanes */
    uint64_t waiter_seq;    /* schedule counter when the waiter was woken */
};

/* A candidate of a choice: a ready runnable, or the woken waiter. */
struct tb_cand {
    sched_runnable *r;      /* NULL: the waiter */
    sched_runnable_info info; /* from svc->info; all zero for the waiter */
    uint64_t seq;           /* schedule call that queued it (waiter: waiter_seq) */
    int fg;                 /* waits on the foreground lane of info.executor_id */
    int low;                /* its label is deprioritized */
    /* Where it waits, for sched__tb_cand_take; private to queue.c. */
    struct tb_pool *pool;
    struct tb_lane *lane;
    int bag;                /* index into pool->bag, or -1 for pool->fifo */
    size_t pos;             /* position in the bag */
    sched_runnable *prev;   /* predecessor in the FIFO, NULL at the head */
};

/* strategy.c: the one place that chooses.  Under mu. */
int sched__tb_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out);
int sched__tb_waiter_goes_first(struct tb *tb, uint64_t seq);
/* Forget what the strategy learnt (a reseed, new decision bytes). */
void sched__tb_strategy_restart(struct tb *tb);
void sched__tb_strategy_free(struct tb *tb);

/* queue.c: the run queues and their candidates.  All under mu. */
int sched__tb_enqueue_bg(struct tb *tb, sched_runnable *r, const char *label, unsigned prio);
int sched__tb_enqueue_fg(struct tb *tb, sched_runnable *r, uint64_t executor_id);
uint64_t sched__tb_decide(struct tb *tb, uint64_t n);
/* Show each candidate of ch to fn until fn returns nonzero (returned). */
int sched__tb_cands_visit(struct tb *tb, const struct tb_choice *ch,
                          int (*fn)(void *arg, const struct tb_cand *c), void *arg);
/* The candidate FIFO order runs: 1, or 0 when there is none. */
int sched__tb_cands_fifo(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out);
/* The seeded random choice (one decision, or none): 1, or 0 when none. */
int sched__tb_cands_draw(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out);
/* Remove a runnable candidate from its queue, unchanged since it was found. */
sched_runnable *sched__tb_cand_take(struct tb *tb, const struct tb_cand *c);
/* Hand every queued runnable to fn (for destroy), leaving queues empty. */
void sched__tb_drain(struct tb *tb, void (*fn)(sched_runnable *r, void *arg), void *arg);
/* Show every queued runnable to fn, leaving the queues as they are. */
void sched__tb_visit(const struct tb *tb, void (*fn)(void *arg, const sched_runnable *r),
                     void *arg);
void sched__tb_queues_free(struct tb *tb);

/* timers.c: the virtual clock's timers.  All under mu. */
int sched__tb_timer_add(struct tb *tb, sched_runnable *r, uint64_t due, int main);
/* Move every timer due at or before tb->now to the run queues. */
void sched__tb_timers_promote(struct tb *tb);
/* Take r's timer back: 1 if it was armed, else 0 (fired already). */
int sched__tb_timer_remove(struct tb *tb, sched_runnable *r);
/* A due timer promote could not queue, taken off the heap to run now. */
sched_runnable *sched__tb_timer_take_unqueued(struct tb *tb, int background_only, int *main);
/* Due time of the earliest timer; 0 when there is none. */
int sched__tb_timer_next(struct tb *tb, uint64_t *due);

/* history.c: record a step (under mu, main thread) and free. */
int sched__tb_history_add(struct tb *tb, uint64_t task_id, const char *label);
void sched__tb_history_free(struct tb *tb);

/* serial.c: strict_main_block.  All under mu.  A foreground executor's
 * queue is serial: while one of its runnables runs (blocked in a wait
 * included) a pick takes none of its others.  push returns 0, or -1 when
 * out of memory (the executor is then not held back); pop undoes a push
 * that returned 0.  hold and release bracket a pick (nothing may be
 * queued in between) and do nothing when no executor is busy. */
int sched__tb_busy_push(struct tb *tb, uint64_t executor_id, uint64_t task_id);
void sched__tb_busy_pop(struct tb *tb);
void sched__tb_hold(struct tb *tb);
void sched__tb_release(struct tb *tb);
/* Runnables held back now, and the innermost busy task (0: none). */
size_t sched__tb_held_count(const struct tb *tb, uint64_t *task_id);
void sched__tb_busy_free(struct tb *tb);

/* trace.c: Chrome Trace Event output.  All under mu; no-ops when off. */
int sched__tb_trace_open(struct tb *tb, const char *path);
void sched__tb_trace_close(struct tb *tb);
void sched__tb_trace_step(struct tb *tb, const sched_runnable_info *info, int fg);
void sched__tb_trace_timer_set(struct tb *tb, sched_runnable *r, uint64_t due, uint64_t seq);
void sched__tb_trace_timer_fire(struct tb *tb, sched_runnable *r, uint64_t seq);
void sched__tb_trace_clock(struct tb *tb);

/*
 * replay.c: replay files (sched-test(7), "Replay files").  All under mu;
 * each is called only while tb->replay is set, except start, from_env and
 * close.
 */
/* Record from now on and, with text, replay it (see sched_test_iface_v1). */
int sched__tb_replay_start(struct tb *tb, const char *text, size_t len, const char *name,
                           char *err, size_t errlen);
/* SCHED_REPLAY and SCHED_RECORD, at create.  0, or an error with err set. */
int sched__tb_replay_from_env(struct tb *tb, char *err, size_t errlen);
/* Write SCHED_RECORD's file and free; any time, tb->replay NULL or not. */
void sched__tb_replay_close(struct tb *tb);
/* The choice ch: the file's when replaying, else strategy's, recorded. */
int sched__tb_replay_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out,
                            int (*strategy)(struct tb *, const struct tb_choice *,
                                            struct tb_cand *));
/* A decision of kind SCHED__RP_BUDGET (ticks), _DELAY (yields) or _RNG,
 * drawn as drawn: the file's value when replaying, recorded. */
uint64_t sched__tb_replay_value(struct tb *tb, char kind, uint64_t drawn);
/* Has the run left its replay?  Then nothing more runs. */
int sched__tb_replay_failed(const struct tb *tb);
/* Did the last pick deviate from FIFO order?  Then its rank, and the task
 * id FIFO order would have run (for the trace). */
int sched__tb_replay_deviation(const struct tb *tb, uint64_t *rank, uint64_t *fifo);
size_t sched__tb_replay_record(struct tb *tb, char *buf, size_t len);
size_t sched__tb_replay_status(struct tb *tb, char *buf, size_t len);

#endif
