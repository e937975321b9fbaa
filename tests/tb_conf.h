/* SPDX-License-Identifier: MIT */
/*
 * tests/tb_conf.h - the config files and host opening that the tests of
 * the simulated backends share (test_testbackend.c, test_strategy.c,
 * test_determinism.c, test_determinism_reports.c).  Each test is one
 * program, so the helpers are static and live here whole.
 *
 * Include after <CUnit/Basic.h> and <sched/sched.h> (and tmpdir.h where
 * the test uses it).
 */
#ifndef SCHED_TESTS_TB_CONF_H
#define SCHED_TESTS_TB_CONF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char conf_paths[24][64];
static int nconf;

/* Write a config file for the rest of the run; returns its path. */
static inline const char *conf(const char *text)
{
    if (nconf == (int)(sizeof conf_paths / sizeof conf_paths[0]))
        abort();
    char *path = conf_paths[nconf++];
    snprintf(path, sizeof conf_paths[0], "/tmp/sched-tbconf-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

/* Remove every file conf() wrote. */
static inline void conf_unlink_all(void)
{
    for (int i = 0; i < nconf; i++)
        unlink(conf_paths[i]);
}

static inline sched_host *open_host(const char *path)
{
    sched_host *host = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&host, path, &err);
    if (rc)
        fprintf(stderr, "sched_host_open: %s\n", sched_error_message(err));
    sched_error_free(err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return host;
}

#endif
