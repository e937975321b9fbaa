/* SPDX-License-Identifier: MIT */
/*
 * plugins/common/replay.c - reading and writing replay files (the format
 * is specified in sched-test(7), "Replay files").
 *
 * A file is lines of words; a word is a run of non-blank characters or a
 * double-quoted string with C-like escapes.  Blank lines and lines
 * starting with '#' are comments.  The reader is strict: every problem
 * is a sentence naming the file and the line, because a replay file that
 * is silently misread would replay something else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/plugin.h>

#include "replay.h"

static const char *const prio_names[] = { "low", "medium", "high", "realtime" };

const char *sched__rp_prio_name(unsigned prio)
{
    return prio < 4 ? prio_names[prio] : "?";
}

void sched__rp_init(struct sched__replay *rp)
{
    memset(rp, 0, sizeof *rp);
}

void sched__rp_free(struct sched__replay *rp)
{
    for (size_t i = 0; i < rp->ntasks; i++) {
        free(rp->tasks[i].label);
        free(rp->tasks[i].file);
        free(rp->tasks[i].func);
    }
    free(rp->tasks);
    free(rp->recs);
    free(rp->backend);
    free(rp->strategy);
    free(rp->fail_msg);
    memset(rp, 0, sizeof *rp);
}

int sched__rp_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return SCHED_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int grow(void **v, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, c * elem);
    if (!p)
        return SCHED_ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

int sched__rp_add_task(struct sched__replay *rp, unsigned prio, int fg, const char *label,
                       const char *file, int line, const char *func)
{
    if (grow((void **)&rp->tasks, &rp->captasks, rp->ntasks, sizeof *rp->tasks))
        return SCHED_ENOMEM;
    struct sched__rp_task *t = &rp->tasks[rp->ntasks];
    memset(t, 0, sizeof *t);
    t->prio = prio;
    t->fg = fg != 0;
    t->line = line;
    if (sched__rp_set(&t->label, label) || sched__rp_set(&t->file, file)
        || sched__rp_set(&t->func, func)) {
        free(t->label);
        free(t->file);
        free(t->func);
        return SCHED_ENOMEM;
    }
    rp->ntasks++;
    return 0;
}

int sched__rp_add(struct sched__replay *rp, const struct sched__rp_rec *r)
{
    if (grow((void **)&rp->recs, &rp->caprecs, rp->nrecs, sizeof *rp->recs))
        return SCHED_ENOMEM;
    rp->recs[rp->nrecs++] = *r;
    return 0;
}

const struct sched__rp_task *sched__rp_task(const struct sched__replay *rp, uint64_t num)
{
    return num >= 1 && num <= rp->ntasks ? &rp->tasks[num - 1] : NULL;
}

int sched__rp_deviates(const struct sched__replay *rp, const struct sched__rp_rec *r)
{
    switch (r->kind) {
    case SCHED__RP_PICK:
        return r->value != 0;
    case SCHED__RP_WAKE:
        return r->value != r->fifo;
    case SCHED__RP_BUDGET:
        return rp->have_ticks && r->value != rp->ticks_max;
    case SCHED__RP_DELAY:
        return r->value != 0;
    default:
        return 0;
    }
}

size_t sched__rp_deviations(const struct sched__replay *rp)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->nrecs; i++)
        n += (size_t)sched__rp_deviates(rp, &rp->recs[i]);
    return n;
}

/* ---- writing -------------------------------------------------------------- */

struct out {
    char *buf;
    size_t len, off;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->off < o->len ? o->buf + o->off : NULL,
                      o->off < o->len ? o->len - o->off : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->off += (size_t)n;
}

/* " WORD": a quoted string, or "-" for NULL. */
static void put_str(struct out *o, const char *s)
{
    if (!s) {
        put(o, " -");
        return;
    }
    put(o, " \"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            put(o, "\\x%02x", c);
        else
            put(o, "%c", c);
    }
    put(o, "\"");
}

static void put_rec(struct out *o, const struct sched__rp_rec *r)
{
    unsigned long long step = r->step, v = r->value;
    switch (r->kind) {
    case SCHED__RP_PICK:
        put(o, "p %llu %llu %llu %llu", step, (unsigned long long)r->n, v,
            (unsigned long long)r->task);
        if (r->value != 0)
            put(o, " %llu", (unsigned long long)r->fifo);
        put(o, "\n");
        break;
    case SCHED__RP_WAKE:
        put(o, "w %llu %llu %llu\n", step, v, (unsigned long long)r->fifo);
        break;
    default:
        put(o, "%c %llu %llu\n", r->kind, step, v);
        break;
    }
}

size_t sched__rp_format(const struct sched__replay *rp, char *buf, size_t len)
{
    struct out o = { buf, len, 0 };
    if (len)
        buf[0] = '\0';
    put(&o, "sched-replay %d\nbackend", SCHED__RP_VERSION);
    put_str(&o, rp->backend ? rp->backend : "test");
    put(&o, "\nseed %llu\nstrategy", (unsigned long long)rp->seed);
    put_str(&o, rp->strategy ? rp->strategy : "random");
    put(&o, "\nmode %s\n", rp->lenient ? "lenient" : "exact");
    if (rp->have_ticks)
        put(&o, "timeout-ticks %llu %llu\n", (unsigned long long)rp->ticks_min,
            (unsigned long long)rp->ticks_max);
    for (size_t i = 0; i < rp->ntasks; i++) {
        const struct sched__rp_task *t = &rp->tasks[i];
        put(&o, "task %llu %s %s", (unsigned long long)i + 1, sched__rp_prio_name(t->prio),
            t->fg ? "fg" : "bg");
        put_str(&o, t->label);
        put_str(&o, t->file);
        put(&o, " %d", t->line);
        put_str(&o, t->func);
        put(&o, "\n");
    }
    for (size_t i = 0; i < rp->nrecs; i++)
        put_rec(&o, &rp->recs[i]);
    if (rp->have_fail) {
        put(&o, "fail %d", rp->fail_code);
        put_str(&o, rp->fail_msg ? rp->fail_msg : "");
        put(&o, "\n");
    }
    put(&o, "end %llu\n", (unsigned long long)rp->end);
    return o.off;
}

char *sched__rp_format_new(const struct sched__replay *rp)
{
    size_t n = sched__rp_format(rp, NULL, 0);
    char *s = malloc(n + 1);
    if (s)
        sched__rp_format(rp, s, n + 1);
    return s;
}

/* ---- reading -------------------------------------------------------------- */

/* Words of one line; strings are decoded into word (truncated at the
 * buffer's end, which the reader reports). */
struct lex {
    const char *p, *end;
    char word[4096];
    int quoted;
};

/* The next word, or 0 at the end of the line; -1 on a malformed string. */
static int next_word(struct lex *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t'))
        x->p++;
    if (x->p >= x->end)
        return 0;
    size_t n = 0;
    x->quoted = *x->p == '"';
    if (!x->quoted) {
        while (x->p < x->end && *x->p != ' ' && *x->p != '\t') {
            if (n + 1 < sizeof x->word)
                x->word[n++] = *x->p;
            x->p++;
        }
        x->word[n] = '\0';
        return 1;
    }
    x->p++;
    for (;;) {
        if (x->p >= x->end)
            return -1;
        char c = *x->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (x->p >= x->end)
                return -1;
            c = *x->p++;
            if (c == 'x') {
                unsigned v = 0;
                for (int i = 0; i < 2; i++, x->p++) {
                    if (x->p >= x->end)
                        return -1;
                    char h = *x->p;
                    int d = h >= '0' && h <= '9' ? h - '0'
                            : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10
                                                                      : -1;
                    if (d < 0)
                        return -1;
                    v = v * 16 + (unsigned)d;
                }
                if (v == 0)
                    return -1;
                c = (char)v;
            } else if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            } else if (c != '"' && c != '\\') {
                return -1;
            }
        }
        if (n + 1 >= sizeof x->word)
            return -1;
        x->word[n++] = c;
    }
    x->word[n] = '\0';
    if (x->p < x->end && *x->p != ' ' && *x->p != '\t')
        return -1;
    return 1;
}

struct reader {
    struct sched__replay *rp;
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
    int in_records;         /* a task or record line was read: no more header */
    int ended;
    unsigned pick_line;     /* the line of the last pick read, 0 before the first */
    uint64_t pick_step;     /* and its step */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int bad(struct reader *rd, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (rd->errlen)
        snprintf(rd->err, rd->errlen, "%s:%u: %s", rd->name, rd->line, what);
    return SCHED_ECONFIG;
}

/* A decimal number that fits in 64 bits, nothing else. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* The next word as a number named what. */
static int want_u64(struct reader *rd, struct lex *x, const char *what, uint64_t *out)
{
    int w = next_word(x);
    if (w <= 0 || x->quoted)
        return bad(rd, "expected %s", what);
    if (parse_u64(x->word, out))
        return bad(rd, "%s \"%s\" is not a decimal number from 0 to %llu", what, x->word,
                   (unsigned long long)UINT64_MAX);
    return 0;
}

/* The next word as a string (NULL for "-"), copied to *out. */
static int want_str(struct reader *rd, struct lex *x, const char *what, char **out)
{
    int w = next_word(x);
    if (w < 0)
        return bad(rd, "%s is not a well-formed quoted string", what);
    if (w == 0)
        return bad(rd, "expected %s", what);
    if (!x->quoted && strcmp(x->word, "-") != 0)
        return bad(rd, "%s must be a quoted string or -", what);
    return sched__rp_set(out, x->quoted ? x->word : NULL);
}

static int want_end(struct reader *rd, struct lex *x)
{
    int w = next_word(x);
    if (w != 0)
        return bad(rd, "unexpected \"%s\" at the end of the line", w > 0 ? x->word : "\"");
    return 0;
}

static int read_header(struct reader *rd, struct lex *x, const char *key)
{
    struct sched__replay *rp = rd->rp;
    int rc;
    static const char *const keys[] = { "backend", "strategy", "seed", "mode", "timeout-ticks" };
    size_t k = 0;
    while (k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k]) != 0)
        k++;
    if (k == sizeof keys / sizeof keys[0])
        return SCHED_ENOENT;
    if (rd->in_records)
        return bad(rd, "the header line \"%s\" comes after the tasks and decisions", key);
    if (strcmp(key, "backend") == 0) {
        if ((rc = want_str(rd, x, "the backend's name", &rp->backend)))
            return rc;
    } else if (strcmp(key, "strategy") == 0) {
        if ((rc = want_str(rd, x, "the strategy's name", &rp->strategy)))
            return rc;
    } else if (strcmp(key, "seed") == 0) {
        if ((rc = want_u64(rd, x, "the seed", &rp->seed)))
            return rc;
    } else if (strcmp(key, "mode") == 0) {
        if (next_word(x) <= 0 || x->quoted
            || (strcmp(x->word, "exact") != 0 && strcmp(x->word, "lenient") != 0))
            return bad(rd, "the mode must be exact or lenient");
        rp->lenient = strcmp(x->word, "lenient") == 0;
    } else if (strcmp(key, "timeout-ticks") == 0) {
        if ((rc = want_u64(rd, x, "the fewest timeout ticks", &rp->ticks_min))
            || (rc = want_u64(rd, x, "the most timeout ticks", &rp->ticks_max)))
            return rc;
        if (rp->ticks_min > rp->ticks_max)
            return bad(rd, "the fewest timeout ticks exceed the most");
        rp->have_ticks = 1;
    }
    return want_end(rd, x);
}

static int read_task(struct reader *rd, struct lex *x)
{
    struct sched__replay *rp = rd->rp;
    uint64_t num, line;
    unsigned prio = 4;
    char *label = NULL, *file = NULL, *func = NULL;
    int rc = want_u64(rd, x, "the task's number", &num);
    if (rc)
        return rc;
    if (num != rp->ntasks + 1)
        return bad(rd, "task %llu is out of order (expected task %llu)", (unsigned long long)num,
                   (unsigned long long)rp->ntasks + 1);
    if (next_word(x) > 0 && !x->quoted)
        for (prio = 0; prio < 4 && strcmp(x->word, prio_names[prio]) != 0; prio++)
            ;
    if (prio >= 4)
        return bad(rd, "expected the task's priority: low, medium, high or realtime");
    if (next_word(x) <= 0 || x->quoted || (strcmp(x->word, "fg") && strcmp(x->word, "bg")))
        return bad(rd, "expected fg or bg (foreground or background)");
    int fg = strcmp(x->word, "fg") == 0;
    if (!(rc = want_str(rd, x, "the task's label", &label))
        && !(rc = want_str(rd, x, "the spawn site's file", &file))
        && !(rc = want_u64(rd, x, "the spawn site's line", &line))
        && !(rc = line > 0x7fffffff ? bad(rd, "the spawn site's line is too large") : 0)
        && !(rc = want_str(rd, x, "the spawn site's function", &func))
        && !(rc = want_end(rd, x)))
        rc = sched__rp_add_task(rp, prio, fg, label, file, (int)line, func);
    free(label);
    free(file);
    free(func);
    return rc;
}

static int known_task(struct reader *rd, uint64_t num, int waiter_ok)
{
    if ((num == 0 && waiter_ok) || (num >= 1 && num <= rd->rp->ntasks))
        return 0;
    return bad(rd, "task %llu is not listed by a task line before it", (unsigned long long)num);
}

static int read_record(struct reader *rd, struct lex *x, char kind)
{
    struct sched__replay *rp = rd->rp;
    struct sched__rp_rec r = { .kind = kind, .line = rd->line };
    int rc = want_u64(rd, x, "the step", &r.step);
    if (rc)
        return rc;
    if (rp->nrecs && r.step < rp->recs[rp->nrecs - 1].step)
        return bad(rd, "step %llu comes after step %llu", (unsigned long long)r.step,
                   (unsigned long long)rp->recs[rp->nrecs - 1].step);
    if (kind == SCHED__RP_PICK) {
        /* A step is the pick that runs it: two for one step is no run's. */
        if (rd->pick_line && r.step == rd->pick_step)
            return bad(rd, "a second pick for step %llu (line %u has its pick): each step "
                       "has one", (unsigned long long)r.step, rd->pick_line);
        rd->pick_line = rd->line;
        rd->pick_step = r.step;
        if ((rc = want_u64(rd, x, "the number of ready runnables", &r.n))
            || (rc = want_u64(rd, x, "the rank of the one that ran", &r.value))
            || (rc = want_u64(rd, x, "the task that ran", &r.task)))
            return rc;
        if (r.n == 0 || r.value >= r.n)
            return bad(rd, "rank %llu is not among %llu ready runnables",
                       (unsigned long long)r.value, (unsigned long long)r.n);
        if ((rc = known_task(rd, r.task, 1)))
            return rc;
        r.fifo = r.task;
        if (r.value != 0) {
            if ((rc = want_u64(rd, x, "the task FIFO would have run", &r.fifo))
                || (rc = known_task(rd, r.fifo, 1)))
                return rc;
            if (r.fifo == r.task)
                return bad(rd, "a pick of rank %llu names one task as both the one that ran and "
                           "FIFO's", (unsigned long long)r.value);
        }
    } else if (kind == SCHED__RP_WAKE) {
        if ((rc = want_u64(rd, x, "whether the caller resumed", &r.value))
            || (rc = want_u64(rd, x, "whether FIFO would have resumed it", &r.fifo)))
            return rc;
        if (r.value > 1 || r.fifo > 1)
            return bad(rd, "a wake record holds 0 or 1");
    } else if ((rc = want_u64(rd, x, "the value", &r.value))) {
        return rc;
    }
    if ((rc = want_end(rd, x)))
        return rc;
    rd->in_records = 1;
    return sched__rp_add(rp, &r);
}

static int read_line(struct reader *rd, struct lex *x)
{
    struct sched__replay *rp = rd->rp;
    int w = next_word(x);
    if (w == 0 || (w > 0 && !x->quoted && x->word[0] == '#'))
        return 0;
    if (rd->ended)
        return bad(rd, "a line after the \"end\" line");
    if (w < 0 || x->quoted)
        return bad(rd, "a line must start with a keyword");
    char key[32];
    size_t klen = strlen(x->word);
    if (klen >= sizeof key)
        return bad(rd, "unknown line \"%.24s...\"", x->word);
    memcpy(key, x->word, klen + 1);
    int rc = read_header(rd, x, key);
    if (rc != SCHED_ENOENT)
        return rc;
    if (strcmp(key, "task") == 0) {
        if (rp->nrecs)
            return bad(rd, "a task line after the decisions");
        rd->in_records = 1;
        return read_task(rd, x);
    }
    if (strlen(key) == 1 && strchr("pwbdr", key[0]))
        return read_record(rd, x, key[0]);
    if (strcmp(key, "fail") == 0) {
        uint64_t code;
        int neg = 0;
        if (next_word(x) <= 0 || x->quoted)
            return bad(rd, "expected the failure's code");
        neg = x->word[0] == '-';
        if (parse_u64(x->word + neg, &code) || code > 1000000)
            return bad(rd, "the failure's code \"%s\" is not a small integer", x->word);
        rp->fail_code = neg ? -(int)code : (int)code;
        rp->have_fail = 1;
        rd->in_records = 1;
        if ((rc = want_str(rd, x, "the failure's message", &rp->fail_msg)))
            return rc;
        return want_end(rd, x);
    }
    if (strcmp(key, "end") == 0) {
        if ((rc = want_u64(rd, x, "the number of steps", &rp->end)) || (rc = want_end(rd, x)))
            return rc;
        if (rp->nrecs && rp->end < rp->recs[rp->nrecs - 1].step)
            return bad(rd, "the run ends at step %llu, before its last decision",
                       (unsigned long long)rp->end);
        rd->ended = 1;
        return 0;
    }
    return bad(rd, "unknown line \"%s\"", key);
}

/* Line 1: "sched-replay VERSION". */
static int read_magic(struct reader *rd, struct lex *x)
{
    uint64_t v;
    if (next_word(x) <= 0 || x->quoted || strcmp(x->word, "sched-replay") != 0)
        return bad(rd, "not a replay file (its first line must be \"sched-replay %d\")",
                   SCHED__RP_VERSION);
    if (next_word(x) <= 0 || x->quoted || parse_u64(x->word, &v))
        return bad(rd, "expected the format's version after \"sched-replay\"");
    if (v != SCHED__RP_VERSION)
        return bad(rd, "replay files of version %llu are not supported (this libsched reads "
                   "version %d)", (unsigned long long)v, SCHED__RP_VERSION);
    return want_end(rd, x);
}

int sched__rp_parse(struct sched__replay *rp, const char *text, size_t len, const char *name,
                    char *err, size_t errlen)
{
    struct reader rd = { rp, name ? name : "(replay)", 0, err, errlen, 0, 0, 0, 0 };
    struct lex *x = malloc(sizeof *x);
    const char *p = text, *end = text + len;
    int rc = 0;
    if (!x)
        return SCHED_ENOMEM;
    if (errlen)
        err[0] = '\0';
    if (memchr(text, '\0', len)) {
        rd.line = 1;
        for (const char *q = text; *q; q++)
            rd.line += *q == '\n';
        rc = bad(&rd, "a NUL byte: not a text file");
        goto out_free_lex;
    }
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        rd.line++;
        x->p = p;
        x->end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        rc = rd.line == 1 ? read_magic(&rd, x) : read_line(&rd, x);
        p = nl ? nl + 1 : end;
    }
    if (rc == 0 && rd.line == 0) {
        rd.line = 1;
        rc = bad(&rd, "an empty file (a replay file starts with \"sched-replay %d\")",
                 SCHED__RP_VERSION);
    } else if (rc == 0 && !rp->backend) {
        rc = bad(&rd, "the header has no \"backend\" line");
    } else if (rc == 0 && !rd.ended) {
        rc = bad(&rd, "the file ends before its \"end\" line: it is truncated");
    }
out_free_lex:
    free(x);
    return rc;
}

const char *sched__rp_read_error(int rc)
{
    if (rc == SCHED_ENOMEM)
        return "out of memory";
    if (rc == SCHED_ELIMIT)
        return "larger than 64 MiB, the most a replay file may hold";
    return strerror(errno);
}

int sched__rp_read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 4096;
    char *buf;
    *text = NULL;
    *len = 0;
    if (!f)
        return SCHED_ENOENT;
    if (!(buf = malloc(cap))) {
        fclose(f);
        return SCHED_ENOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                fclose(f);
                return SCHED_ENOMEM;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        int nul = got != 0 && memchr(buf + n, '\0', got) != NULL;
        n += got;
        if (got == 0 || nul)
            break;
        if (n > SCHED__RP_MAX_BYTES) {
            free(buf);
            fclose(f);
            return SCHED_ELIMIT;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return SCHED_EBACKEND;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
