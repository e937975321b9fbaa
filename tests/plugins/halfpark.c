/* SPDX-License-Identifier: MIT */
/* tests/plugins/halfpark.c - park is set and unpark is not: the host can use neither. */
#include "fixture.h"

static int halfpark_park(void *self, sched_parker *p, uint64_t timeout_ns)
{
    (void)self;
    (void)p;
    (void)timeout_ns;
    return 0;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "halfpark",
    .description = "test fixture: park is set and unpark is not: the host can use neither.",
    .version = "0",
    .ops = {
        .create = fixture_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
        .park = halfpark_park,
    },
};

FIXTURE_ENTRY(desc)
