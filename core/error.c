/* SPDX-License-Identifier: MIT */
/*
 * core/error.c - status codes and error sentences.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct sched_error {
    int code;
    char message[];
};

/* Handed out when there is no memory for the real sentence, so a caller
 * that asked for an error always gets one.  Never freed. */
static const struct {
    int code;
    char message[sizeof "out of memory"];
} oom_error = { SCHED_ENOMEM, "out of memory" };

#define OOM_ERROR ((sched_error *)(void *)&oom_error)

int sched_error_code(const sched_error *err)
{
    return err != NULL ? err->code : 0;
}

const char *sched_error_message(const sched_error *err)
{
    return err != NULL ? err->message : "";
}

void sched_error_free(sched_error *err)
{
    if (err != OOM_ERROR)
        free(err);
}

const char *sched_strerror(int code)
{
    switch (code) {
    case SCHED_OK: return "success";
    case SCHED_EINVAL: return "invalid argument";
    case SCHED_ENOMEM: return "out of memory";
    case SCHED_ENOENT: return "not found";
    case SCHED_ECONFIG: return "invalid configuration";
    case SCHED_ELOAD: return "plugin refused";
    case SCHED_ECLOSED: return "closed";
    case SCHED_ETIMEDOUT: return "timed out";
    case SCHED_ECANCELED: return "cancelled";
    case SCHED_EDEADLK: return "deadlock: nothing can wake the waiter";
    case SCHED_EWRONGTHREAD: return "called from the wrong thread";
    case SCHED_ENOSESSION: return "no current session";
    case SCHED_ESESSION: return "unknown or ended session";
    case SCHED_EDANGLING: return "undeclared work still running at cleanup";
    case SCHED_ECROSS: return "awaited across requests";
    case SCHED_ELIMIT: return "limit reached";
    case SCHED_ENOTSUP: return "not supported by this backend";
    case SCHED_EHUNG: return "request can never complete";
    case SCHED_EBACKEND: return "backend failure";
    case SCHED_EAGAIN: return "a system resource limit was reached";
    case SCHED_ECPU: return "CPU time limit exceeded";
    case SCHED_EEMPTY: return "nothing to take yet";
    }
    return code > 0 ? "pending" : "unknown error";
}

/*
 * Store a new error with code and the formatted sentence in *err (when err
 * is not NULL; *err must not already hold one).  Returns code so callers
 * can write `return sched__error_set(err, SCHED_EINVAL, ...)`.
 */
int sched__error_set(sched_error **err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sched_error *e = n < 0 ? NULL : malloc(sizeof *e + (size_t)n + 1);
    if (e == NULL) {
        *err = OOM_ERROR;
        return code;
    }
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *err = e;
    return code;
}
