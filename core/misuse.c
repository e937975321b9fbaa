/* SPDX-License-Identifier: MIT */
/*
 * core/misuse.c - the library's documented abort.
 *
 * A few misuses cannot be reported by a return code (the function returns
 * void, or going on would corrupt memory): a foreground executor used off
 * its thread, a host closed from a thread other than its main thread.
 * libsched then prints one sentence naming the public function and aborts,
 * as libdispatch does on a client crash.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
