/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/util.c - what schedctl and schedctl-suite both print
 * through: error lines and the library's log lines on stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedctl.h"

FILE *sched__ctl_out;
FILE *sched__ctl_err;

/* One byte of s for a terminal: itself, or an escape; 0 when it needs none. */
static int esc_byte(unsigned char c, char out[5])
{
    if (c >= 0x20 && c != 0x7f)
        return 0;
    switch (c) {
    case '\n': memcpy(out, "\\n", 3); return 2;
    case '\t': memcpy(out, "\\t", 3); return 2;
    case '\r': memcpy(out, "\\r", 3); return 2;
    default: snprintf(out, 5, "\\x%02x", c); return 4;
    }
}

const char *sched__ctl_esc(const char *s, char *buf, size_t len)
{
    size_t used = 0;
    if (s == NULL)
        s = "";
    for (; *s != '\0'; s++) {
        char e[5];
        int n = esc_byte((unsigned char)*s, e);
        const char *piece = n > 0 ? e : s;
        size_t pn = n > 0 ? (size_t)n : 1;
        if (used + pn + 4 > len) {
            /* Cut it, and say so. */
            snprintf(buf + used, len - used, "%s", used + 4 <= len ? "..." : "");
            return buf;
        }
        memcpy(buf + used, piece, pn);
        used += pn;
    }
    buf[used] = '\0';
    return buf;
}

/* Whole messages (they may quote a plugin's strings) with control
 * characters escaped: nothing a plugin said moves the cursor. */
static void put_esc(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        char e[5];
        if (esc_byte((unsigned char)*s, e) > 0)
            fputs(e, f);
        else
            fputc(*s, f);
    }
}

void sched__ctl_error(const char *fmt, ...)
{
    va_list ap;
    char small[1024];
    FILE *f = SCHED__CTL_ERR;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *msg = small;
    if (n >= (int)sizeof small && (msg = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    fputs("schedctl: ", f);
    put_esc(f, msg != NULL ? msg : small);
    fputc('\n', f);
    if (msg != small)
        free(msg);
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
    if (level <= SCHED_LOG_INFO) {
        FILE *f = SCHED__CTL_ERR;
        fprintf(f, "schedctl: %s: ", level_name(level));
        put_esc(f, msg);
        fputc('\n', f);
    }
}

