/* SPDX-License-Identifier: MIT */
/* tests/plugins/escapestr.c - a version, a description and a key's doc
 * with a newline and terminal escape sequences in them. */
#include "fixture.h"

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 1, 8, "clears\033[2J the screen" },
    { NULL, 0, 0, 0, NULL },
};

FIXTURE_PLUGIN("escapestr",
               "sets\033]0;title\007 the title",
               "1.0\n* linux 9.9 1.1 /forged/linux.so", keys)
