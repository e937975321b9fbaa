/* SPDX-License-Identifier: MIT */
/* tests/plugins/keyname.c - a config key no config file can spell. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "linux.threads", SCHED_CONFIG_INT, 0, 8, "a dotted name" },
    { NULL, 0, 0, 0, NULL },
};

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .config_keys = keys,
    .name = "keyname",
    .description = "test fixture: a config key no config file can spell.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
