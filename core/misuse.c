/* SPDX-License-Identifier: MIT */
/*
 * core/misuse.c - the library's documented abort, and its debug mode.
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

#include "internal.h"

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

#ifdef SCHED_DEBUG_DEFAULT
#define DEBUG_DEFAULT 1
#else
#define DEBUG_DEFAULT 0
#endif

static atomic_int debug_mode = -1;      /* -1 until first read */

/* SCHED_DEBUG=1 turns it on, 0 off; otherwise the configure default.
 * Read once: a program cannot switch it while handles exist. */
int sched__debug(void)
{
    int on = atomic_load_explicit(&debug_mode, memory_order_relaxed);
    if (on >= 0)
        return on;
    const char *v = sched__secure_getenv("SCHED_DEBUG");
    on = v != NULL && v[0] != '\0' ? (v[0] != '0') : DEBUG_DEFAULT;
    int unknown = -1;
    atomic_compare_exchange_strong(&debug_mode, &unknown, on);
    return atomic_load(&debug_mode);
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
