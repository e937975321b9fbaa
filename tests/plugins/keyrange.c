/* SPDX-License-Identifier: MIT */
/* tests/plugins/keyrange.c - a config key whose minimum is above its maximum. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 10, 5, "min 10, max 5" },
    { NULL, 0, 0, 0, NULL },
};

FIXTURE_PLUGIN("keyrange",
               "test fixture: a config key whose minimum is above its maximum.",
               "0", keys)
