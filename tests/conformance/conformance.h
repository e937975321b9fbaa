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

#include <stdio.h>

/*
 * Run the suite against backend `name`, printing a pass/fail table to out.
 * Returns the number of failed tests, or -1 when the suite could not run
 * (no such backend, CUnit failure); the reason goes to out.
 */
int sched_conformance_run(const char *name, FILE *out);

/* `schedctl conform NAME...`: 0 when every named backend passes. */
int sched_conformance_main(int argc, char **argv);

#endif
