/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/run_suite.c - "schedctl conform" and "schedctl bench" run
 * schedctl-suite, a separate program, so that schedctl itself does not
 * depend on CUnit at run time (the conformance suite is CUnit's).
 *
 * The suite is $(pkglibexecdir)/schedctl-suite, or the program
 * SCHEDCTL_SUITE names (read with secure_getenv; the test suite points it
 * into the build tree).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <process.h>
#else
#include <unistd.h>
#endif

#include "schedctl.h"

#ifndef SCHED_SUITE_PATH
#error "SCHED_SUITE_PATH must name the installed schedctl-suite"
#endif

static const char *suite_override(void)
{
#if defined(HAVE_SECURE_GETENV)
    return secure_getenv("SCHEDCTL_SUITE");
#else
    return getenv("SCHEDCTL_SUITE");
#endif
}

int sched__ctl_run_suite(int argc, char **argv)
{
    const char *suite = suite_override();
    if (suite == NULL || suite[0] == '\0')
        suite = SCHED_SUITE_PATH;
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) {
        sched__ctl_error("%s: out of memory", argv[0]);
        return SCHEDCTL_FAIL;
    }
    args[0] = (char *)suite;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
#if defined(_WIN32)
    intptr_t rc = _spawnv(_P_WAIT, suite, (const char *const *)args);
    free(args);
    if (rc >= 0)
        return (int)rc;
#else
    fflush(NULL);
    execv(suite, args);
    free(args);
#endif
    sched__ctl_error("%s: cannot run %s: %s (it is installed with schedctl's conformance and "
                     "benchmark suite)",
                     argv[0], suite, strerror(errno));
    return SCHEDCTL_FAIL;
}
