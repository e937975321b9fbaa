/* SPDX-License-Identifier: MIT */
/* tests/plugins/abi2.c - a plugin built for a future ABI major version, 2. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = 2,
    .abi_minor = 0,
    .size = sizeof(sched_plugin_descriptor),
    .name = "abi2",
    .description = "test fixture: a plugin built for a future ABI major version, 2.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

FIXTURE_ENTRY(desc)
