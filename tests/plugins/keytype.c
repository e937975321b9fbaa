/* SPDX-License-Identifier: MIT */
/* tests/plugins/keytype.c - a config key of an unknown type. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", (sched_config_type)99, 0, 0, "a key of type 99" },
    { NULL, 0, 0, 0, NULL },
};

FIXTURE_PLUGIN("keytype",
               "test fixture: a config key of an unknown type.",
               "0", keys)
