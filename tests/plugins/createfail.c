/* SPDX-License-Identifier: MIT */
/* tests/plugins/createfail.c - create() fails and says why. */
#include "fixture.h"

static int createfail_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    (void)env;
    (void)self;
    snprintf(err, errlen, "no worker threads could be started");
    return SCHED_EBACKEND;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "createfail",
    .description = "test fixture: create() fails and says why.",
    .version = "0",
    .ops = {
        .create = createfail_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
    },
};

FIXTURE_ENTRY(desc)
