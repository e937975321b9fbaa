/* SPDX-License-Identifier: MIT */
/*
 * tests/test_replay_edges.c - what a user of replay files and shrinking
 * meets at their edges, through sched_test_run_seeds, the environment of
 * sched-test(7), the real host and test.so: an exact file longer than the
 * run, a SCHED_SHRINK that is neither 0 nor 1, a second, weaker shrink of
 * a seed already shrunk, and the loader's variables in a replay command.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tmpdir.h"
#include "planted_race.h"
#include "sweep_util.h"

#include <sched/sched.h>
#include <sched/test.h>

static char dir[64];
static char conf_fifo[96], conf_random[96];

static int suite_init(void)
{
    snprintf(dir, sizeof dir, "/tmp/sched-edges-XXXXXX");
    if (!test_mkdtemp(dir))
        return 1;
    snprintf(conf_fifo, sizeof conf_fifo, "%s/fifo.conf", dir);
    snprintf(conf_random, sizeof conf_random, "%s/random.conf", dir);
    write_file(conf_fifo, "backend = \"test\";\ntest: { randomize = false; };\n");
    write_file(conf_random, "backend = \"test\";\ntest: { seed = 1; };\n");
    setenv("SCHED_REPLAY_DIR", dir, 1);
    return 0;
}

static int suite_fini(void)
{
    return test_rmdir(dir) == 0 ? 0 : 1;
}

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 0 };
}

/* Two tasks, "x" and "y", run to the end. */
static int pair(sched_host *host, void *arg)
{
    (void)arg;
    sched_executor *ex;
    if (sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    sched_spawn_labeled(ex, sched_future_fn(nothing, NULL), "x", NULL);
    sched_spawn_labeled(ex, sched_future_fn(nothing, NULL), "y", NULL);
    sched_test_run_until_parked(sched_as_test(host));
    sched_executor_free(ex);
    return 0;
}

/* ---- an exact file longer than the run ------------------------------------- */

/* The program finished while the file still held a decision: that is a
 * departure, named by the file and the line where the rest begins; a
 * lenient file may hold more than the run uses. */
static void test_an_exact_file_longer_than_the_run_fails_naming_the_line(void)
{
    char *argv[] = { "./test_replay_edges", NULL };
    char want[2048];
    sched_error *err = NULL;
    const char *file = fixture("longer-than-run.replay");
    clear_env();
    setenv("SCHED_REPLAY", file, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, pair, NULL, &err), SCHED_EBACKEND);
    snprintf(want, sizeof want, "replay %s: the program finished early, after step 2: the file "
             "holds 1 decision more, from line 14 (step 2) on, that the run never made", file);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_STRING_EQUAL(line_after(msg, ""), want);
    CU_ASSERT_STRING_NOT_EQUAL(line_after(msg, "\nreplay with: "), "");
    sched_error_free(err);
    err = NULL;

    /* The same decisions, lenient. */
    char lenient[256];
    snprintf(lenient, sizeof lenient, "%s/lenient.replay", dir);
    const char *text = read_text(file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *copy = malloc(strlen(text) + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    strcpy(copy, text);
    char *mode = strstr(copy, "mode exact\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mode);
    memmove(mode + strlen("mode lenient"), mode + strlen("mode exact"),
            strlen(mode + strlen("mode exact")) + 1);
    memcpy(mode, "mode lenient", strlen("mode lenient"));
    write_file(lenient, copy);
    free(copy);
    setenv("SCHED_REPLAY", lenient, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, pair, NULL, &err), 0);
    if (err)
        fprintf(stderr, "\n%s\n", sched_error_message(err));
    sched_error_free(err);
    clear_env();
}

/* ---- SCHED_SHRINK's values ---------------------------------------------------- */

static int passes(sched_host *host, void *arg)
{
    (void)host;
    (void)arg;
    return 0;
}

/* 0 and 1 (and unset) are accepted; anything else is refused naming the
 * variable and the value, before anything runs. */
static void test_sched_shrink_takes_only_0_or_1(void)
{
    char *argv[] = { "./test_replay_edges", NULL };
    sched_error *err = NULL;
    clear_env();
    expect_0_or_1("SCHED_SHRINK", "shrink a failing run", conf_fifo, argv, passes);
    setenv("SCHED_SHRINK", "1", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, passes, NULL, &err), 0);
    sched_error_free(err);
    clear_env();
}

/* ---- a weaker shrink after a better one ------------------------------------------ */

/* The path at the end of the line starting with head. */
static const char *path_after(const char *msg, const char *head)
{
    static char buf[2048];
    const char *line = line_after(msg, head);
    const char *c = strrchr(line, ' ');
    snprintf(buf, sizeof buf, "%s", c ? c + 1 : "");
    return buf;
}

/* A seed shrunk to 2 deviations, then shrunk again with one trial (to
 * more): the better file stays, and the message says it was kept and
 * replays it. */
static void test_a_weaker_shrink_keeps_the_better_file(void)
{
    char *argv[] = { "./test_replay_edges", NULL };
    sched_error *err = NULL;
    unsigned long long seed = 0, left = 0;
    clear_env();
    setenv("SCHED_SHRINK", "1", 1);
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "200", 1);
    CU_ASSERT_EQUAL_FATAL(sched_test_run_seeds(conf_random, argv, race, NULL, &err), RACE_FAILED);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_EQUAL(sscanf(msg, "failing seed: %llu", &seed), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(msg, " to 2 deviations in "));
    char path[2048];
    snprintf(path, sizeof path, "%s", path_after(msg, "\nshrunk "));
    char *best = strdup(read_text(path) ? read_text(path) : "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(best, "sched-replay 1\n"));
    sched_error_free(err);
    err = NULL;

    char s[32];
    snprintf(s, sizeof s, "%llu", seed);
    setenv("SCHED_SEED", s, 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    setenv("SCHED_SHRINK_RUNS", "1", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, argv, race, NULL, &err), RACE_FAILED);
    msg = err ? sched_error_message(err) : "";
    const char *line = line_after(msg, "\nshrunk ");
    const char *to = strstr(line, " to ");
    CU_ASSERT_EQUAL(to ? sscanf(to, " to %llu deviations", &left) : 0, 1);
    /* One trial does not get there: this shrink is the weaker. */
    CU_ASSERT(left > 2);
    char want[4096];
    snprintf(want, sizeof want, ", more than the 2 of the file an earlier run shrank it to, which "
             "is kept: %s", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, want));
    if (!strstr(line, want))
        fprintf(stderr, "\n%s\n  lacks\n%s\n", msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(line_after(msg, "\nreplay the shrunk schedule with: "), path));
    const char *now = read_text(path);
    CU_ASSERT_STRING_EQUAL(now ? now : "", best);
    free(best);
    sched_error_free(err);
    clear_env();
}

/* ---- the loader's variables in the replay command ------------------------------ */

static int fails(sched_host *host, void *arg)
{
    (void)arg;
    return pair(host, NULL) == 0 ? 7 : 1;
}

/* The run found libsched and its plugins through LD_LIBRARY_PATH and
 * ignored the system's files (SCHED_NOSYSTEM): pasted elsewhere, the
 * command must say so too, each value shell-quoted. */
static void test_the_replay_command_repeats_the_loader_variables(void)
{
    char *argv[] = { "./test_replay_edges", NULL };
    const char *old = getenv("LD_LIBRARY_PATH");
    char *saved = old ? strdup(old) : NULL;
    char lib[512];
    snprintf(lib, sizeof lib, "%s/it's lib:%s", dir, old ? old : "/nowhere");
    clear_env();
    setenv("LD_LIBRARY_PATH", lib, 1);
    setenv("SCHED_SEED", "4", 1);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, fails, NULL, &err), 7);
    const char *msg = err ? sched_error_message(err) : "";
    char vars[4096], want[8192];
    CU_ASSERT_PTR_NOT_NULL(strstr(test_load_vars(vars, sizeof vars), " LD_LIBRARY_PATH='"));
    snprintf(want, sizeof want, "%s SCHED_SEED=4 SCHED_ITERATIONS=1 ", vars);
    CU_ASSERT_PTR_NOT_NULL(strstr(line_after(msg, "\nreplay with: "), want));
    snprintf(want, sizeof want, "%s SCHED_REPLAY=", vars);
    CU_ASSERT_PTR_NOT_NULL(strstr(line_after(msg, "\nreplay exactly with: "), want));
    if (!strstr(line_after(msg, "\nreplay exactly with: "), want))
        fprintf(stderr, "\n%s\n  lacks\n%s\n", msg, want);
    sched_error_free(err);
    if (saved)
        setenv("LD_LIBRARY_PATH", saved, 1);
    else
        unsetenv("LD_LIBRARY_PATH");
    free(saved);
    clear_env();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("replay edges", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_an_exact_file_longer_than_the_run_fails_naming_the_line);
    T(test_sched_shrink_takes_only_0_or_1);
    T(test_the_replay_command_repeats_the_loader_variables);
    T(test_a_weaker_shrink_keeps_the_better_file);
#undef T
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
