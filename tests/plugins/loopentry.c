/* SPDX-License-Identifier: MIT */
/* tests/plugins/loopentry.c - the entry function never returns (it spins). */
#include "fixture.h"

static volatile int forever = 1;

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "loopentry",
    .description = "test fixture: the entry function loops forever.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    while (forever)
        ;
    return &desc;
}
