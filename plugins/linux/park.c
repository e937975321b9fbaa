/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/park.c - park/unpark for block(), and the futex helpers.
 *
 * The parker's first slot word is a futex: EMPTY, PARKED, NOTIFIED, or
 * PARKED_MAIN.  unpark() sets NOTIFIED whatever the state and wakes the
 * sleeper.  A park on the main thread does not sleep on the futex: it
 * keeps running the main-thread queue (dispatch) and sleeps in ppoll() on
 * the queue's eventfd, which unpark() writes for a PARKED_MAIN parker.  So
 * blocking on the main thread never deadlocks on work that only the main
 * thread can run (a foreground task the awaited future depends on).  In
 * the same way a park on the timer thread (a task it runs blocks) keeps
 * firing timers while it waits (PARKED_TIMER, timers.c).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "linux.h"


uint64_t lx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_ts(uint64_t ns)
{
    return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u),
                              .tv_nsec = (long)(ns % 1000000000u) };
}

/* Sleep while *word == expected, until woken or the absolute monotonic
 * deadline (NULL: none).  0 (woken, changed, or spurious) or
 * SCHED_ETIMEDOUT. */
int lx_futex_wait(atomic_uint *word, unsigned expected, const uint64_t *deadline_ns)
{
    struct timespec ts;
    long rc;

    if (deadline_ns)
        ts = ns_to_ts(*deadline_ns);
    rc = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                 expected, deadline_ns ? &ts : NULL, NULL, FUTEX_BITSET_MATCH_ANY);
    return rc < 0 && errno == ETIMEDOUT ? SCHED_ETIMEDOUT : 0;
}

void lx_futex_wake(atomic_uint *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

static atomic_uint *parker_word(sched_parker *p)
{
    return (atomic_uint *)(void *)&p->backend_slot[0];
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
    uint64_t now = lx_now_ns();
    return timeout_ns >= UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

/* The state after a wait timed out: ETIMEDOUT, unless an unpark won. */
int lx_park_timed_out(atomic_uint *s, unsigned parked)
{
    unsigned expect = parked;
    if (atomic_compare_exchange_strong(s, &expect, PK_EMPTY))
        return SCHED_ETIMEDOUT;
    atomic_store(s, PK_EMPTY);
    return 0;
}

/* Main-thread park: run main-thread work while waiting. */
static int park_main(struct lx_backend *b, atomic_uint *s, uint64_t deadline)
{
    struct pollfd pfd = { .fd = b->mainq.efd, .events = POLLIN };

    for (;;) {
        unsigned expect = PK_NOTIFIED;
        struct timespec ts;
        uint64_t now;

        lx_mainq_dispatch(b);
        if (atomic_compare_exchange_strong(s, &expect, PK_EMPTY))
            return 0;
        now = lx_now_ns();
        if (now >= deadline)
            return lx_park_timed_out(s, PK_PARKED_MAIN);
        ts = ns_to_ts(deadline - now);
        ppoll(&pfd, 1, deadline == UINT64_MAX ? NULL : &ts, NULL);
    }
}

int lx_park(struct lx_backend *b, sched_parker *p, uint64_t timeout_ns)
{
    atomic_uint *s = parker_word(p);
    /* A forked child's copy waits on the word alone: its main queue's
     * eventfd is the parent's too, and its timer thread is not there. */
    int forked = lx_forked(b);
    int main = !forked && pthread_equal(pthread_self(), b->main_thread);
    int timer = !forked && lx_timers_is_self(b->timers);
    unsigned parked = main ? PK_PARKED_MAIN : timer ? PK_PARKED_TIMER : PK_PARKED;
    uint64_t deadline = timeout_ns == SCHED_TIMEOUT_NEVER ? UINT64_MAX : deadline_of(timeout_ns);
    unsigned expect = PK_EMPTY;

    if (!atomic_compare_exchange_strong(s, &expect, parked)) {
        assert(expect == PK_NOTIFIED);
        atomic_store(s, PK_EMPTY);     /* an unpark came first: consume it */
        return 0;
    }
    if (main)
        return park_main(b, s, deadline);
    if (timer)
        return lx_timers_park(b->timers, s, deadline);
    for (;;) {
        int rc = lx_futex_wait(s, PK_PARKED, deadline == UINT64_MAX ? NULL : &deadline);
        expect = PK_NOTIFIED;
        if (atomic_compare_exchange_strong(s, &expect, PK_EMPTY))
            return 0;
        if (rc == SCHED_ETIMEDOUT || lx_now_ns() >= deadline)
            return lx_park_timed_out(s, PK_PARKED);
    }
}

void lx_unpark(struct lx_backend *b, sched_parker *p)
{
    atomic_uint *s = parker_word(p);
    unsigned old = atomic_exchange(s, PK_NOTIFIED);

    if (old == PK_PARKED)
        lx_futex_wake(s, 1);
    else if (old == PK_PARKED_MAIN)
        lx_mainq_kick(&b->mainq);
    else if (old == PK_PARKED_TIMER)
        lx_timers_kick(b->timers);
}
