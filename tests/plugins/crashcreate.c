/* SPDX-License-Identifier: MIT */
/* tests/plugins/crashcreate.c - create() crashes (a write to an unmapped address). */
#include "fixture.h"

/* An unmapped address, not NULL: the crash is the fault itself, which
 * no sanitizer turns into an ordinary exit first. */
static volatile int *volatile nowhere = (volatile int *)8;

static int crashcreate_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    (void)env;
    (void)self;
    (void)err;
    (void)errlen;
    *nowhere = 1;
    return 0;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "crashcreate",
    .description = "test fixture: create() crashes.",
    .version = "0",
    .ops = {
        .create = crashcreate_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
    },
};

FIXTURE_ENTRY(desc)
