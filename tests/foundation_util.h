/* SPDX-License-Identifier: MIT */
/*
 * tests/foundation_util.h - small helpers shared by the loader, config and
 * host suites: temporary files, fixture paths, error capture.
 */
#ifndef SCHED_FOUNDATION_UTIL_H
#define SCHED_FOUNDATION_UTIL_H

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/sched.h"

/* Abort the test program on a broken test environment: these are not
 * assertions about the library. */
static inline void util_die(const char *what)
{
    fprintf(stderr, "test environment: %s: %s\n", what, strerror(errno));
    exit(99);
}

/* $SCHED_TOP_BUILDDIR/tests/plugins/.libs, where the fixture plugins are. */
static inline const char *util_fixture_dir(void)
{
    static char dir[4096];
    if (dir[0] == '\0') {
        const char *top = getenv("SCHED_TOP_BUILDDIR");
        if (top == NULL) {
            errno = ENOENT;
            util_die("SCHED_TOP_BUILDDIR is not set (run through make check)");
        }
        snprintf(dir, sizeof dir, "%s/tests/plugins/.libs", top);
    }
    return dir;
}

static inline char *util_fixture(const char *name)
{
    static char path[4096 + 64];
    snprintf(path, sizeof path, "%s/%s.so", util_fixture_dir(), name);
    return path;
}

/* A fresh private directory under $TMPDIR; the caller removes it. */
static inline char *util_tempdir(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/sched-test-XXXXXX", t != NULL && t[0] == '/' ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    if (d == NULL)
        util_die("mkdtemp");
    if ((d = strdup(d)) == NULL)
        util_die("strdup");
    return d;
}

static inline void util_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
        util_die(path);
}

static inline void util_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    if (in == NULL || out == NULL)
        util_die(from);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n)
            util_die(to);
    }
    fclose(in);
    if (fclose(out) != 0)
        util_die(to);
}

/* rm -r of a directory holding plain files only. */
static inline void util_rmdir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        util_die(cmd);
    free(dir);
}

/* Compare an error's sentence with the expected text, showing both when
 * they differ. */
#define ASSERT_ERROR(err, code_, text)                                              \
    do {                                                                            \
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);                                          \
        CU_ASSERT_EQUAL(sched_error_code(err), (code_));                            \
        if (strcmp(sched_error_message(err), (text)) != 0)                          \
            fprintf(stderr, "\n  expected: %s\n  got:      %s\n", (text),          \
                    sched_error_message(err));                                      \
        CU_ASSERT_STRING_EQUAL(sched_error_message(err), (text));                   \
    } while (0)

/* Run the registered suites; exit status for automake's test driver. */
static inline int util_run(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures() + (int)CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed != 0 ? 1 : 0;
}

#endif
