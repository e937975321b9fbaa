/* SPDX-License-Identifier: MIT */
/* tests/plugins/reserved.c - the descriptor sets its reserved field. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .reserved = 7,
    .name = "reserved",
    .description = "test fixture: reserved is not 0.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

FIXTURE_ENTRY(desc)
