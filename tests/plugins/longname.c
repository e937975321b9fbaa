/* SPDX-License-Identifier: MIT */
/* tests/plugins/longname.c - a name of 512 bytes with no terminating NUL:
 * the loader must refuse it without reading past 255 bytes. */
#include <string.h>

#include "fixture.h"

static char name[512];

static sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = name,
    .description = "test fixture: an unterminated name.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    memset(name, 'a', sizeof name);
    return &desc;
}
