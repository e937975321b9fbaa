/* SPDX-License-Identifier: MIT */
/*
 * core/misuse.c - the library's documented aborts, and its debug mode.
 *
 * A few misuses cannot be reported by a return code (the function returns
 * void, or going on would corrupt memory): a foreground executor used off
 * its thread, a host closed from a thread other than its main thread.
 * libsched then prints one sentence naming the public function and aborts,
 * as libdispatch does on a client crash.
 *
 * Debug mode (SCHED_DEBUG=1, or configure --enable-debug) adds the misuses
 * that in a normal build are only undefined behaviour: a second free, a
 * join after detach, a wake after the last drop, a second close.  Freed
 * handles are filled with SCHED__POISON_BYTE and held back from malloc for
 * the next QUARANTINE frees, so such a use finds the poison (and aborts
 * naming the function) instead of a reused block.
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

void sched__misuse(const char *func, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "libsched: fatal: %s: ", func);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* A foreground task or executor used off its thread is a bug no return
 * code can contain.  site, when known, is said to be where `kind` (the
 * task was spawned, the function was called). */
static void affinity_check(sched_host *host, const char *what, const char *kind,
                           const sched_site *site)
{
    char self[96], owner[96], where[512] = "";
    if (sched__thread_equal(sched__thread_self(), host->main_thread))
        return;
    sched__thread_describe(sched__thread_self(), self, sizeof self);
    sched__thread_describe(host->main_thread, owner, sizeof owner);
    if (site)
        snprintf(where, sizeof where, " (%s at %s:%d in %s())", kind,
                 site->file ? site->file : "(unknown)", site->line,
                 site->func ? site->func : "(unknown)");
    fprintf(stderr,
            "libsched: fatal: %s on %s, but the foreground executor belongs to %s%s\n",
            what, self, owner, where);
    fflush(stderr);
    abort();
}

void sched__foreground_check(sched_host *host, const char *what, const sched_site *site)
{
    affinity_check(host, what, "task spawned", site);
}

void sched__foreground_call_check(sched_host *host, const char *func, const sched_site *site)
{
    char what[96];
    snprintf(what, sizeof what, "%s called", func);
    affinity_check(host, what, "called", site);
}

#ifdef SCHED_DEBUG_DEFAULT
#define DEBUG_DEFAULT 1
#else
#define DEBUG_DEFAULT 0
#endif

atomic_int sched__debug_mode = -1;      /* -1 until first read */

/* SCHED_DEBUG=1 turns it on, 0 off; otherwise the configure default.
 * Read once: a program cannot switch it while handles exist.  (The
 * inline sched__debug in internal.h answers once it is known.) */
int sched__debug_read(void)
{
    int on;
    const char *v = sched__secure_getenv("SCHED_DEBUG");
    on = v != NULL && v[0] != '\0' ? (v[0] != '0') : DEBUG_DEFAULT;
    int unknown = -1;
    atomic_compare_exchange_strong(&sched__debug_mode, &unknown, on);
    return atomic_load(&sched__debug_mode);
}

enum { QUARANTINE = 4096 };

static atomic_flag quarantine_lock = ATOMIC_FLAG_INIT;
static void *quarantine[QUARANTINE];
static size_t quarantine_next;

/* Free a handle's memory: at once, or in debug mode poisoned and after
 * QUARANTINE more such frees.  Any thread. */
void sched__release(void *p, size_t size)
{
    void *old;
    if (p == NULL)
        return;
    if (!sched__debug()) {
        free(p);
        return;
    }
    memset(p, SCHED__POISON_BYTE, size);
    while (atomic_flag_test_and_set_explicit(&quarantine_lock, memory_order_acquire))
        ;
    old = quarantine[quarantine_next];
    quarantine[quarantine_next] = p;
    quarantine_next = (quarantine_next + 1) % QUARANTINE;
    atomic_flag_clear_explicit(&quarantine_lock, memory_order_release);
    free(old);
}

/* Whether the n bytes at p all read SCHED__POISON_BYTE, as sched__release
 * leaves them (no live pointer does). */
static int poisoned(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != SCHED__POISON_BYTE)
            return 0;
    return 1;
}

/* Debug mode: a waker whose task or blocker was freed (its last reference
 * dropped) aborts naming func.  Returns w's blocker (by its head), or NULL
 * for a task. */
struct sched__waker_head *sched__waker_check(sched_waker *w, const char *func)
{
    uintptr_t p = (uintptr_t)w;
    if (p & SCHED__WAKER_BLOCK) {
        struct sched__waker_head *h = (struct sched__waker_head *)(p & ~(uintptr_t)SCHED__WAKER_BLOCK);
        if (sched__debug() && poisoned(&h->host, sizeof h->host))
            sched__misuse(func, "waker %p was used after its last reference was dropped",
                          (void *)w);
        return h;
    }
    if (sched__debug()
        && atomic_load_explicit(&((struct sched_task *)w)->state, memory_order_relaxed)
               == SCHED__POISON32)
        sched__misuse(func, "waker %p was used after its last reference was dropped", (void *)w);
    return NULL;
}

/* Debug mode: a handle already given up (detached, freed, or consumed by
 * sched_task_join) aborts naming func.  The task may be alive still (its
 * HANDLE bit is then clear, or JOINED set) or freed (poison). */
void sched__handle_check(sched_task *t, const char *func)
{
    uint32_t s;
    if (!sched__debug())
        return;
    s = atomic_load_explicit(&t->state, memory_order_relaxed);
    if (s == SCHED__POISON32 || !(s & SCHED__HANDLE) || (s & SCHED__JOINED))
        sched__misuse(func, "task handle %p was already detached, joined or freed", (void *)t);
}
