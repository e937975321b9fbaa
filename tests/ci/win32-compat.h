/* SPDX-License-Identifier: MIT */
/*
 * tests/ci/win32-compat.h - POSIX environment calls for the test programs
 * of a Windows build, forced into each of them (-include) by
 * tests/windows.am.  Tests only: the library itself uses platform.h.
 */
#ifndef SCHED_TESTS_WIN32_COMPAT_H
#define SCHED_TESTS_WIN32_COMPAT_H

#include <stdlib.h>

/* setenv(3), on the C runtime's environment (what getenv reads). */
static inline int setenv(const char *name, const char *value, int overwrite)
{
    if (!overwrite && getenv(name) != NULL)
        return 0;
    return _putenv_s(name, value) == 0 ? 0 : -1;
}

/* unsetenv(3): an empty value removes the variable. */
static inline int unsetenv(const char *name)
{
    return _putenv_s(name, "") == 0 ? 0 : -1;
}

#endif
