/* SPDX-License-Identifier: MIT */
/* tests/plugins/longmsg.c - create() fills its whole message buffer, with no NUL, and fails. */
#include <string.h>

#include "fixture.h"

static int longmsg_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    (void)env;
    (void)self;
    memset(err, 'x', errlen);
    return SCHED_EBACKEND;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "longmsg",
    .description = "test fixture: create() fills its message buffer with no NUL.",
    .version = "0",
    .ops = {
        .create = longmsg_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
    },
};

FIXTURE_ENTRY(desc)
