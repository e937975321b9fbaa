/* SPDX-License-Identifier: MIT */
/*
 * core/log.c - the application's log handler.
 *
 * The library never prints: every line it or a backend wants to log goes
 * to the handler the application installed, or nowhere.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* The handler and its userdata change together; a tiny spinlock keeps a
 * logging thread from pairing one handler with another's userdata.  It is
 * held only to copy two pointers, never while the handler runs. */
static atomic_flag handler_lock = ATOMIC_FLAG_INIT;
static sched_log_fn handler_fn;
static void *handler_data;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&handler_lock, memory_order_acquire))
        ;
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&handler_lock, memory_order_release);
}

void sched_log_set_handler(sched_log_fn fn, void *userdata)
{
    lock();
    handler_fn = fn;
    handler_data = userdata;
    unlock();
}

/* Format and hand one line to the handler.  Any thread.  Lines longer than
 * the stack buffer are formatted on the heap, and dropped if that fails. */
void sched__log(int level, const char *fmt, ...)
{
    lock();
    sched_log_fn fn = handler_fn;
    void *data = handler_data;
    unlock();
    if (fn == NULL)
        return;

    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        fn(level, small, data);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fn(level, big, data);
    free(big);
}
