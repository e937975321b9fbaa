/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/os.h - the little of the OS the isolate needs:
 * one mutex, one condition variable, the identity of the calling thread
 * and a monotonic clock for waits on the outside world.
 *
 * A plugin links nothing of libsched, so it cannot use core/platform.h;
 * this is its own minimal copy, POSIX or Win32.
 */
#ifndef CFSIM_OS_H
#define CFSIM_OS_H

#include <stdint.h>

#if defined(_WIN32)
#include <windows.h>
typedef SRWLOCK cfsim_mutex;
typedef CONDITION_VARIABLE cfsim_cond;
typedef DWORD cfsim_thread_id;

static inline void cfsim_mutex_init(cfsim_mutex *m) { InitializeSRWLock(m); }
static inline void cfsim_mutex_destroy(cfsim_mutex *m) { (void)m; }
static inline void cfsim_mutex_lock(cfsim_mutex *m) { AcquireSRWLockExclusive(m); }
static inline void cfsim_mutex_unlock(cfsim_mutex *m) { ReleaseSRWLockExclusive(m); }
static inline void cfsim_cond_init(cfsim_cond *c) { InitializeConditionVariable(c); }
static inline void cfsim_cond_destroy(cfsim_cond *c) { (void)c; }
static inline void cfsim_cond_wait(cfsim_cond *c, cfsim_mutex *m)
{
    SleepConditionVariableSRW(c, m, INFINITE, 0);
}
/* Wait at most ns of real time; callers re-check, so early returns are fine. */
static inline void cfsim_cond_timedwait(cfsim_cond *c, cfsim_mutex *m, uint64_t ns)
{
    uint64_t ms = (ns + 999999u) / 1000000u;
    SleepConditionVariableSRW(c, m, ms >= INFINITE ? INFINITE - 1 : (DWORD)ms, 0);
}
static inline void cfsim_cond_broadcast(cfsim_cond *c) { WakeAllConditionVariable(c); }
static inline cfsim_thread_id cfsim_thread_self(void) { return GetCurrentThreadId(); }
static inline int cfsim_thread_equal(cfsim_thread_id a, cfsim_thread_id b) { return a == b; }
static inline uint64_t cfsim_real_ns(void) { return (uint64_t)GetTickCount64() * 1000000u; }
#else
#include <pthread.h>
#include <time.h>
typedef pthread_mutex_t cfsim_mutex;
typedef pthread_cond_t cfsim_cond;
typedef pthread_t cfsim_thread_id;

static inline void cfsim_mutex_init(cfsim_mutex *m) { pthread_mutex_init(m, NULL); }
static inline void cfsim_mutex_destroy(cfsim_mutex *m) { pthread_mutex_destroy(m); }
static inline void cfsim_mutex_lock(cfsim_mutex *m) { pthread_mutex_lock(m); }
static inline void cfsim_mutex_unlock(cfsim_mutex *m) { pthread_mutex_unlock(m); }
static inline void cfsim_cond_init(cfsim_cond *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}
static inline void cfsim_cond_destroy(cfsim_cond *c) { pthread_cond_destroy(c); }
static inline void cfsim_cond_wait(cfsim_cond *c, cfsim_mutex *m) { pthread_cond_wait(c, m); }
static inline uint64_t cfsim_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* Wait at most ns of real time; callers re-check, so early returns are fine. */
static inline void cfsim_cond_timedwait(cfsim_cond *c, cfsim_mutex *m, uint64_t ns)
{
    uint64_t when = cfsim_real_ns();
    when = ns > UINT64_MAX - when ? UINT64_MAX : when + ns;
    struct timespec ts;
    ts.tv_sec = (time_t)(when / 1000000000u);
    ts.tv_nsec = (long)(when % 1000000000u);
    pthread_cond_timedwait(c, m, &ts);
}
static inline void cfsim_cond_broadcast(cfsim_cond *c) { pthread_cond_broadcast(c); }
static inline cfsim_thread_id cfsim_thread_self(void) { return pthread_self(); }
static inline int cfsim_thread_equal(cfsim_thread_id a, cfsim_thread_id b)
{
    return pthread_equal(a, b);
}
#endif

#endif
