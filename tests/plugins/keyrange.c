/* SPDX-License-Identifier: MIT */
/* tests/plugins/keyrange.c - a config key whose minimum is above its maximum. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 10, 5, "min 10, max 5" },
    { NULL, 0, 0, 0, NULL },
};

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .config_keys = keys,
    .name = "keyrange",
    .description = "test fixture: a config key whose minimum is above its maximum.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
