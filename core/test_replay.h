/* SPDX-License-Identifier: MIT */
/*
 * core/test_replay.h - replay files in the host: a failing seed's file for
 * sched_test_run_seeds (test_replay.c) and shrinking it (test_shrink.c),
 * which schedctl also uses.  The format itself is plugins/common/replay.c.
 */
#ifndef SCHED_TEST_REPLAY_H
#define SCHED_TEST_REPLAY_H

#include <stdint.h>

#include "internal.h"
#include "../plugins/common/replay.h"

/*
 * Run the program once on a replay (text, len bytes).  Returns 0 when it
 * ran, or a failure to run it at all (SCHED_ENOMEM stops the shrinking);
 * *outcome gets how it ended (0 when it passed; what counts as "the same
 * way" is the caller's: a body's result, an exit status), *record the
 * run's own replay file (malloc'd; NULL when none came back).
 */
typedef int (*sched__shrink_fn)(void *arg, const char *text, size_t len, char **record,
                                int *outcome);

struct sched__shrink_result {
    uint64_t decisions;     /* of the failing run: picks among two or more, and the rest */
    uint64_t deviations;    /* of the failing run */
    uint64_t left;          /* deviations of the shrunk run */
    uint64_t runs;
    int exhausted;          /* stopped at max_runs */
    char *text;             /* the shrunk run's replay file, exact; the caller frees it */
};

/*
 * Shrink the failing run whose replay file is text, which ended with
 * outcome want (non-zero): at most max_runs runs, each a lenient replay
 * of a subset of the deviations, and the smallest that ends with want
 * again wins.  0 with *res filled (res->text the input's run itself when
 * nothing smaller fails), or SCHED_ECONFIG (text is no replay file) /
 * SCHED_ENOMEM with *err set.
 */
int sched__shrink(const char *text, size_t len, int want, sched__shrink_fn run, void *arg,
                  uint64_t max_runs, struct sched__shrink_result *res, sched_error **err);
/* "shrunk 1,412 decisions with 380 deviations to 2 deviations in 57 runs" */
void sched__shrink_summary(const struct sched__shrink_result *res, char *buf, size_t len);
void sched__shrink_count(uint64_t v, char *buf, size_t len);

/* test_replay.c: the sched.test interface's replay ops, when present. */
int sched__replay_start(sched_test *t, const char *text, size_t len, const char *name,
                        sched_error **err);
/* The run's replay file so far (malloc'd), or NULL (none, or no memory). */
char *sched__replay_record(sched_test *t);
/* 0, or SCHED_EBACKEND with *msg (malloc'd) saying where the run left
 * its replay. */
int sched__replay_status(sched_test *t, char **msg);

/*
 * An exact replay (play, len bytes, called name) that holds decisions the
 * run (whose own replay file is record) never made: a malloc'd sentence
 * naming the file and the line where those decisions begin.  NULL when
 * the run made them all, the file is lenient, or a text is no replay.
 */
char *sched__replay_leftover(const char *play, size_t len, const char *name, const char *record);

/* record with a "fail" line for code (a new string; NULL when record
 * is no replay file or memory ran out). */
char *sched__replay_with_fail(const char *record, int code);
/*
 * Write text to DIR/PROG-seedSEED<suffix>, where DIR is $SCHED_REPLAY_DIR
 * (read like every override, with secure_getenv) or the current
 * directory and PROG the name argv[0] gives.  0 with *path (absolute,
 * malloc'd), or a negative code with why saying what stopped it (a
 * set-uid or set-gid program writes nothing).
 */
int sched__replay_save(const char *text, char *const argv[], uint64_t seed, const char *suffix,
                       char **path, char *why, size_t whylen);
/* The path sched__replay_save would write (*path malloc'd), or its
 * failure before writing. */
int sched__replay_path(char *const argv[], uint64_t seed, const char *suffix, char **path,
                       char *why, size_t whylen);

#endif
