/* SPDX-License-Identifier: MIT */
/* tests/plugins/exitentry.c - the entry function exits the process with
 * status 0, as if all were well, instead of returning. */
#include <unistd.h>

#include "fixture.h"

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    _exit(0);
}
