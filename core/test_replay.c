/* SPDX-License-Identifier: MIT */
/*
 * core/test_replay.c - the host's side of replay files: the sched.test
 * interface's replay ops, and writing a failing run's file where
 * sched_test_run_seeds(3) says it goes (sched-test(7), "Replay files").
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "test_replay.h"

/* Is op present in t's interface table? */
#define HAS(t, op)                                                              \
    ((t) != NULL && (t)->iface != NULL                                          \
     && offsetof(sched_test_iface_v1, op) + sizeof((t)->iface->op) <= (t)->iface->size \
     && (t)->iface->op != NULL)

int sched__replay_start(sched_test *t, const char *text, size_t len, const char *name,
                        sched_error **err)
{
    char why[1024] = "";
    if (!HAS(t, replay_start))
        return sched__error_set(err, SCHED_ENOTSUP, "this backend cannot record or replay "
                                "its decisions");
    int rc = t->iface->replay_start(t->self, text, len, name, why, sizeof why);
    if (rc)
        return sched__error_set(err, rc, "%s", why[0] ? why : sched_strerror(rc));
    return 0;
}

/* An snprintf-like op's text in a new string; NULL when it is empty or
 * memory ran out.  Asked for the length, then the text, again if it grew
 * in between (a step run by another thread's call). */
static char *take_text(sched_test *t, size_t (*op)(void *, char *, size_t))
{
    size_t n = op(t->self, NULL, 0);
    while (n > 0) {
        char *s = malloc(n + 1);
        if (!s)
            return NULL;
        size_t m = op(t->self, s, n + 1);
        if (m <= n)
            return s;
        free(s);
        n = m;
    }
    return NULL;
}

char *sched__replay_record(sched_test *t)
{
    return HAS(t, replay_record) ? take_text(t, t->iface->replay_record) : NULL;
}

int sched__replay_status(sched_test *t, char **msg)
{
    *msg = NULL;
    if (!HAS(t, replay_status) || t->iface->replay_status(t->self, NULL, 0) == 0)
        return 0;
    *msg = take_text(t, t->iface->replay_status);
    return SCHED_EBACKEND;
}

char *sched__replay_leftover(const char *play, size_t len, const char *name, const char *record)
{
    struct sched__replay p, r;
    char why[256];
    char *out = NULL;
    sched__rp_init(&p);
    sched__rp_init(&r);
    if (sched__rp_parse(&p, play, len, name, why, sizeof why) == 0 && !p.lenient
        && sched__rp_parse(&r, record, strlen(record), "(record)", why, sizeof why) == 0
        && r.nrecs < p.nrecs) {
        const struct sched__rp_rec *first = &p.recs[r.nrecs];
        size_t left = p.nrecs - r.nrecs;
        const char *fmt = "replay %s: the program finished early, after step %llu: the file "
                          "holds %zu decision%s more, from line %u (step %llu) on, that the run "
                          "never made";
        int n = snprintf(NULL, 0, fmt, name, (unsigned long long)r.end, left,
                         left == 1 ? "" : "s", first->line, (unsigned long long)first->step);
        if (n > 0 && (out = malloc((size_t)n + 1)) != NULL)
            snprintf(out, (size_t)n + 1, fmt, name, (unsigned long long)r.end, left,
                     left == 1 ? "" : "s", first->line, (unsigned long long)first->step);
    }
    sched__rp_free(&p);
    sched__rp_free(&r);
    return out;
}

/* What a failure's code says, for the "fail" line. */
static void fail_message(int code, char *buf, size_t len)
{
    if (code < 0 && code >= SCHED_EEMPTY)
        snprintf(buf, len, "%s", sched_strerror(code));
    else
        snprintf(buf, len, "the test returned %d", code);
}

char *sched__replay_with_fail(const char *record, int code)
{
    struct sched__replay rp;
    char why[256], msg[256];
    char *out = NULL;
    sched__rp_init(&rp);
    if (sched__rp_parse(&rp, record, strlen(record), "(record)", why, sizeof why) == 0) {
        fail_message(code, msg, sizeof msg);
        rp.have_fail = 1;
        rp.fail_code = code;
        if (sched__rp_set(&rp.fail_msg, msg) == 0)
            out = sched__rp_format_new(&rp);
    }
    sched__rp_free(&rp);
    return out;
}

/* The program's name as a file name stem: argv[0] without its directory
 * or ".exe", anything but [A-Za-z0-9._-] made '_'. */
static void stem_of(char *const argv[], char *buf, size_t len)
{
    const char *a = argv && argv[0] && argv[0][0] ? argv[0] : "sched";
    for (const char *p = a; *p; p++)
        if (*p == '/' || *p == '\\')
            a = p + 1;
    size_t n = 0;
    for (; a[n] && n + 1 < len; n++) {
        char c = a[n];
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
        buf[n] = plain ? c : '_';
    }
    buf[n] = '\0';
    if (n > 4 && strcmp(buf + n - 4, ".exe") == 0)
        buf[n - 4] = '\0';
    if (!buf[0])
        snprintf(buf, len, "sched");
}

int sched__replay_path(char *const argv[], uint64_t seed, const char *suffix, char **path,
                       char *why, size_t whylen)
{
    const char *dir = sched__secure_getenv("SCHED_REPLAY_DIR");
    char stem[128];
    *path = NULL;
    if (sched__privileged()) {
        snprintf(why, whylen, "a set-uid or set-gid program writes no replay files");
        return SCHED_ENOTSUP;
    }
    if (!dir || !dir[0])
        dir = ".";
    char *abs = sched__absolute_dir(dir);
    if (!abs) {
        snprintf(why, whylen, "the replay directory %s cannot be used: %s", dir,
                 strerror(errno));
        return SCHED_ENOENT;
    }
    stem_of(argv, stem, sizeof stem);
    size_t n = strlen(abs) + strlen(stem) + strlen(suffix) + 48;
    char *p = malloc(n);
    if (!p) {
        free(abs);
        snprintf(why, whylen, "out of memory");
        return SCHED_ENOMEM;
    }
    size_t dl = strlen(abs);
    snprintf(p, n, "%s%s%s-seed%llu%s", abs, dl && (abs[dl - 1] == '/' || abs[dl - 1] == '\\')
             ? "" : "/", stem, (unsigned long long)seed, suffix);
    free(abs);
    *path = p;
    return 0;
}

int sched__replay_save(const char *text, char *const argv[], uint64_t seed, const char *suffix,
                       char **path, char *why, size_t whylen)
{
    char *p;
    int rc = sched__replay_path(argv, seed, suffix, &p, why, whylen);
    *path = NULL;
    if (rc)
        return rc;
    FILE *f = sched__fopen(p, "wb");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(why, whylen, "cannot write %s: %s", p, strerror(errno));
        free(p);
        return SCHED_EBACKEND;
    }
    *path = p;
    return 0;
}
