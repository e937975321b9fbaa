/* SPDX-License-Identifier: MIT */
/*
 * tests/sweep_util.h - what the tests of sched_test_run_seeds share
 * (test_replay.c, test_replay_edges.c, test_testbackend.c): the files they
 * write and read, the sweep's variables they clear, the lines of its
 * messages they pick out, shell words as its commands quote them, and the
 * check of a variable that takes 0 or 1.  Each test is one program, so
 * the helpers are static and live here whole.
 *
 * Include after <CUnit/Basic.h>.
 */
#ifndef SCHED_TESTS_SWEEP_UTIL_H
#define SCHED_TESTS_SWEEP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>
#include <sched/test.h>

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

/* w as one shell word: as it is when it holds only characters no shell
 * treats specially, else in single quotes.  (Under wine the plugin path
 * is a Windows path list, with backslashes and semicolons.) */
static inline const char *shell_word(const char *w, char *buf, size_t len)
{
    size_t n = 0;
    if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_./=:,+-@%") == strlen(w))
        return w;
    buf[n++] = '\'';
    for (; *w && n + 6 < len; w++) {
        if (*w == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *w;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* A body and how many times it ran. */
struct counted_body {
    sched_test_body_fn body;
    int runs;
};

static inline int counted_run(sched_host *host, void *arg)
{
    struct counted_body *c = arg;
    c->runs++;
    return c->body(host, NULL);
}

/* A variable of the sweep that takes 0 or 1 (name; what 1 does, in the
 * words of the message): any other value makes
 * sched_test_run_seeds(config, argv, body) fail with SCHED_ECONFIG before
 * body runs, the message naming the variable and the value; with 0 and
 * unset the sweep passes, running body once (the caller sets no seed
 * range).  body gets a NULL argument.  Leaves name unset. */
static inline void expect_0_or_1(const char *name, const char *what, const char *config,
                                 char *const argv[], sched_test_body_fn body)
{
    /* On Windows setting a variable to "" removes it: that is unset. */
    static const char *const bad[] = { "yes",
#if !defined(_WIN32)
                                       "",
#endif
                                       "2", "01", "1 ", "true" };
    struct counted_body c = { body, 0 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[512];
        sched_error *err = NULL;
        setenv(name, bad[i], 1);
        c.runs = 0;
        CU_ASSERT_EQUAL(sched_test_run_seeds(config, argv, counted_run, &c, &err), SCHED_ECONFIG);
        CU_ASSERT_EQUAL(c.runs, 0);
        snprintf(want, sizeof want, "%s=\"%s\" is invalid: use 1 to %s, 0 (or leave it unset) "
                 "not to", name, bad[i], what);
        CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
        sched_error_free(err);
    }
    for (int i = 0; i < 2; i++) {
        sched_error *err = NULL;
        if (i == 0)
            setenv(name, "0", 1);
        else
            unsetenv(name);
        c.runs = 0;
        CU_ASSERT_EQUAL(sched_test_run_seeds(config, argv, counted_run, &c, &err), 0);
        CU_ASSERT_EQUAL(c.runs, 1);
        if (err)
            fprintf(stderr, "\n%s=%s: %s\n", name, i == 0 ? "0" : "(unset)",
                    sched_error_message(err));
        sched_error_free(err);
    }
}

#endif
