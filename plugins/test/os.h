/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/os.h - the little of the OS the test backend needs: one
 * mutex, one condition variable, the identity of the calling thread.
 *
 * A plugin links nothing of libsched, so it cannot use core/platform.h;
 * this is its own minimal copy, POSIX or Win32.
 */
#ifndef SCHED_TB_OS_H
#define SCHED_TB_OS_H

#include <stdint.h>

#if defined(_WIN32)
#include <windows.h>
typedef SRWLOCK tb_mutex;
typedef CONDITION_VARIABLE tb_cond;
typedef DWORD tb_thread_id;

static inline void tb_mutex_init(tb_mutex *m) { InitializeSRWLock(m); }
static inline void tb_mutex_destroy(tb_mutex *m) { (void)m; }
static inline void tb_mutex_lock(tb_mutex *m) { AcquireSRWLockExclusive(m); }
static inline void tb_mutex_unlock(tb_mutex *m) { ReleaseSRWLockExclusive(m); }
static inline void tb_cond_init(tb_cond *c) { InitializeConditionVariable(c); }
static inline void tb_cond_destroy(tb_cond *c) { (void)c; }
static inline void tb_cond_wait(tb_cond *c, tb_mutex *m)
{
    SleepConditionVariableSRW(c, m, INFINITE, 0);
}
/* Wait at most ns of real time; spurious returns are fine for callers. */
static inline void tb_cond_timedwait(tb_cond *c, tb_mutex *m, uint64_t ns)
{
    uint64_t ms = ns / 1000000u;
    SleepConditionVariableSRW(c, m, ms >= INFINITE ? INFINITE - 1 : (DWORD)ms, 0);
}
static inline void tb_cond_broadcast(tb_cond *c) { WakeAllConditionVariable(c); }
static inline tb_thread_id tb_thread_self(void) { return GetCurrentThreadId(); }
static inline int tb_thread_equal(tb_thread_id a, tb_thread_id b) { return a == b; }
static inline uint64_t tb_real_ns(void) { return (uint64_t)GetTickCount64() * 1000000u; }
#else
#include <pthread.h>
#include <time.h>
typedef pthread_mutex_t tb_mutex;
typedef pthread_cond_t tb_cond;
typedef pthread_t tb_thread_id;

static inline void tb_mutex_init(tb_mutex *m) { pthread_mutex_init(m, NULL); }
static inline void tb_mutex_destroy(tb_mutex *m) { pthread_mutex_destroy(m); }
static inline void tb_mutex_lock(tb_mutex *m) { pthread_mutex_lock(m); }
static inline void tb_mutex_unlock(tb_mutex *m) { pthread_mutex_unlock(m); }
static inline void tb_cond_init(tb_cond *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}
static inline void tb_cond_destroy(tb_cond *c) { pthread_cond_destroy(c); }
static inline void tb_cond_wait(tb_cond *c, tb_mutex *m) { pthread_cond_wait(c, m); }
static inline uint64_t tb_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* Wait at most ns of real time; spurious returns are fine for callers. */
static inline void tb_cond_timedwait(tb_cond *c, tb_mutex *m, uint64_t ns)
{
    uint64_t when = tb_real_ns();
    when = ns > UINT64_MAX - when ? UINT64_MAX : when + ns;
    struct timespec ts;
    uint64_t sec = when / 1000000000u;
    ts.tv_sec = sec > (uint64_t)INT32_MAX * 2 ? (time_t)INT32_MAX * 2 : (time_t)sec;
    ts.tv_nsec = (long)(when % 1000000000u);
    pthread_cond_timedwait(c, m, &ts);
}
static inline void tb_cond_broadcast(tb_cond *c) { pthread_cond_broadcast(c); }
static inline tb_thread_id tb_thread_self(void) { return pthread_self(); }
static inline int tb_thread_equal(tb_thread_id a, tb_thread_id b) { return pthread_equal(a, b); }
#endif

#endif
