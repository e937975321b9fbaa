/* SPDX-License-Identifier: MIT */
/* tests/plugins/escapestr.c - a version, a description and a key's doc
 * with a newline and terminal escape sequences in them. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 1, 8, "clears\033[2J the screen" },
    { NULL, 0, 0, 0, NULL },
};

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .config_keys = keys,
    .name = "escapestr",
    .description = "sets\033]0;title\007 the title",
    .version = "1.0\n* linux 9.9 1.1 /forged/linux.so",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
