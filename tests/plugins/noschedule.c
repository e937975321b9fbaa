/* SPDX-License-Identifier: MIT */
/* tests/plugins/noschedule.c - the required op schedule is NULL. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "noschedule",
    .description = "test fixture: the required op schedule is NULL.",
    .version = "0",
    .ops = {
        .create = fixture_create,
        .destroy = fixture_destroy,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
    },
};

FIXTURE_ENTRY(desc)
