/* SPDX-License-Identifier: MIT */
/*
 * tests/sweep_util.h - what the tests of sched_test_run_seeds share
 * (test_replay.c, test_replay_edges.c): the files they write and read,
 * the sweep's variables they clear and the lines of its messages they
 * pick out.  Each test is one program, so the helpers are static and live
 * here whole.
 *
 * Include after <CUnit/Basic.h>.
 */
#ifndef SCHED_TESTS_SWEEP_UTIL_H
#define SCHED_TESTS_SWEEP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write text to path, or abort: the tests' own files must be there. */
static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

/* The text of the file at path (up to 1 MiB), in a buffer the next call
 * reuses; NULL when it cannot be opened. */
static inline char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A replay file of tests/replay/, by name. */
static inline const char *fixture(const char *name)
{
    static char path[1024];
    const char *top = getenv("SCHED_TOP_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/replay/%s", top ? top : "..", name);
    return path;
}

/* Unset what a test sets of the sweep's environment (sched-test(7)). */
static inline void clear_env(void)
{
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
    unsetenv("SCHED_REPLAY");
    unsetenv("SCHED_RECORD");
    unsetenv("SCHED_SHRINK");
    unsetenv("SCHED_SHRINK_RUNS");
    unsetenv("SCHED_TRACE");
}

/* The value after prefix up to the end of its line, from msg ("" when
 * prefix is not there), in a buffer the next call reuses. */
static inline const char *line_after(const char *msg, const char *prefix)
{
    static char buf[4096];
    const char *p = msg ? strstr(msg, prefix) : NULL;
    if (!p)
        return "";
    p += strlen(prefix);
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(p, "\n"), p);
    return buf;
}

#endif
