/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance.h - the executor contract, as one CUnit
 * suite that runs against any backend by name.
 *
 * The backend is chosen only through a config file the suite writes
 * ("backend = \"NAME\";"), so a third-party plugin found along
 * SCHED_PLUGIN_PATH or in the plugin directory runs the same suite.
 */
#ifndef SCHED_CONFORMANCE_H
#define SCHED_CONFORMANCE_H

#include <stddef.h>
#include <stdio.h>

/* A test's time limit unless --timeout says otherwise, before
 * SCHED_CONFORM_TIMEOUT_SCALE multiplies it. */
#define SCHED_CONFORMANCE_TIMEOUT_MS 10000u

/* How to run the suite.  A NULL options pointer runs every test. */
struct sched_conformance_options {
    const char *const *only;    /* run only tests whose names contain one of these */
    size_t nonly;
    unsigned timeout_ms;        /* 0: SCHED_CONFORMANCE_TIMEOUT_MS */
};

/*
 * Run the suite against backend `name`, each test in a child process of
 * its own, printing one line per test to out as it ends (PASS, FAIL with
 * the failed assertions, CRASH signal N, TIMEOUT) and then a summary.
 * Returns the number of failed tests, or -1 when the suite could not run
 * (no such backend); the reason goes to out.
 */
int sched_conformance_run(const char *name, const struct sched_conformance_options *opt, FILE *out);

/* `schedctl conform NAME...`: 0 when every named backend passes. */
int sched_conformance_main(int argc, char **argv, const struct sched_conformance_options *opt);

#endif
