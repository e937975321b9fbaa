/* SPDX-License-Identifier: MIT */
/*
 * plugins/common/report.h - the parking report's shared text.
 *
 * Both simulated backends explain "nothing can run" the same way: their
 * own state first, then every live task as the host describes it, then
 * the seed that replays the run.  Header-only, as prng.h, so each plugin
 * keeps its own copy and links nothing.
 */
#ifndef SCHED_PLUGINS_REPORT_H
#define SCHED_PLUGINS_REPORT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <sched/plugin.h>

/* snprintf at *off, keeping count of the length needed past the end. */
static inline void sched_report_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static inline void sched_report_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += (size_t)n;
}

/* Append the host's list of live tasks and the replay line. */
static inline void sched_report_tasks(const sched_host_services *svc, sched_plugin_host *host,
                                      uint64_t seed, char *buf, size_t len, size_t *off)
{
    if (svc->describe_tasks(host, NULL, 0) == 0) {
        sched_report_put(buf, len, off, "pending tasks: none\n");
    } else {
        sched_report_put(buf, len, off, "pending tasks:\n");
        size_t room = *off < len ? len - *off : 0;
        *off += svc->describe_tasks(host, room ? buf + *off : NULL, room);
    }
    sched_report_put(buf, len, off, "replay with SCHED_SEED=%llu\n", (unsigned long long)seed);
}

#endif
