/* SPDX-License-Identifier: MIT */
/* tests/plugins/small.c - a descriptor whose size says it ends before the v1 ops table does. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = offsetof(sched_plugin_descriptor, ops) + sizeof(void *),
    .name = "small",
    .description = "test fixture: a descriptor whose size says it ends before the v1 ops table does.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

FIXTURE_ENTRY(desc)
