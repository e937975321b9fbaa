/* SPDX-License-Identifier: MIT */
/*
 * tests/test_replay.c - replay files and shrinking, as a user meets them:
 * sched_test_run_seeds and the SCHED_REPLAY, SCHED_REPLAY_DIR,
 * SCHED_RECORD, SCHED_SHRINK and SCHED_TRACE variables of sched-test(7),
 * through the real host and test.so.
 *
 * The planted race needs two decisions that depart from FIFO order and
 * nothing else: "b" must run before "a", and "d" before "c", among noise
 * tasks that yield and wait for random delays.  A sweep finds it, writes
 * the file, the file replays it (under any strategy setting), and
 * shrinking leaves exactly those two deviations.
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
static char conf_random[96], conf_fifo[96], conf_budget[96];

static int suite_init(void)
{
    snprintf(dir, sizeof dir, "/tmp/sched-replay-XXXXXX");
    if (!test_mkdtemp(dir))
        return 1;
    snprintf(conf_random, sizeof conf_random, "%s/random.conf", dir);
    snprintf(conf_fifo, sizeof conf_fifo, "%s/fifo.conf", dir);
    snprintf(conf_budget, sizeof conf_budget, "%s/budget.conf", dir);
    write_file(conf_random, "backend = \"test\";\ntest: { seed = 1; };\n");
    write_file(conf_fifo, "backend = \"test\";\ntest: { randomize = false; };\n");
    write_file(conf_budget, "backend = \"test\";\n"
                            "test: { timeout_ticks_min = 0; timeout_ticks_max = 20; };\n");
    setenv("SCHED_REPLAY_DIR", dir, 1);
    return 0;
}

static int suite_fini(void)
{
    return test_rmdir(dir) == 0 ? 0 : 1;
}

static char *const race_argv[] = { "./test_replay", "the race", NULL };

/* The path a message's line starting with head ends with (after ": "). */
static const char *path_after(const char *msg, const char *head)
{
    static char buf[2048];
    const char *p = msg ? strstr(msg, head) : NULL;
    const char *c = p ? strstr(p, ": ") : NULL;
    if (!c)
        return "";
    c += 2;
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(c, "\n"), c);
    return buf;
}

/* The labels of the tasks the deviating picks of a replay file ran (up
 * to max), and how many there were. */
static int deviating_picks(const char *text, char ran[][16], int max)
{
    char labels[64][16] = { { 0 } };
    int n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); ) {
        p++;
        unsigned num;
        char label[16];
        unsigned long long step, cands, rank, task;
        if (sscanf(p, "task %u %*s %*s \"%15[^\"]\"", &num, label) == 2 && num < 64)
            snprintf(labels[num], sizeof labels[num], "%s", label);
        else if (sscanf(p, "p %llu %llu %llu %llu", &step, &cands, &rank, &task) == 4 && rank) {
            if (n < max)
                snprintf(ran[n], 16, "%s", task < 64 ? labels[task] : "?");
            n++;
        }
    }
    return n;
}

/* How many records of a kind ("\nd ", "\nb ") hold a value other than 0. */
static int deviating_values(const char *text, const char *kind)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, kind)); p += strlen(kind)) {
        unsigned long long step, v;
        if (sscanf(p + strlen(kind), "%llu %llu", &step, &v) == 2 && v)
            n++;
    }
    return n;
}

/* Sweep the race from seed 0: the failing seed, its file's path. */
static unsigned long long sweep(char *path, size_t len, sched_error **err)
{
    unsigned long long seed = 0;
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "200", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, race, NULL, err), RACE_FAILED);
    const char *msg = *err ? sched_error_message(*err) : "";
    CU_ASSERT_EQUAL(sscanf(msg, "failing seed: %llu", &seed), 1);
    const char *file = line_after(msg, "\nreplay file: ");
    CU_ASSERT_STRING_NOT_EQUAL(file, "");
    CU_ASSERT(strlen(file) < len);
    snprintf(path, len, "%.*s", (int)len - 1, file);
    return seed;
}

static void test_a_failing_seed_leaves_a_file_that_replays_the_failure(void)
{
    char path[1024], want[20480];
    sched_error *err = NULL;
    clear_env();
    unsigned long long seed = sweep(path, sizeof path, &err);
    const char *pp = getenv("SCHED_PLUGIN_PATH");
    char w1[4096], w2[4096], w3[4096], w4[4096];
    /* In the replay directory (as the library resolves it: on Windows with
     * a drive), named after the program and the seed. */
    snprintf(want, sizeof want, "test_replay-seed%llu.replay", seed);
    CU_ASSERT(strlen(path) > strlen(want)
              && strcmp(path + strlen(path) - strlen(want), want) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(path, dir + strlen("/tmp/")));
    /* The command replays wherever it is pasted: absolute, quoted. */
    char lv[4096];
    snprintf(want, sizeof want, "SCHED_BACKEND=test%s%s%s SCHED_REPLAY=%s %s 'the race'",
             pp ? " SCHED_PLUGIN_PATH=" : "", pp ? shell_word(pp, w1, sizeof w1) : "",
             test_load_vars(lv, sizeof lv), shell_word(path, w2, sizeof w2),
             shell_word(test_program_word("./test_replay", w3, sizeof w3), w4, sizeof w4));
    CU_ASSERT_STRING_EQUAL(line_after(sched_error_message(err), "\nreplay exactly with: "), want);
    sched_error_free(err);
    err = NULL;

    const char *text = read_text(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "sched-replay 1\nbackend \"test\"\n", 30), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nfail 3 \"the test returned 3\"\nend "));

    /* The file alone decides: no seed, and a config that says FIFO. */
    clear_env();
    setenv("SCHED_REPLAY", path, 1);
    for (int i = 0; i < 2; i++) {
        const char *conf = i ? conf_fifo : conf_random;
        CU_ASSERT_EQUAL(sched_test_run_seeds(conf, race_argv, race, NULL, &err), RACE_FAILED);
        CU_ASSERT_STRING_EQUAL(line_after(err ? sched_error_message(err) : "",
                                          "failing replay: "), path);
        sched_error_free(err);
        err = NULL;
    }
    /* A program that opens its own host replays it too. */
    sched_host *host;
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf_fifo, &err), 0);
    CU_ASSERT_EQUAL(race(host, NULL), RACE_FAILED);
    sched_host_close(host);

    /* SCHED_RECORD's file of the failing seed says how it failed, as the
     * file run_seeds writes does. */
    char rec[256], seedw[32];
    snprintf(rec, sizeof rec, "%s/failing-record.replay", dir);
    snprintf(seedw, sizeof seedw, "%llu", seed);
    clear_env();
    setenv("SCHED_SEED", seedw, 1);
    setenv("SCHED_RECORD", rec, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, race, NULL, &err), RACE_FAILED);
    sched_error_free(err);
    err = NULL;
    text = read_text(rec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nfail 3 \"the test returned 3\"\nend "));
    clear_env();
}

static void test_shrinking_leaves_the_two_deviations_the_race_needs(void)
{
    char path[1024];
    sched_error *err = NULL;
    clear_env();
    setenv("SCHED_SHRINK", "1", 1);
    unsigned long long seed = sweep(path, sizeof path, &err);
    const char *msg = err ? sched_error_message(err) : "";
    unsigned long long decisions, deviations, runs;
    const char *s = strstr(msg, "\nshrunk ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char shrunk[1024], tail[64];
    CU_ASSERT_EQUAL(sscanf(s, "\nshrunk %llu decisions with %llu deviations to 2 deviations in "
                           "%llu runs%63[^:]", &decisions, &deviations, &runs, tail), 3);
    CU_ASSERT(deviations > 2);
    CU_ASSERT(runs > 1 && runs <= 200);
    snprintf(shrunk, sizeof shrunk, "test_replay-seed%llu.shrunk.replay", seed);
    CU_ASSERT_PTR_NOT_NULL(strstr(path_after(msg, "\nshrunk "), shrunk));
    snprintf(shrunk, sizeof shrunk, "%s", path_after(msg, "\nshrunk "));
    CU_ASSERT_STRING_NOT_EQUAL(line_after(msg, "replay the shrunk schedule with: "), "");
    sched_error_free(err);
    err = NULL;

    /* The shrunk file: two picks off FIFO order, "b" and "d", no delays
     * (a delay yielding is a deviation too), and it still fails. */
    const char *text = read_text(shrunk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nmode exact\n"));
    char ran[2][16];
    CU_ASSERT_EQUAL(deviating_picks(text, ran, 2), 2);
    CU_ASSERT_STRING_EQUAL(ran[0], "b");
    CU_ASSERT_STRING_EQUAL(ran[1], "d");
    CU_ASSERT_EQUAL(deviating_values(text, "\nd "), 0);
    clear_env();
    setenv("SCHED_REPLAY", shrunk, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, race, NULL, &err), RACE_FAILED);
    sched_error_free(err);
    clear_env();
}

/* ---- record, replay, divergence ------------------------------------------- */

static sched_executor *three_ex;
static int z_line, late_line;

static sched_value run_x(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 0 };
}

/* In the current version "y" spawns a task; the fixture older-program
 * was recorded before it did. */
static sched_value run_y(void *arg)
{
    (void)arg;
    late_line = __LINE__ + 1;
    sched_spawn_labeled(three_ex, sched_future_fn(run_x, NULL), "late", NULL);
    return (sched_value){ .i = 0 };
}

/* x, y and z; with arg (a sched_error **), blocks on z instead of
 * running until parked, and returns what the block did. */
static int three(sched_host *host, void *arg)
{
    sched_task *z;
    int rc = 0;
    if (sched_executor_new(host, &three_ex))
        return SCHED_ENOMEM;
    sched_spawn_labeled(three_ex, sched_future_fn(run_x, NULL), "x", NULL);
    sched_spawn_labeled(three_ex, sched_future_fn(run_y, NULL), "y", NULL);
    z_line = __LINE__ + 1;
    sched_spawn_labeled(three_ex, sched_future_fn(run_x, NULL), "z", &z);
    if (arg)
        rc = sched_block(three_ex, sched_task_join(z), NULL, arg);
    else
        sched_task_detach(z);
    sched_test_run_until_parked(sched_as_test(host));
    sched_executor_free(three_ex);
    return rc;
}

static void test_a_recorded_run_replays_step_for_step(void)
{
    char rec[256], again[256];
    snprintf(rec, sizeof rec, "%s/recorded.replay", dir);
    snprintf(again, sizeof again, "%s/again.replay", dir);
    clear_env();
    setenv("SCHED_RECORD", rec, 1);
    sched_host *host;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf_random, &err), 0);
    race(host, NULL);
    race(host, NULL);
    uint64_t hash = sched_test_history_hash(sched_as_test(host));
    sched_host_close(host);
    const char *text = read_text(rec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "sched-replay 1\n", 15), 0);

    /* Replayed (and recorded again) under FIFO: the same steps, the same
     * file. */
    char *first = strdup(text);
    setenv("SCHED_REPLAY", rec, 1);
    setenv("SCHED_RECORD", again, 1);
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf_fifo, &err), 0);
    race(host, NULL);
    race(host, NULL);
    CU_ASSERT_EQUAL(sched_test_history_hash(sched_as_test(host)), hash);
    sched_host_close(host);
    text = read_text(again);
    CU_ASSERT_PTR_NOT_NULL(text);
    CU_ASSERT_STRING_EQUAL(text ? text : "", first);
    free(first);
    clear_env();
}

/* A SCHED_RECORD file that cannot be written (its directory missing, a
 * directory itself) fails the host's open naming the variable, instead of
 * a run that ends with no file and no word said. */
static void test_an_unwritable_record_file_fails_the_open(void)
{
    char missing[256];
    snprintf(missing, sizeof missing, "%s/no-such-dir/x.replay", dir);
    const char *paths[] = { missing, dir };
    for (size_t i = 0; i < 2; i++) {
        char want[512];
        sched_host *host = NULL;
        sched_error *err = NULL;
        clear_env();
        setenv("SCHED_RECORD", paths[i], 1);
        CU_ASSERT_EQUAL(sched_host_open(&host, conf_fifo, &err), SCHED_ECONFIG);
        snprintf(want, sizeof want, "SCHED_RECORD=%s: cannot write the replay file: ", paths[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(err ? sched_error_message(err) : "", want));
        sched_error_free(err);
        if (host)
            sched_host_close(host);
    }
    clear_env();
}

static void test_a_program_that_changed_is_stopped_at_the_step_it_departs(void)
{
    char want[2048];
    sched_error *err = NULL;
    char *argv[] = { "./test_replay", NULL };
    clear_env();
    setenv("SCHED_REPLAY", fixture("older-program.replay"), 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, three, NULL, &err), SCHED_EBACKEND);
    snprintf(want, sizeof want, "replay %s diverged at step 2: line 15 of the file runs task 3 "
             "\"z\" (spawned at tests/test_replay.c:3 in three()), one of 1 ready runnables, but "
             "2 are ready: task 3 \"z\" (spawned at %s:%d in three()), task 4 \"late\" "
             "(spawned at %s:%d in run_y())", fixture("older-program.replay"), __FILE__,
             z_line, __FILE__, late_line);
    CU_ASSERT_STRING_EQUAL(line_after(err ? sched_error_message(err) : "", ""), want);
    CU_ASSERT_STRING_NOT_EQUAL(line_after(err ? sched_error_message(err) : "", "\nreplay with: "),
                               "");
    sched_error_free(err);
    err = NULL;

    /* A program blocked in sched_block when its replay stops gets the
     * same sentence from it, and no hang. */
    sched_host *host;
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf_fifo, &err), 0);
    CU_ASSERT_EQUAL(three(host, &err), SCHED_EBACKEND);
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    err = NULL;
    sched_host_close(host);

    setenv("SCHED_REPLAY", fixture("renamed-task.replay"), 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, three, NULL, &err), SCHED_EBACKEND);
    snprintf(want, sizeof want, "replay %s diverged at step 0: task 2 is \"y\" spawned in "
             "three(), but the file's task 2 is \"q\" spawned in three()",
             fixture("renamed-task.replay"));
    CU_ASSERT_STRING_EQUAL(line_after(err ? sched_error_message(err) : "", ""), want);
    sched_error_free(err);
    clear_env();
}

/* Each broken file, and the sentence that must name its line. */
static void test_broken_replay_files_are_refused_naming_the_line(void)
{
    static const struct {
        const char *file, *why;
    } cases[] = {
        { "truncated.replay", ":9: expected the rank of the one that ran" },
        { "version2.replay", ":1: replay files of version 2 are not supported (this libsched "
                             "reads version 1)" },
        { "corrupt.replay", ":5: rank 7 is not among 3 ready runnables" },
        { "not-a-replay.replay", ":1: not a replay file (its first line must be "
                                 "\"sched-replay 1\")" },
        { "duplicate-pick.replay", ":14: a second pick for step 1 (line 13 has its pick): each "
                                   "step has one" },
    };
    clear_env();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[2048];
        sched_host *host = NULL;
        sched_error *err = NULL;
        setenv("SCHED_REPLAY", fixture(cases[i].file), 1);
        CU_ASSERT_EQUAL(sched_host_open(&host, conf_fifo, &err), SCHED_ECONFIG);
        snprintf(want, sizeof want, "%s%s", fixture(cases[i].file), cases[i].why);
        const char *msg = err ? sched_error_message(err) : "";
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
        if (!strstr(msg, want))
            fprintf(stderr, "\n%s\n  does not hold\n%s\n", msg, want);
        sched_error_free(err);
    }
    clear_env();
}

static void test_a_hand_written_lenient_schedule_runs_fifo_elsewhere(void)
{
    sched_error *err = NULL;
    clear_env();
    setenv("SCHED_REPLAY", fixture("lenient-race.replay"), 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, race, NULL, &err), RACE_FAILED);
    sched_error_free(err);
    /* Under FIFO alone the race never fails. */
    clear_env();
    setenv("SCHED_ITERATIONS", "5", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, race_argv, race, NULL, &err), 0);
    clear_env();
}

/* The log's lines, level first, for the lenient replays below. */
static char logged[8192];

static void keep_log(int level, const char *msg, void *data)
{
    (void)data;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%d %s\n", level, msg);
}

/* A lenient file goes on where the program changed, but the log says so,
 * once: "late", spawned in run_y(), is like none of the file's tasks. */
static void test_a_lenient_replay_says_when_the_program_no_longer_matches(void)
{
    char want[2048], path[256];
    sched_error *err = NULL;
    char *argv[] = { "./test_replay", NULL };
    clear_env();
    logged[0] = '\0';
    sched_log_set_handler(keep_log, NULL);
    setenv("SCHED_REPLAY", fixture("lenient-older-program.replay"), 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, three, NULL, &err), 0);
    sched_error_free(err);
    err = NULL;
    snprintf(want, sizeof want, "%d test: replay %s is lenient, and the program no longer matches it: "
             "at step 3 task 4 \"late\" (spawned at %s:%d in run_y()) is ready, but no task of "
             "the file has its label and was spawned in run_y(); the run goes on, in FIFO order "
             "where the file's decisions do not apply\n", SCHED_LOG_WARN,
             fixture("lenient-older-program.replay"), __FILE__, late_line);
    CU_ASSERT_STRING_EQUAL(logged, want);

    /* The same file knowing "late" matches: nothing is said. */
    const char *text = read_text(fixture("lenient-older-program.replay"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *p = strstr(text, "p 1 ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    snprintf(path, sizeof path, "%s/knows-late.replay", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%.*stask 4 medium bg \"late\" - 0 \"run_y\"\n%s", (int)(p - text), text, p);
    fclose(f);
    logged[0] = '\0';
    setenv("SCHED_REPLAY", path, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, three, NULL, &err), 0);
    sched_error_free(err);
    CU_ASSERT_STRING_EQUAL(logged, "");
    sched_log_set_handler(NULL, NULL);
    clear_env();
}

#if !defined(_WIN32)
/* A pipe holding text (its write end closed when close_it), read as
 * /dev/fd/N into path; the read end, or -1. */
static int pipe_file(const char *text, size_t len, int close_it, int *wfd, char *path, size_t plen)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    if (write(fd[1], text, len) != (ssize_t)len) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (close_it) {
        close(fd[1]);
        fd[1] = -1;
    }
    *wfd = fd[1];
    snprintf(path, plen, "/dev/fd/%d", fd[0]);
    return fd[0];
}
#endif

/* A replay file that can be read only once (a pipe, as <(cat file) gives)
 * replays: run_seeds reads it once, not once for the seed and once more. */
static void test_a_replay_file_in_a_pipe_is_read_once(void)
{
#if !defined(_WIN32)
    char path[64];
    sched_error *err = NULL;
    const char *text = read_text(fixture("lenient-race.replay"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    int wfd, rfd = pipe_file(text, strlen(text), 1, &wfd, path, sizeof path);
    CU_ASSERT_FATAL(rfd >= 0);
    clear_env();
    setenv("SCHED_REPLAY", path, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, race, NULL, &err), RACE_FAILED);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_EQUAL(strncmp(msg, "failing replay: /dev/fd/", 24), 0);
    if (strncmp(msg, "failing replay: /dev/fd/", 24) != 0)
        fprintf(stderr, "\n%s\n", msg);
    sched_error_free(err);
    close(rfd);
    clear_env();
#endif
}

/* An endless stream of NUL bytes (/dev/zero, a writer that never stops)
 * is refused at its first block, naming the file and line, not read on
 * until memory runs out.  The writer here stays open: a reader that
 * waited for the end would never return (alarm ends the test then). */
static void test_an_endless_stream_of_nul_bytes_is_refused(void)
{
#if !defined(_WIN32)
    static char zeros[16384];
    char path[64], want[128];
    sched_host *host = NULL;
    sched_error *err = NULL;
    int wfd, rfd = pipe_file(zeros, sizeof zeros, 0, &wfd, path, sizeof path);
    CU_ASSERT_FATAL(rfd >= 0);
    clear_env();
    setenv("SCHED_REPLAY", path, 1);
    alarm(120);
    CU_ASSERT_EQUAL(sched_host_open(&host, conf_fifo, &err), SCHED_ECONFIG);
    alarm(0);
    snprintf(want, sizeof want, "%s:1: a NUL byte: not a text file", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(err ? sched_error_message(err) : "", want));
    sched_error_free(err);
    close(rfd);
    close(wfd);
    clear_env();
#endif
}

/* ---- timeouts and delays -------------------------------------------------- */

struct slow {
    sched_coro co;
    int left;
    sched_value v;
};

static int slow_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct slow *s = (struct slow *)f;
    (void)cx;
    SCHED_ASYNC_BEGIN(s);
    while (s->left-- > 0)
        SCHED_AWAIT(s, sched_yield_now(), &s->v);
    SCHED_RETURN(s, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(s);
}

static const sched_future_ops slow_ops = { slow_poll, sched_coro_drop_default };

/* Three waits, each with a timeout, on a task that needs six steps: the
 * test fails when a wait's drawn budget is too short. */
static int timed(sched_host *host, void *arg)
{
    (void)arg;
    sched_executor *ex;
    int rc = 0;
    if (sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    for (int i = 0; i < 3 && rc == 0; i++) {
        struct slow *s = (struct slow *)sched_coro_new(sizeof *s, &slow_ops);
        sched_task *t;
        s->left = 5;
        sched_spawn_labeled(ex, &s->co.base, "slow", &t);
        sched_future *f = sched_task_join(t);
        rc = sched_block_with_timeout(ex, &f, 1000000000ull, NULL, NULL);
        sched_future_drop(f);
    }
    sched_executor_free(ex);
    return rc;
}

static void test_shrinking_a_timeout_keeps_the_one_short_budget(void)
{
    sched_error *err = NULL;
    char *argv[] = { "./test_replay", "timed", NULL };
    clear_env();
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "100", 1);
    setenv("SCHED_SHRINK", "1", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_budget, argv, timed, NULL, &err), SCHED_ETIMEDOUT);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " to 1 deviation in "));
    char shrunk[1024];
    snprintf(shrunk, sizeof shrunk, "%s", path_after(msg, "\nshrunk "));
    const char *text = read_text(shrunk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nfail -7 \"timed out\"\n"));
    /* The one deviation is a budget, shorter than the six steps. */
    int short_budgets = 0, other = 0;
    for (const char *p = text; (p = strstr(p, "\nb ")); p += 3) {
        unsigned long long step, v;
        if (sscanf(p, "\nb %llu %llu", &step, &v) == 2)
            short_budgets += v < 6, other += v >= 6 && v != 20;
    }
    CU_ASSERT_EQUAL(short_budgets, 1);
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_EQUAL(deviating_picks(text, NULL, 0), 0);
    sched_error_free(err);
    clear_env();
}

/* ---- the trace ------------------------------------------------------------ */

static void test_the_trace_marks_the_deviations(void)
{
    char trace[256];
    sched_error *err = NULL;
    snprintf(trace, sizeof trace, "%s/race.json", dir);
    clear_env();
    setenv("SCHED_REPLAY", fixture("lenient-race.replay"), 1);
    setenv("SCHED_TRACE", trace, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, race_argv, race, NULL, &err), RACE_FAILED);
    sched_error_free(err);
    clear_env();
    const char *text = read_text(trace);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    int marks = 0;
    for (const char *p = text; (p = strstr(p, "\"cat\":\"deviation\"")); p++)
        marks++;
    CU_ASSERT_EQUAL(marks, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ",\"rank\":2,\"fifo_task\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ",\"rank\":5,\"fifo_task\":"));
}

/* "test_replay race": the race as a program of its own, for schedctl
 * shrink (test_explain.sh); exits 1 when it fails. */
static int race_program(char **argv)
{
    sched_error *err = NULL;
    int rc = sched_test_run_seeds(NULL, argv, race, NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", sched_error_message(err));
    sched_error_free(err);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "race") == 0)
        return race_program(argv);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("replay files", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_a_failing_seed_leaves_a_file_that_replays_the_failure);
    T(test_shrinking_leaves_the_two_deviations_the_race_needs);
    T(test_a_recorded_run_replays_step_for_step);
    T(test_an_unwritable_record_file_fails_the_open);
    T(test_a_program_that_changed_is_stopped_at_the_step_it_departs);
    T(test_broken_replay_files_are_refused_naming_the_line);
    T(test_a_hand_written_lenient_schedule_runs_fifo_elsewhere);
    T(test_a_lenient_replay_says_when_the_program_no_longer_matches);
    T(test_a_replay_file_in_a_pipe_is_read_once);
    T(test_an_endless_stream_of_nul_bytes_is_refused);
    T(test_shrinking_a_timeout_keeps_the_one_short_budget);
    T(test_the_trace_marks_the_deviations);
#undef T
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
