/* SPDX-License-Identifier: MIT */
/* tests/plugins/keytype.c - a config key of an unknown type. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", (sched_config_type)99, 0, 0, "a key of type 99" },
    { NULL, 0, 0, 0, NULL },
};

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .config_keys = keys,
    .name = "keytype",
    .description = "test fixture: a config key of an unknown type.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
