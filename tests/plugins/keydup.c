/* SPDX-License-Identifier: MIT */
/* tests/plugins/keydup.c - a config key declared twice. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 0, 8, "first" },
    { "seed", SCHED_CONFIG_INT, 0, 9, "another" },
    { "threads", SCHED_CONFIG_INT, 0, 16, "second" },
    { NULL, 0, 0, 0, NULL },
};

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .config_keys = keys,
    .name = "keydup",
    .description = "test fixture: a config key declared twice.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
