/* SPDX-License-Identifier: MIT */
/* tests/plugins/misnamed.c - the descriptor names another backend than the
 * file does; built with NO_NAME, as "noname", it names none (NULL). */
#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
#if defined(NO_NAME)
    .name = NULL,
    .description = "test fixture: the descriptor names no backend.",
#else
    .name = "valid",
    .description = "test fixture: the descriptor names another backend than the file does.",
#endif
    .version = "0",
    .ops = FIXTURE_OPS,
};

FIXTURE_ENTRY(desc)
