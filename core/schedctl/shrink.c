/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/shrink.c - "schedctl shrink FILE -- PROGRAM [ARG...]":
 * shrink a failing replay file of any program (sched-test(7),
 * "Shrinking").
 *
 * The program runs as a child, once per trial, with SCHED_REPLAY naming
 * the trial's lenient replay and SCHED_RECORD a file for the run's own
 * record; it fails the same way when it ends with the same exit status
 * (or signal) as on FILE.  The search is the library's (sched__shrink).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedctl.h"
#include "test_replay.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

static const char usage[] =
    "usage: schedctl shrink [--runs N] [-o OUT] FILE -- PROGRAM [ARG...]\n"
    "\n"
    "Run PROGRAM on the replay file FILE (SCHED_REPLAY=FILE) and, when it\n"
    "fails, search for a run with as few decisions off the canonical schedule\n"
    "as still makes it fail the same way (the same exit status or signal):\n"
    "delta debugging over the deviations, PROGRAM run once per trial.  Writes\n"
    "the smallest failing run's replay file to OUT (default FILE with\n"
    "\".shrunk\" before its extension) and prints how far it shrank.  The\n"
    "program's own output is discarded.\n"
    "\n"
    "  --runs N            at most N trials (default 200)\n"
    "  -o OUT              where the shrunk file goes\n";

struct child {
    char **argv;
    char dir[4096];         /* a private directory for the trial files */
};

#ifndef _WIN32
/* Run the program on replay (a file path), recording into record; its
 * exit status, 128 + the signal that ended it, or -1. */
static int run_program(const struct child *c, const char *replay, const char *record)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        setenv("SCHED_REPLAY", replay, 1);
        setenv("SCHED_RECORD", record, 1);
        unsetenv("SCHED_SHRINK");
        execvp(c->argv[0], c->argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    int ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* One trial: a sched__shrink_fn. */
static int trial(void *arg, const char *text, size_t len, char **record, int *outcome)
{
    const struct child *c = arg;
    char replay[4200], rec[4200];
    size_t n;
    snprintf(replay, sizeof replay, "%s/trial.replay", c->dir);
    snprintf(rec, sizeof rec, "%s/record.replay", c->dir);
    *record = NULL;
    unlink(rec);
    if (write_text(replay, text, len) != 0)
        return SCHED_EBACKEND;
    *outcome = run_program(c, replay, rec);
    if (sched__rp_read_file(rec, record, &n) == SCHED_ENOMEM)
        return SCHED_ENOMEM;
    return 0;
}

/* FILE with ".shrunk" before its extension (or at its end). */
static char *default_out(const char *file)
{
    size_t n = strlen(file);
    const char *dot = strrchr(file, '.');
    const char *slash = strrchr(file, '/');
    size_t at = dot && (!slash || dot > slash) ? (size_t)(dot - file) : n;
    char *out = malloc(n + 8);
    if (out)
        snprintf(out, n + 8, "%.*s.shrunk%s", (int)at, file, file + at);
    return out;
}

static int shrink_file(const char *file, const char *out, uint64_t max_runs, char **argv)
{
    struct child c = { argv, "" };
    const char *tmpdir = getenv("TMPDIR");
    char rec[4200], summary[256];
    char *text = NULL;
    size_t len;
    int rc = SCHEDCTL_FAIL;
    snprintf(c.dir, sizeof c.dir, "%s/schedctl-shrink-XXXXXX",
             tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
    if (!mkdtemp(c.dir)) {
        sched__ctl_error("shrink: cannot make a temporary directory: %s", strerror(errno));
        return SCHEDCTL_FAIL;
    }
    snprintf(rec, sizeof rec, "%s/record.replay", c.dir);
    int want = run_program(&c, file, rec);
    if (want == 0) {
        sched__ctl_error("shrink: %s does not fail on %s: there is nothing to shrink", argv[0],
                         file);
        goto out_rmdir;
    }
    if (want < 0 || want == 127) {
        sched__ctl_error("shrink: cannot run %s", argv[0]);
        goto out_rmdir;
    }
    if (sched__rp_read_file(rec, &text, &len) != 0) {
        sched__ctl_error("shrink: %s wrote no replay file on %s (does it run on the test "
                         "backend? SCHED_BACKEND=test)", argv[0], file);
        goto out_rmdir;
    }
    struct sched__shrink_result res;
    sched_error *err = NULL;
    if (sched__shrink(text, len, want, trial, &c, max_runs, &res, &err) != 0) {
        sched__ctl_error("shrink: %s", sched_error_message(err));
        sched_error_free(err);
        free(res.text);
        goto out_rmdir;
    }
    if (write_text(out, res.text, strlen(res.text)) != 0) {
        sched__ctl_error("shrink: cannot write %s: %s", out, strerror(errno));
    } else {
        sched__shrink_summary(&res, summary, sizeof summary);
        printf("%s: %s\n", out, summary);
        rc = SCHEDCTL_OK;
    }
    free(res.text);
out_rmdir:
    free(text);
    unlink(rec);
    snprintf(rec, sizeof rec, "%s/trial.replay", c.dir);
    unlink(rec);
    rmdir(c.dir);
    return rc;
}
#endif

int sched__cmd_shrink(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    uint64_t runs = 200;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return SCHEDCTL_OK;
        } else if (strcmp(a, "--runs") == 0 && i + 1 < argc) {
            char *end;
            const char *v = argv[++i];
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || errno || n == 0) {
                sched__ctl_error("shrink: --runs \"%s\" is not a number of runs from 1", v);
                return SCHEDCTL_USAGE;
            }
            runs = n;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (a[0] == '-' || file) {
            sched__ctl_error("shrink: unexpected argument \"%s\"", a);
            fputs(usage, stderr);
            return SCHEDCTL_USAGE;
        } else {
            file = a;
        }
    }
    if (!file || i >= argc) {
        fputs(usage, stderr);
        return SCHEDCTL_USAGE;
    }
#ifdef _WIN32
    (void)out;
    (void)runs;
    sched__ctl_error("shrink: not available on Windows");
    return SCHEDCTL_FAIL;
#else
    char *def = out ? NULL : default_out(file);
    if (!out && !def) {
        sched__ctl_error("shrink: out of memory");
        return SCHEDCTL_FAIL;
    }
    int rc = shrink_file(file, out ? out : def, runs, argv + i);
    free(def);
    return rc;
#endif
}
