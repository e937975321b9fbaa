/* SPDX-License-Identifier: MIT */
/*
 * tests/foreign_io.h - the "io-worker" thread that the determinism tests
 * (test_determinism.c, test_determinism_watch.c) use as activity on a
 * thread the scheduler does not run: it wakes, or only drops, the waker
 * clone it is given.  The helper is static and lives here whole.
 *
 * Include after <pthread.h> and <sched/sched.h>.
 */
#ifndef SCHED_TESTS_FOREIGN_IO_H
#define SCHED_TESTS_FOREIGN_IO_H

enum foreign_act { ACT_WAKE, ACT_DROP };

struct io_thread {
    pthread_t th;
    sched_waker *w;
    enum foreign_act act;
};

static inline void *io_main(void *arg)
{
    struct io_thread *io = arg;
#if defined(__GLIBC__)
    pthread_setname_np(pthread_self(), "io-worker");
#endif
    if (io->act == ACT_WAKE)
        sched_waker_wake(io->w);
    else
        sched_waker_drop(io->w);
    return NULL;
}

#endif
