/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/util.c - what schedctl and schedctl-suite both print
 * through: error lines and the library's log lines on stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "schedctl.h"

void sched__ctl_error(const char *fmt, ...)
{
    va_list ap;
    fputs("schedctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *level_name(int level)
{
    switch (level) {
    case SCHED_LOG_ERROR: return "error";
    case SCHED_LOG_WARN: return "warning";
    case SCHED_LOG_INFO: return "info";
    default: return "debug";
    }
}

/* The library never prints; schedctl shows its log lines on stderr,
 * except debug chatter. */
void sched__ctl_log_to_stderr(int level, const char *msg, void *data)
{
    (void)data;
    if (level <= SCHED_LOG_INFO)
        fprintf(stderr, "schedctl: %s: %s\n", level_name(level), msg);
}

