/* SPDX-License-Identifier: MIT */
/* tests/plugins/crashentry.c - the entry function itself crashes (a write to an unmapped address). */
#include "fixture.h"

/* An unmapped address, not NULL: the crash is the fault itself, which
 * no sanitizer turns into an ordinary exit first. */
static volatile int *volatile nowhere = (volatile int *)8;

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "crashentry",
    .description = "test fixture: the entry function crashes.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    *nowhere = 1;
    return &desc;
}
