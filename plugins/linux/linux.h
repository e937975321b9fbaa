/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/linux.h - what the files of the linux backend share.
 *
 * The backend is four parts around one struct lx_backend:
 *   pool.c    the worker pool (background runnables, by priority)
 *   mainq.c   the main-thread queue, its eventfd, run/stop/dispatch
 *   timers.c  the timer heap and the thread that fires it
 *   park.c    park/unpark for block(), on a futex in the parker slot
 *   rt.c      the realtime thread (SCHED_FIFO where permitted)
 * linux.c ties them to the plugin ABI.  Runnables are queued intrusively
 * through backend_slot[0], so scheduling never allocates.
 */
#ifndef LX_LINUX_H
#define LX_LINUX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sched/plugin.h>


/* The intrusive link of a queued runnable. */
#define LX_NEXT(r) (*(sched_runnable **)&(r)->backend_slot[0])

/* A FIFO of runnables linked through LX_NEXT.  Not synchronised. */
struct lx_list {
    sched_runnable *head;
    sched_runnable *tail;
};

static inline void lx_list_push(struct lx_list *l, sched_runnable *r)
{
    LX_NEXT(r) = NULL;
    if (l->tail)
        LX_NEXT(l->tail) = r;
    else
        l->head = r;
    l->tail = r;
}

static inline sched_runnable *lx_list_pop(struct lx_list *l)
{
    sched_runnable *r = l->head;
    if (r) {
        l->head = LX_NEXT(r);
        if (!l->head)
            l->tail = NULL;
    }
    return r;
}

/* Drop every runnable of l through svc->drop; l is left empty. */
static inline void lx_list_drop_all(struct lx_list *l, const sched_host_services *svc)
{
    sched_runnable *r;
    while ((r = lx_list_pop(l)))
        svc->drop(r);
}

struct lx_backend;
struct lx_pool;
struct lx_timers;

/* The main-thread queue (mainq.c). */
struct lx_mainq {
    pthread_mutex_t mu;
    struct lx_list q;
    int efd;                    /* eventfd: readable while q is non-empty */
    atomic_int stop;            /* stop() was called; run() clears it */
    atomic_int closed;          /* destroy() has begun */
};

/* The realtime thread (rt.c), started on first use. */
enum { LX_RT_IDLE, LX_RT_RUNNING, LX_RT_FAILED };
struct lx_rt {
    pthread_mutex_t mu;
    struct lx_list q;
    atomic_uint wake;           /* futex word: bumped on every push */
    int state;
    int closing;
    pthread_t thread;
};

struct lx_backend {
    const sched_host_services *svc;
    sched_plugin_host *host;
    pthread_t main_thread;
    unsigned ncpu;
    unsigned forks;             /* lx_forks when created: a fork since makes it a copy */
    struct lx_pool *pool;
    struct lx_timers *timers;
    struct lx_mainq mainq;
    struct lx_rt rt;
};

/* Set by the timer thread while it runs due work itself: the first
 * medium-priority runnable that work schedules is left here for it to run
 * next (timers.c), instead of being queued for a worker. */
/* Forks seen by this process (linux.c): a backend created before the
 * last one is a forked child's copy, without its threads. */
extern atomic_uint lx_forks;

static inline int lx_forked(const struct lx_backend *b)
{
    return __builtin_expect(atomic_load_explicit(&lx_forks, memory_order_relaxed) != b->forks, 0);
}

extern __thread sched_runnable **lx_inline_slot __attribute__((tls_model("initial-exec")));

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t lx_now_ns(void);

/* pool.c.  lx_pool_new starts nthreads (>= 1) workers; on failure returns a
 * negative code and a sentence in err, with nothing left running. */
int lx_pool_new(struct lx_backend *b, unsigned nthreads, struct lx_pool **out,
                char *err, size_t errlen);
/* Queue r for a worker.  Any thread.  0 or SCHED_ECLOSED. */
int lx_pool_push(struct lx_pool *p, sched_runnable *r, sched_priority prio);
/* Queue a due high-priority timer's runnable (a timer's wake-up is one):
 * workers take it before other high-priority work, and run the first
 * medium-priority runnable it queues right after it.  Any thread.  0 or
 * SCHED_ECLOSED. */
int lx_pool_push_fired(struct lx_pool *p, sched_runnable *r);
/* Is a worker looking for work right now (so a push is taken at once)? */
int lx_pool_has_searcher(struct lx_pool *p);
/* Stop and join every worker; runnables still queued stay queued. */
void lx_pool_stop(struct lx_pool *p);
/* Drop what is still queued; returns how many were dropped. */
size_t lx_pool_drain(struct lx_pool *p);
void lx_pool_free(struct lx_pool *p);
void lx_pool_abandon(struct lx_pool *p);

/* mainq.c */
int lx_mainq_init(struct lx_mainq *m, char *err, size_t errlen);
int lx_mainq_push(struct lx_backend *b, sched_runnable *r);
int lx_mainq_dispatch(struct lx_backend *b);
int lx_mainq_run(struct lx_backend *b);
void lx_mainq_stop(struct lx_backend *b);
/* Wake whatever waits on the eventfd (run(), a main-thread park). */
void lx_mainq_kick(struct lx_mainq *m);
size_t lx_mainq_drain(struct lx_backend *b);
void lx_mainq_fini(struct lx_mainq *m);

/* timers.c */
int lx_timers_new(struct lx_backend *b, struct lx_timers **out, char *err, size_t errlen);
/* Queue r to be handed on (to the main queue when main, else the pool) at
 * or after due_ns.  0, SCHED_ENOMEM or SCHED_ECLOSED; on failure the caller
 * keeps r. */
int lx_timers_add(struct lx_timers *t, sched_runnable *r, uint64_t due_ns, int main);
int lx_timers_remove(struct lx_timers *t, sched_runnable *r);
void lx_timers_stop(struct lx_timers *t);
/* Is the calling thread t's timer thread? */
int lx_timers_is_self(struct lx_timers *t);
/* Park the timer thread (parker word s, already PK_PARKED_TIMER) until
 * unparked or deadline, firing timers meanwhile.  0 or SCHED_ETIMEDOUT. */
int lx_timers_park(struct lx_timers *t, atomic_uint *s, uint64_t deadline);
/* Wake a timer thread parked in lx_timers_park.  Any thread. */
void lx_timers_kick(struct lx_timers *t);
size_t lx_timers_drain(struct lx_timers *t);
void lx_timers_free(struct lx_timers *t);
void lx_timers_abandon(struct lx_timers *t);

/* rt.c */
void lx_rt_init(struct lx_rt *rt);
/* Queue r for the realtime thread.  Any thread.  0 or SCHED_ECLOSED. */
int lx_rt_push(struct lx_backend *b, sched_runnable *r);
void lx_rt_stop(struct lx_rt *rt);
size_t lx_rt_drain(struct lx_backend *b);
void lx_rt_fini(struct lx_rt *rt);
/* Switch the calling thread to SCHED_FIFO at prio (0 or an errno), or
 * back to SCHED_OTHER. */
int lx_sched_fifo(int prio);
void lx_sched_normal(void);

/* park.c: the parker word's states. */
enum { PK_EMPTY = 0, PK_PARKED = 1, PK_NOTIFIED = 2, PK_PARKED_MAIN = 3, PK_PARKED_TIMER = 4 };
/* After a timed-out wait in state parked: SCHED_ETIMEDOUT, or 0 when an
 * unpark won the race. */
int lx_park_timed_out(atomic_uint *s, unsigned parked);

/* park.c */
int lx_park(struct lx_backend *b, sched_parker *p, uint64_t timeout_ns);
void lx_unpark(struct lx_backend *b, sched_parker *p);

/* Futex helpers (park.c). */
int lx_futex_wait(atomic_uint *word, unsigned expected, const uint64_t *deadline_ns);
void lx_futex_wake(atomic_uint *word, int n);

#endif
