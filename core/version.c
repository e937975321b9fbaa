/* SPDX-License-Identifier: MIT */
/*
 * core/version.c - sched_version(): the version of the library that runs,
 * as against SCHED_VERSION_STRING, the version a program was compiled
 * against.
 */
#include "config.h"

#include "internal.h"

const char *sched_version(void)
{
    return PACKAGE_VERSION;
}
