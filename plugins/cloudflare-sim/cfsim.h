/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/cfsim.h - what the files of the cloudflare-sim
 * backend share.
 *
 * One isolate: every runnable runs on the thread that opened the host.
 * Other threads may schedule and unpark; they only touch state under
 * cf->mu.  The isolate thread drops the lock around svc->run, so a
 * runnable may schedule, park (re-entering the loop) and unpark freely.
 */
#ifndef CFSIM_H
#define CFSIM_H

#include <stdint.h>

#include <sched/plugin.h>
#include <sched/test.h>

#include "../common/prng.h"
#include "os.h"

/* Runnables are grouped into lanes; each lane is FIFO and the loop picks a
 * lane at random (from the seed).  A request's work shares one lane, so
 * concurrent requests interleave by the seed while each request, and each
 * foreground executor, keeps its own order (its JavaScript turns).
 * Background work belongs to no request and is independent, as I/O
 * completing in a real isolate is: it is one more candidate lane, from
 * which any ready runnable may go next, drawn from the seed. */
#define CFSIM_LANE_BACKGROUND 0ULL
#define CFSIM_LANE_EXECUTOR   (1ULL << 62)
#define CFSIM_LANE_SESSION    (2ULL << 62)

typedef struct cfsim_lane {
    uint64_t key;
    sched_runnable *head;
    sched_runnable *tail;
} cfsim_lane;

typedef struct cfsim_timer {
    uint64_t due;
    uint64_t seq;           /* ties at equal due times fire in arming order */
    uint64_t session_id;
    uint64_t lane_key;
    sched_runnable *r;
} cfsim_timer;

/* Pending timers of one request, for max_timers_per_request. */
typedef struct cfsim_session_timers {
    uint64_t session_id;
    uint64_t pending;
} cfsim_session_timers;

typedef struct cfsim {
    const sched_host_services *svc;
    sched_plugin_host *host;

    cfsim_mutex mu;
    cfsim_cond cv;          /* new work, an unpark, a stop or a clock move */
    cfsim_thread_id isolate;    /* the thread that created the host */

    sched_prng rng;
    uint64_t seed;
    uint64_t now_ns;        /* the Workers clock: virtual, moves only when the loop waits */

    cfsim_lane *lanes;      /* non-empty lanes only, never the background */
    size_t nlanes, caplanes;
    sched_runnable **background;    /* ready background work, in no order */
    size_t capbackground;           /* its length is nready_background */
    uint64_t nready;
    uint64_t ready_seq;     /* how many runnables ever became ready */
    uint64_t nready_background;

    cfsim_timer *heap;      /* min-heap on (due, seq) */
    size_t ntimers, captimers;
    uint64_t timer_seq;
    cfsim_session_timers *stimers;
    size_t nstimers, capstimers;

    int stopping;           /* run() should return */
    int closed;             /* destroy() has begun; schedule refuses */
    int parking_allowed;    /* sched_test_allow_parking: wait for outside wakes forever */

    /* configuration */
    uint64_t wait_until_limit_ms;
    uint64_t max_timers_per_request;
    uint64_t io_wait_ms;
    uint64_t cpu_limit_ms;
    int cancel_undeclared;
    sched_session_policy_iface_v1 policy;   /* answers query("sched.session", 1) */
    /* The host's idle hook (policy.set_idle_hook); isolate thread only. */
    int (*idle_fn)(void *arg, int stalled);
    void *idle_arg;

    /* execution history for sched_test_history */
    sched_test_step *history;
    size_t nhistory, caphistory;
    char **labels;          /* set of label copies the history points into */
    size_t nlabels, caplabels;  /* caplabels: a power of two, or 0 */
} cfsim;

/* queue.c: lanes and the timer heap.  All with cf->mu held. */
int cfsim_ready_push(cfsim *cf, sched_runnable *r, uint64_t lane_key);
sched_runnable *cfsim_ready_pick(cfsim *cf, int background_only);
int cfsim_ready_before(const cfsim *cf, uint64_t seq);
/* Take r's timer out of the heap (a search: only dropped timers are
 * taken back): 1 if it was armed, 0 if not. */
int cfsim_timer_remove(cfsim *cf, const sched_runnable *r);
int cfsim_timer_push(cfsim *cf, sched_runnable *r, uint64_t due, uint64_t session_id,
                     uint64_t lane_key);
/* Due time of the earliest timer; 0 when there is none. */
int cfsim_timer_next(const cfsim *cf, uint64_t *due);
/* Move every timer due at or before now_ns into its lane. */
void cfsim_timers_fire(cfsim *cf);
uint64_t cfsim_session_timers_pending(const cfsim *cf, uint64_t session_id);
sched_runnable *cfsim_take_any(cfsim *cf);
void cfsim_visit(const cfsim *cf, void (*fn)(void *arg, const sched_runnable *r), void *arg);
uint64_t cfsim_lane_key(const sched_runnable_info *info, int main);

/* cloudflare-sim.c: the policy's ops. */
uint64_t cfsim_pending_timers(const sched_session_policy_iface_v1 *self, uint64_t session_id);
void cfsim_set_idle_hook(const sched_session_policy_iface_v1 *self,
                         int (*fn)(void *arg, int stalled), void *arg);

/* loop.c: the event loop.  Isolate thread only, cf->mu NOT held. */
/* Run one runnable; 1 if one ran, 0 if none was ready. */
int cfsim_tick(cfsim *cf, int background_only);
uint64_t cfsim_run_until_parked(cfsim *cf);
/* Move the clock to the next timer and fire what is due then; 0 if none. */
int cfsim_advance_to_next_timer(cfsim *cf);
void cfsim_advance_clock(cfsim *cf, uint64_t ns);
/* Move the clock and make what is due ready, running nothing. */
uint64_t cfsim_move_clock(cfsim *cf, uint64_t ns);
/* The ops of the same names (any thread for unpark and stop). */
int cfsim_park(void *self, sched_parker *p, uint64_t timeout_ns);
void cfsim_unpark(void *self, sched_parker *p);
int cfsim_run(void *self);
void cfsim_stop(void *self);

/* testiface.c */
extern const sched_test_iface_v1 cfsim_test_iface;

#endif
