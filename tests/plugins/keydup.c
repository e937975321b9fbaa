/* SPDX-License-Identifier: MIT */
/* tests/plugins/keydup.c - a config key declared twice. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 0, 8, "first" },
    { "seed", SCHED_CONFIG_INT, 0, 9, "another" },
    { "threads", SCHED_CONFIG_INT, 0, 16, "second" },
    { NULL, 0, 0, 0, NULL },
};

FIXTURE_PLUGIN("keydup",
               "test fixture: a config key declared twice.",
               "0", keys)
