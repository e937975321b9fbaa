/* SPDX-License-Identifier: MIT */
/*
 * tests/tmpdir.h - a private temporary directory for a test's files (the
 * replay files of failing seeds, SCHED_REPLAY_DIR), and its removal,
 * with the C library alone so that the Windows build runs it too.
 */
#ifndef SCHED_TESTS_TMPDIR_H
#define SCHED_TESTS_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(_WIN32)
#include <direct.h>
#include <io.h>
#endif

/* Make tmpl ("...XXXXXX") a new directory; tmpl, or NULL. */
static inline char *test_mkdtemp(char *tmpl)
{
#if defined(_WIN32)
    if (_mktemp_s(tmpl, strlen(tmpl) + 1) != 0 || _mkdir(tmpl) != 0)
        return NULL;
    return tmpl;
#else
    return mkdtemp(tmpl);
#endif
}

/* Remove dir and the files in it; 0 or -1. */
static inline int test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

/* The loader's variables a replay command repeats when set, after the
 * backend, config and plugin path (sched-test(7)): each " NAME=WORD",
 * the word shell-quoted as sched_test_run_seeds() quotes it. */
static inline const char *test_load_vars(char *buf, size_t len)
{
    static const char *const names[] = { "SCHED_NOSYSTEM", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH" };
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v == NULL || v[0] == '\0' || n + strlen(names[i]) + 4 * strlen(v) + 8 > len)
            continue;
        int plain = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789_./=:,+-@%") == strlen(v);
        n += (size_t)snprintf(buf + n, len - n, " %s=%s", names[i], plain ? "" : "'");
        for (; !plain && *v; v++)
            n += (size_t)snprintf(buf + n, len - n, "%s", *v == '\'' ? "'\\''" : (char[]){ *v, 0 });
        n += (size_t)snprintf(buf + n, len - n, "%s", plain ? v : "'");
    }
    return buf;
}

/* The program word sched_test_run_seeds() prints for a relative argv0:
 * the running executable, resolved (on Windows argv0 as given). */
static inline const char *test_program_word(const char *argv0, char *buf, size_t len)
{
#if defined(_WIN32)
    snprintf(buf, len, "%s", argv0);
#else
    char *exe = realpath("/proc/self/exe", NULL);
    (void)argv0;
    snprintf(buf, len, "%s", exe ? exe : "(no /proc/self/exe)");
    free(exe);
#endif
    return buf;
}

#endif
