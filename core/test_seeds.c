/* SPDX-License-Identifier: MIT */
/*
 * core/test_seeds.c - sweeping a test body over seeds, and checking that
 * each seed gives one schedule (sched_test_run_seeds(3)).
 *
 * The library never prints: a failure comes back as a sched_error whose
 * message says which seed failed and the exact command that replays it;
 * the test harness prints it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "internal.h"
#include "test_replay.h"

/*
 * PCT's k learned by a sweep (sched_test_run_seeds): when the strategy is
 * pct and neither SCHED_PCT_STEPS nor test.pct_steps sets k, each seed
 * after the first runs with k = the longest run so far, as if
 * SCHED_PCT_STEPS said so.  Per thread: only the sweep's own host opens
 * see it.  The backend reads its environment through this.
 */
static _Thread_local char learned_steps[24];
static _Thread_local size_t last_steps;     /* the last run_once's length */
/* Set while run_seeds replays SCHED_REPLAY's file, which it read itself
 * (once: it may be a pipe) and hands each host: the backend must not read
 * it again. */
static _Thread_local int replay_taken;

/* test.pct_steps' default outside a sweep (sched-test(7)); a sweep's
 * first seed runs with it too, before a run's length is known. */
#define PCT_STEPS_DEFAULT 1000

const char *sched__test_getenv(const char *name)
{
    if (learned_steps[0] != '\0' && strcmp(name, "SCHED_PCT_STEPS") == 0)
        return learned_steps;
    if (replay_taken && strcmp(name, "SCHED_REPLAY") == 0)
        return NULL;
    return sched__secure_getenv(name);
}

/* Whether the host runs pct with no k set by the config or environment. */
static int learns_steps(sched_host *host)
{
    const char *s = sched__secure_getenv("SCHED_STRATEGY");
    int64_t v;
    if (sched__secure_getenv("SCHED_PCT_STEPS") != NULL || host->cfg == NULL
        || sched__config_get(host->cfg, host->desc->name, "pct_steps", SCHED_CONFIG_INT, &v) == 0)
        return 0;
    if (s == NULL && sched__config_get(host->cfg, host->desc->name, "strategy",
                                       SCHED_CONFIG_STRING, &s) != 0)
        return 0;
    return strcmp(s, "pct") == 0;
}

/* *learn: whether a sweep over config_path learns k (learns_steps). */
static int sweep_learns(const char *config_path, int *learn, sched_error **err)
{
    sched_host *host;
    int rc = sched_host_open(&host, config_path, err);
    if (rc)
        return rc;
    *learn = learns_steps(host);
    sched_host_close(host);
    return 0;
}

/* Map task ids to ordinals (the order in which each first ran). */
void sched__test_ordinals(const sched_test_step *steps, size_t n, uint64_t *out)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    struct slot { uint64_t id, ord; } *map = calloc(cap, sizeof *map);
    uint64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (map == NULL) {
            out[i] = steps[i].task_id;
            continue;
        }
        uint64_t id = steps[i].task_id;
        size_t j = (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
        while (map[j].id != 0 && map[j].id != id)
            j = (j + 1) & (cap - 1);
        if (map[j].id == 0) {
            map[j].id = id;
            map[j].ord = next++;
        }
        out[i] = map[j].ord;
    }
    free(map);
}

/* The seed the config gives (0 on a backend without seeds). */
static int config_seed(const char *config_path, uint64_t *seed, sched_error **err)
{
    sched_host *host;
    int rc = sched_host_open(&host, config_path, err);
    if (rc)
        return rc;
    *seed = sched_test_seed(sched_as_test(host));
    sched_host_close(host);
    return 0;
}

/* One run's schedule, kept after its host is closed. */
struct run_record {
    size_t n;
    uint64_t *ord;
    char **label;
};

static void record_free(struct run_record *r)
{
    for (size_t i = 0; r->label && i < r->n; i++)
        free(r->label[i]);
    free(r->label);
    free(r->ord);
    memset(r, 0, sizeof *r);
}

static int record_take(sched_test *t, struct run_record *r)
{
    const sched_test_step *steps;
    r->n = sched_test_history(t, &steps);
    r->ord = malloc((r->n ? r->n : 1) * sizeof *r->ord);
    r->label = calloc(r->n ? r->n : 1, sizeof *r->label);
    if (r->ord == NULL || r->label == NULL)
        return SCHED_ENOMEM;
    sched__test_ordinals(steps, r->n, r->ord);
    for (size_t i = 0; i < r->n; i++)
        if (steps[i].label && (r->label[i] = strdup(steps[i].label)) == NULL)
            return SCHED_ENOMEM;
    return 0;
}

/* A shell command line for argv, each word quoted when it needs it. */
static char *command_line(char *const argv[])
{
    size_t len = 1;
    for (size_t i = 0; argv && argv[i]; i++)
        len += 4 * strlen(argv[i]) + 3;
    char *s = malloc(len), *p = s;
    if (s == NULL)
        return NULL;
    for (size_t i = 0; argv && argv[i]; i++) {
        const char *a = argv[i];
        int plain = *a != '\0' && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789_./=:,+-@%") == strlen(a);
        if (i > 0)
            *p++ = ' ';
        if (plain) {
            p += sprintf(p, "%s", a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'')
                p += sprintf(p, "'\\''");
            else
                *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* The program as a command word that runs it from any directory: the
 * running executable (/proc/self/exe resolved), else a relative argv[0]
 * made absolute against the working directory.  malloc'd, or NULL. */
static char *program_path(const char *argv0)
{
    if (argv0 == NULL)
        return strdup("");
#if !defined(_WIN32)
    if (argv0[0] != '/') {
        char *exe = realpath("/proc/self/exe", NULL);
        if (exe != NULL)
            return exe;
        char cwd[4096];
        if (strchr(argv0, '/') != NULL && getcwd(cwd, sizeof cwd) != NULL) {
            while (argv0[0] == '.' && argv0[1] == '/')
                argv0 += 2;
            char *s = malloc(strlen(cwd) + strlen(argv0) + 2);
            if (s != NULL)
                sprintf(s, "%s/%s", cwd, argv0);
            return s;
        }
    }
#endif
    return strdup(argv0);
}

/* The command line that runs the program again: argv, its program word
 * absolute (see program_path), each word quoted when it needs it. */
static char *program_command(char *const argv[])
{
    if (argv == NULL || argv[0] == NULL)
        return command_line(argv);
    size_t n = 0;
    while (argv[n])
        n++;
    char **v = malloc((n + 1) * sizeof *v);
    char *prog = program_path(argv[0]);
    char *s = NULL;
    if (v != NULL && prog != NULL) {
        v[0] = prog;
        for (size_t i = 1; i <= n; i++)
            v[i] = argv[i];
        s = command_line(v);
    }
    free(prog);
    free(v);
    return s;
}

/* Settings of the test backend's choices that may come from the
 * environment: a replay needs them as much as the seed. */
static const char *const choice_vars[] = { "SCHED_STRATEGY", "SCHED_PCT_DEPTH", "SCHED_PCT_STEPS" };
#define NCHOICE_VARS (sizeof choice_vars / sizeof choice_vars[0])

/* Set in the environment, these decided what the run loaded and read:
 * the dynamic loader's search path (a libsched other than the installed
 * one) and whether the system's config and plugins were ignored. */
static const char *const load_vars[] = { "SCHED_NOSYSTEM", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH" };
#define NLOAD_VARS (sizeof load_vars / sizeof load_vars[0])

/*
 * The variables a replay needs besides the seed, as shell words: the
 * backend that ran (the system's config may name another), the config
 * file the lookup found when the program passed none, the plugin path it
 * was loaded from, the loader's variables set (load_vars) and the
 * strategy settings set in the environment, so that the command replays
 * wherever it is pasted.  NULL when out of memory.
 */
static char *replay_env(sched_host *host, const char *config_path)
{
    const char *config = sched_host_config_path(host);
    const char *plugins = sched__secure_getenv("SCHED_PLUGIN_PATH");
    const char *names[3 + NLOAD_VARS + NCHOICE_VARS];
    char *words[3 + NLOAD_VARS + NCHOICE_VARS] = { NULL }, *out = NULL;
    size_t len = 1;
    int n = 0;

    names[n] = "SCHED_BACKEND";
    words[n++] = command_line((char *const[]){ (char *)sched_host_backend_name(host), NULL });
    if (config_path == NULL && strcmp(config, "(built-in)") != 0) {
        names[n] = "SCHED_CONFIG";
        words[n++] = command_line((char *const[]){ (char *)config, NULL });
    }
    if (plugins != NULL && plugins[0] != '\0') {
        names[n] = "SCHED_PLUGIN_PATH";
        words[n++] = command_line((char *const[]){ (char *)plugins, NULL });
    }
    for (size_t i = 0; i < NLOAD_VARS; i++) {
        const char *v = sched__secure_getenv(load_vars[i]);
        if (v != NULL && v[0] != '\0') {
            names[n] = load_vars[i];
            words[n++] = command_line((char *const[]){ (char *)v, NULL });
        }
    }
    for (size_t i = 0; i < NCHOICE_VARS; i++) {
        const char *v = sched__secure_getenv(choice_vars[i]);
        if (v != NULL) {
            names[n] = choice_vars[i];
            words[n++] = command_line((char *const[]){ (char *)v, NULL });
        }
    }
    for (int i = 0; i < n; i++) {
        if (words[i] == NULL)
            goto out_free_words;
        len += strlen(words[i]) + 32;
    }
    if ((out = malloc(len)) == NULL)
        goto out_free_words;
    char *p = out;
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s%s=%s", i ? " " : "", names[i], words[i]);
out_free_words:
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        free(words[i]);
    return out;
}

/* Parse a decimal environment value; 0 or SCHED_ECONFIG with err set. */
static int env_number(const char *name, uint64_t min, uint64_t *out, sched_error **err)
{
    const char *v = sched__secure_getenv(name);
    if (v == NULL)
        return SCHED_ENOENT;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || errno || *end || n < min)
        return sched__error_set(err, SCHED_ECONFIG, "%s=\"%s\" is not a decimal number from %llu to %llu",
                                name, v, (unsigned long long)min, (unsigned long long)UINT64_MAX);
    *out = n;
    return 0;
}

/* *on: whether the variable name is 1.  Unset and 0 are off; any other
 * value is SCHED_ECONFIG, the message naming both and saying that 1 does
 * what (the words after "use 1 to"). */
static int env_flag(const char *name, const char *what, int *on, sched_error **err)
{
    const char *v = sched__secure_getenv(name);
    *on = v != NULL && strcmp(v, "1") == 0;
    if (v != NULL && !*on && strcmp(v, "0") != 0)
        return sched__error_set(err, SCHED_ECONFIG, "%s=\"%s\" is invalid: use 1 to %s, 0 (or "
                                "leave it unset) not to", name, v, what);
    return 0;
}

/* A run's replay file: what it replays, whether it is recorded, and
 * what came of it. */
struct run_replay {
    const char *text;           /* replay this (len bytes, called name); NULL: none */
    size_t len;
    const char *name;
    int record;                 /* record the run into record_text */
    char *record_text;          /* out, malloc'd; NULL when the backend records nothing */
    char *diverged;             /* out, malloc'd: where the run left its replay */
    int supported;              /* out: the backend records and replays */
};

/* SCHED_RECORD's file of a run whose body failed with code: the backend
 * wrote it at close, not knowing the result, so its fail line is added
 * here.  A file that cannot be read or written again stays as it was. */
static void record_fail(int code)
{
    const char *path = sched__secure_getenv("SCHED_RECORD");
    char *text, *out;
    size_t len;
    if (code == 0 || path == NULL || path[0] == '\0' || sched__rp_read_file(path, &text, &len))
        return;
    out = sched__replay_with_fail(text, code);
    free(text);
    FILE *f = out ? fopen(path, "wb") : NULL;
    if (f) {
        fputs(out, f);
        fclose(f);
    }
    free(out);
}

/*
 * Open a host, reseed it, run the body once.  *rc gets the body's result;
 * the return value is 0 or the failure to open (or to start the replay).
 * *env, when given and NULL, gets the replay's variables (replay_env).
 * *seeded says whether the backend has seeds (offers reseed); rec, when
 * given, gets the schedule; rr, when given, the replay file's side.
 */
static int run_once(const char *config_path, uint64_t seed, sched_test_body_fn body, void *arg,
                    int *rc, int *seeded, struct run_record *rec, char **env, char **why,
                    struct run_replay *rr, sched_error **err)
{
    sched_host *host;
    sched_error *end = NULL;
    int orc = sched_host_open(&host, config_path, err);
    if (orc)
        return orc;
    if (env && *env == NULL)
        *env = replay_env(host, config_path);
    sched_test *t = sched_as_test(host);
    *seeded = sched_test_reseed(t, seed) == 0;
    if (rr && rr->text) {
        /* A backend that cannot replay still runs the body, as SCHED_REPLAY
         * in its environment would, and the caller says so. */
        sched_error *rerr = NULL;
        orc = sched__replay_start(t, rr->text, rr->len, rr->name, &rerr);
        rr->supported = orc != SCHED_ENOTSUP;
        if (orc != 0 && orc != SCHED_ENOTSUP) {
            sched_host_close(host);
            if (err)
                *err = rerr;
            else
                sched_error_free(rerr);
            return orc;
        }
        sched_error_free(rerr);
    } else if (rr) {
        rr->supported = sched__replay_start(t, NULL, 0, NULL, NULL) == 0;
    }
    *rc = body(host, arg);
    const sched_test_step *steps;
    last_steps = *seeded ? sched_test_history(t, &steps) : 0;
    /* A body that passed by luck (a waker used on a thread the scheduler
     * does not run) fails, saying why; the body may have ended it. */
    int erc = sched_test_end(t, &end);
    if (erc != 0 && *rc == 0) {
        *rc = erc;
        if (why)
            *why = end && sched_error_message(end) ? strdup(sched_error_message(end)) : NULL;
    }
    sched_error_free(end);
    if (rr && rr->supported) {
        sched__replay_status(t, &rr->diverged);
        if (rr->record)
            rr->record_text = sched__replay_record(t);
    }
    int rrc = rec && *seeded ? record_take(t, rec) : 0;
    sched_host_close(host);
    record_fail(*rc);
    return rrc ? sched__error_set(err, rrc, "out of memory while recording the schedule") : 0;
}

static void describe_step(const struct run_record *r, size_t i, char *buf, size_t len)
{
    if (i >= r->n)
        snprintf(buf, len, "had stopped");
    else if (r->label[i])
        snprintf(buf, len, "ran task #%llu \"%s\"", (unsigned long long)r->ord[i], r->label[i]);
    else
        snprintf(buf, len, "ran task #%llu", (unsigned long long)r->ord[i]);
}

/* 0 when a and b are the same schedule, else SCHED_EBACKEND with err
 * naming the first step where they part. */
static int compare(const struct run_record *a, const struct run_record *b, uint64_t seed,
                   const char *env, const char *cmd, sched_error **err)
{
    size_t i = 0;
    while (i < a->n && i < b->n && a->ord[i] == b->ord[i]
           && (a->label[i] == b->label[i]
               || (a->label[i] && b->label[i] && strcmp(a->label[i], b->label[i]) == 0)))
        i++;
    if (i == a->n && i == b->n)
        return 0;
    char first[256], second[256];
    describe_step(a, i, first, sizeof first);
    describe_step(b, i, second, sizeof second);
    return sched__error_set(err, SCHED_EBACKEND,
                            "seed %llu is not deterministic: at step %zu the first run %s, "
                            "the second %s\nreplay with: %s SCHED_SEED=%llu SCHED_ITERATIONS=1 "
                            "SCHED_CHECK_DETERMINISM=1 %s",
                            (unsigned long long)seed, i, first, second, env,
                            (unsigned long long)seed, cmd);
}

/* ---- replay files of failing runs ---------------------------------------- */

/* s with printf(fmt, ...) appended (s is freed); NULL when out of memory. */
static char *append(char *s, const char *fmt, ...) SCHED__PRINTF(2, 3);
static char *append(char *s, const char *fmt, ...)
{
    va_list ap;
    size_t old = s ? strlen(s) : 0;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *t = n < 0 ? NULL : realloc(s, old + (size_t)n + 1);
    if (t == NULL) {
        free(s);
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(t + old, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return t;
}

/* What every run of one sweep shares. */
struct sweep {
    const char *config_path;
    sched_test_body_fn body;
    void *arg;
    char *const *argv;
    const char *cmd, *env;
    int shrink;                 /* SCHED_SHRINK=1 */
    uint64_t max_runs;          /* SCHED_SHRINK_RUNS */
};

struct shrink_ctx {
    const struct sweep *sw;
    uint64_t seed;
};

/* One run of the shrinker, in this process: the body's result is how it
 * ended, and a run that left its replay ends in a way no body returns. */
static int shrink_run(void *arg, const char *text, size_t len, char **record, int *outcome)
{
    const struct shrink_ctx *c = arg;
    struct run_replay rr = { .text = text, .len = len, .name = "(shrinking)", .record = 1 };
    int body_rc, seeded;
    sched_error *e = NULL;
    int rc = run_once(c->sw->config_path, c->seed, c->sw->body, c->sw->arg, &body_rc, &seeded,
                      NULL, NULL, NULL, &rr, &e);
    sched_error_free(e);
    *record = rr.record_text;
    *outcome = rr.diverged ? INT_MIN : body_rc;
    free(rr.diverged);
    return rc;
}

/* The lines that say where a replay file went and how to replay it. */
static char *saved(char *msg, const struct sweep *sw, const char *text, uint64_t seed,
                   const char *suffix, const char *head, const char *how)
{
    char why[1024];
    char *path = NULL;
    if (sched__replay_save(text, sw->argv, seed, suffix, &path, why, sizeof why) != 0)
        return append(msg, "\n%s not written: %s", head, why);
    char *q = command_line((char *const[]){ path, NULL });
    if (q != NULL)
        msg = append(msg, "\n%s: %s\n%s: %s SCHED_REPLAY=%s %s", head, path, how, sw->env, q,
                     sw->cmd);
    free(q);
    free(path);
    return msg;
}

/*
 * The shrunk file an earlier run left for this seed, when it has fewer
 * deviations than left and, replayed, still fails with want (the program
 * may have changed since): its path (malloc'd) with *n its deviations;
 * else NULL, and the new file replaces it.
 */
static char *better_kept(const struct sweep *sw, uint64_t seed, int want, uint64_t left,
                         uint64_t *n)
{
    char why[256], *path, *text, *record = NULL;
    size_t len;
    if (sched__replay_path(sw->argv, seed, ".shrunk.replay", &path, why, sizeof why) != 0)
        return NULL;
    if (sched__rp_read_file(path, &text, &len) != 0) {
        free(path);
        return NULL;
    }
    struct sched__replay rp;
    sched__rp_init(&rp);
    int better = sched__rp_parse(&rp, text, len, path, why, sizeof why) == 0 && !rp.lenient
                 && (*n = sched__rp_deviations(&rp)) < left;
    sched__rp_free(&rp);
    struct shrink_ctx c = { sw, seed };
    int outcome = 0;
    better = better && shrink_run(&c, text, len, &record, &outcome) == 0 && outcome == want;
    free(record);
    free(text);
    if (!better) {
        free(path);
        return NULL;
    }
    return path;
}

/* Shrink a failing run's file (text, which ended with want) and say
 * where the shrunk one went, or which earlier, smaller one was kept. */
static char *shrunk(char *msg, const struct sweep *sw, uint64_t seed, const char *text, int want)
{
    struct sched__shrink_result res;
    struct shrink_ctx c = { sw, seed };
    sched_error *e = NULL;
    char summary[256];
    if (sched__shrink(text, strlen(text), want, shrink_run, &c, sw->max_runs, &res, &e) != 0) {
        msg = append(msg, "\nnot shrunk: %s", sched_error_message(e));
        sched_error_free(e);
        free(res.text);
        return msg;
    }
    sched__shrink_summary(&res, summary, sizeof summary);
    uint64_t n = 0;
    char *kept = better_kept(sw, seed, want, res.left, &n);
    char *q = kept ? command_line((char *const[]){ kept, NULL }) : NULL;
    if (kept && q)
        msg = append(msg, "\n%s, more than the %llu of the file an earlier run shrank it to, which "
                     "is kept: %s\nreplay the shrunk schedule with: %s SCHED_REPLAY=%s %s", summary,
                     (unsigned long long)n, kept, sw->env, q, sw->cmd);
    else
        msg = saved(msg, sw, res.text, seed, ".shrunk.replay", summary,
                    "replay the shrunk schedule with");
    free(q);
    free(kept);
    free(res.text);
    return msg;
}

/* A seed failed with body_rc: run it again recording its decisions,
 * write its file (and the shrunk one), and append how to replay them. */
static char *failed_seed(char *msg, const struct sweep *sw, uint64_t seed, int body_rc)
{
    struct run_replay rr = { .record = 1 };
    int rc2, seeded;
    if (run_once(sw->config_path, seed, sw->body, sw->arg, &rc2, &seeded, NULL, NULL, NULL, &rr,
                 NULL) != 0 || !rr.supported) {
        msg = append(msg, "\nno replay file: %s", rr.supported ? "the second run did not start"
                     : "this backend does not record its decisions");
    } else if (rc2 != body_rc || rr.record_text == NULL) {
        msg = append(msg, "\nno replay file: run again, seed %llu returned %d instead of %d, "
                     "so the test does not follow the seed alone", (unsigned long long)seed, rc2,
                     body_rc);
    } else {
        char *text = sched__replay_with_fail(rr.record_text, body_rc);
        if (text == NULL) {
            msg = append(msg, "\nno replay file: out of memory");
        } else {
            msg = saved(msg, sw, text, seed, ".replay", "replay file", "replay exactly with");
            if (sw->shrink && msg)
                msg = shrunk(msg, sw, seed, text, body_rc);
        }
        free(text);
    }
    free(rr.record_text);
    free(rr.diverged);
    return msg;
}

/* SCHED_REPLAY=FILE: one run, its decisions from the file (read here,
 * once); an exact file must be used up by the run. */
static int replay_one(const struct sweep *sw, const char *file, uint64_t seed, char **env,
                      sched_error **err)
{
    char *play;
    size_t len;
    int rc = sched__rp_read_file(file, &play, &len);
    if (rc != 0)
        return sched__error_set(err, rc == SCHED_ENOMEM ? rc : SCHED_ECONFIG, "SCHED_REPLAY=%s: %s",
                                file, sched__rp_read_error(rc));
    struct run_replay rr = { .text = play, .len = len, .name = file, .record = 1 };
    int body_rc, seeded;
    char *why = NULL;
    replay_taken = 1;
    rc = run_once(sw->config_path, seed, sw->body, sw->arg, &body_rc, &seeded, NULL, env, &why,
                  &rr, err);
    if (rc == 0 && rr.supported && !rr.diverged && rr.record_text)
        rr.diverged = sched__replay_leftover(play, len, file, rr.record_text);
    if (rc != 0) {
        replay_taken = 0;
        free(play);
        free(rr.record_text);
        free(rr.diverged);
        return rc;
    }
    struct sweep s = *sw;
    s.env = *env ? *env : "";
    char *q = command_line((char *const[]){ (char *)file, NULL });
    char *msg = NULL;
    int result = 0;
    if (!rr.supported) {
        result = SCHED_ENOTSUP;
        msg = append(NULL, "SCHED_REPLAY=%s: this backend does not replay decisions\n"
                     "replay with: %s SCHED_REPLAY=%s %s", file, s.env, q ? q : "", s.cmd);
    } else if (rr.diverged) {
        result = SCHED_EBACKEND;
        msg = append(NULL, "%s\nreplay with: %s SCHED_REPLAY=%s %s", rr.diverged, s.env,
                     q ? q : "", s.cmd);
    } else if (body_rc != 0) {
        result = body_rc;
        msg = append(NULL, "failing replay: %s\n%s%sreplay with: %s SCHED_REPLAY=%s %s", file,
                     why ? why : "", why ? "\n" : "", s.env, q ? q : "", s.cmd);
        char *text = s.shrink && msg && rr.record_text
                     ? sched__replay_with_fail(rr.record_text, body_rc) : NULL;
        if (text)
            msg = shrunk(msg, &s, seed, text, body_rc);
        free(text);
    }
    if (result != 0)
        sched__error_set(err, result, "%s", msg ? msg : "out of memory");
    replay_taken = 0;
    free(play);
    free(msg);
    free(q);
    free(why);
    free(rr.record_text);
    free(rr.diverged);
    return result;
}

/*
 * Run body over seeds SEED .. SEED+N-1 (SCHED_SEED, default the config's
 * seed; SCHED_ITERATIONS, default 1), each in a fresh host opened from
 * config_path.  With SCHED_CHECK_DETERMINISM=1 each seed runs twice and
 * the two schedules must match.  On a backend without seeds the body runs
 * once.  A failing seed runs once more recording its decisions, which
 * are written as its replay file (and shrunk, with SCHED_SHRINK=1);
 * with SCHED_REPLAY set the body runs once, on that file.  Returns 0,
 * the body's non-zero result (err: the failing seed, its files and the
 * commands replaying them), SCHED_EBACKEND for a schedule that differs
 * between two runs or a run that left its replay, or the failure to open
 * a host.
 */
int sched_test_run_seeds(const char *config_path, char *const argv[], sched_test_body_fn body,
                         void *arg, sched_error **err)
{
    if (err)
        *err = NULL;
    if (body == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_test_run_seeds: body is NULL");
    uint64_t iterations = 1, first = 0;
    int rc = env_number("SCHED_ITERATIONS", 1, &iterations, err);
    if (rc != 0 && rc != SCHED_ENOENT)
        return rc;
    int have_seed = (rc = env_number("SCHED_SEED", 0, &first, err)) == 0;
    if (rc != 0 && rc != SCHED_ENOENT)
        return rc;
    int check, shrink;
    if ((rc = env_flag("SCHED_CHECK_DETERMINISM", "run each seed twice and compare the runs",
                       &check, err)) != 0)
        return rc;
    const char *replay = sched__secure_getenv("SCHED_REPLAY");
    int replaying = replay != NULL && replay[0] != '\0';
    /* A replay takes its seed from the file: no host opened for the
     * config's seed, which would read the file (a pipe, once) before the
     * run does. */
    if (!have_seed && !replaying && (rc = config_seed(config_path, &first, err)) != 0)
        return rc;
    if ((rc = env_flag("SCHED_SHRINK", "shrink a failing run", &shrink, err)) != 0)
        return rc;
    struct sweep sw = { config_path, body, arg, argv, NULL, NULL, shrink, 200 };
    if ((rc = env_number("SCHED_SHRINK_RUNS", 1, &sw.max_runs, err)) != 0 && rc != SCHED_ENOENT)
        return rc;
    char *cmd = program_command(argv);
    if (cmd == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory");
    sw.cmd = cmd;

    int result = 0, learn = 0;
    char *env = NULL, *env_k = NULL;
    uint64_t longest = 0;
    if (replaying) {
        result = replay_one(&sw, replay, first, &env, err);
        free(env);
        free(cmd);
        return result;
    }
    if ((rc = sweep_learns(config_path, &learn, err)) != 0) {
        free(cmd);
        return rc;
    }
    for (uint64_t k = 0; k < iterations && result == 0; k++) {
        uint64_t seed = first + k;
        struct run_record a = { 0 }, b = { 0 };
        int body_rc, seeded;
        char *why = NULL;
        /* k: the longest run so far (PCT's bound wants k >= a run's
         * length, and lengths vary by seed), the default before any. */
        if (learn)
            snprintf(learned_steps, sizeof learned_steps, "%llu",
                     (unsigned long long)(longest ? longest : PCT_STEPS_DEFAULT));
        rc = run_once(config_path, seed, body, arg, &body_rc, &seeded, check ? &a : NULL, &env,
                      &why, NULL, err);
        if (learn && env && env_k == NULL)
            env_k = append(NULL, "%s", env);
        if (learn && env_k) {
            /* The replay names the k this seed used. */
            char *p = strstr(env_k, " SCHED_PCT_STEPS=");
            if (p)
                *p = '\0';
            env_k = append(env_k, " SCHED_PCT_STEPS=%s", learned_steps);
        }
        const char *e = learn && env_k ? env_k : env ? env : "";
        const char *w = why ? why : "", *nl = why ? "\n" : "";
        if (rc != 0) {
            result = rc;
        } else if (body_rc != 0) {
            result = body_rc;
            if (seeded) {
                char *msg = append(NULL, "failing seed: %llu\n%s%sreplay with: %s "
                                   "SCHED_SEED=%llu SCHED_ITERATIONS=1 %s",
                                   (unsigned long long)seed, w, nl, e, (unsigned long long)seed,
                                   cmd);
                sw.env = e;
                if (msg)
                    msg = failed_seed(msg, &sw, seed, body_rc);
                sched__error_set(err, body_rc, "%s", msg ? msg : "out of memory");
                free(msg);
            } else
                sched__error_set(err, body_rc, "the test failed on a backend without seeds\n"
                                 "%s%sreplay with: %s %s", w, nl, e, cmd);
        } else if (check && seeded) {
            rc = run_once(config_path, seed, body, arg, &body_rc, &seeded, &b, &env, &why, NULL,
                          err);
            if (rc != 0)
                result = rc;
            else if (body_rc != 0)
                result = sched__error_set(err, body_rc, "seed %llu is not deterministic: it "
                                          "passed, then failed\n%s%sreplay with: %s SCHED_SEED=%llu "
                                          "SCHED_ITERATIONS=1 SCHED_CHECK_DETERMINISM=1 %s",
                                          (unsigned long long)seed, why ? why : "",
                                          why ? "\n" : "", e, (unsigned long long)seed, cmd);
            else
                result = compare(&a, &b, seed, e, cmd, err);
        }
        free(why);
        record_free(&a);
        record_free(&b);
        if (last_steps > longest)
            longest = last_steps;
        if (!seeded)
            break;
    }
    learned_steps[0] = '\0';
    free(env_k);
    free(env);
    free(cmd);
    return result;
}
