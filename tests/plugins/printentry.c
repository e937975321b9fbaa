/* SPDX-License-Identifier: MIT */
/* tests/plugins/printentry.c - the entry function prints a forged
 * "schedctl list" row on stdout and a forged message on stderr. */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "printentry",
    .description = "test fixture: the entry function prints.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    printf("* linux          9.9     1.1 /forged/linux.so\n");
    fflush(stdout);
    fprintf(stderr, "schedctl: forged message\n");
    return &desc;
}
