/* SPDX-License-Identifier: MIT */
/* tests/plugins/createpos.c - create() returns 1, neither success nor an error code. */
#include "fixture.h"

static int createpos_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    (void)env;
    (void)err;
    (void)errlen;
    *self = NULL;
    return 1;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "createpos",
    .description = "test fixture: create() returns 1.",
    .version = "0",
    .ops = {
        .create = createpos_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
    },
};

FIXTURE_ENTRY(desc)
