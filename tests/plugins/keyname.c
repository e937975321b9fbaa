/* SPDX-License-Identifier: MIT */
/* tests/plugins/keyname.c - a config key no config file can spell. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "linux.threads", SCHED_CONFIG_INT, 0, 8, "a dotted name" },
    { NULL, 0, 0, 0, NULL },
};

FIXTURE_PLUGIN("keyname",
               "test fixture: a config key no config file can spell.",
               "0", keys)
