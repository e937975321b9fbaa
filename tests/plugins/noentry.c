/* SPDX-License-Identifier: MIT */
/* tests/plugins/noentry.c - a shared object that exports its entry function under another name, as a v0 plugin would. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "noentry",
    .description = "test fixture: a shared object that exports its entry function under another name, as a v0 plugin would.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *sched_plugin_entry_v0(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
