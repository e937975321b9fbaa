/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/trace_summary.c - "schedctl trace-summary FILE": a short
 * text summary of a Chrome Trace Event file written by the test backend
 * (sched-test(7), "Trace"): steps per track, the busiest tasks, labels and
 * timers.
 *
 * The file is read whole and walked by a small JSON reader that keeps only
 * what the summary needs; any JSON the reader does not need is skipped, so
 * traces from newer versions still summarize.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedctl.h"

struct reader {
    const char *p, *end, *start;
    const char *error;      /* first problem found; NULL while fine */
};

static void fail_at(struct reader *r, const char *what)
{
    if (r->error == NULL)
        r->error = what;
}

static void skip_ws(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static int eat(struct reader *r, char c)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

/* A JSON string into buf (truncated to len, \u escapes beyond ASCII as '?'). */
static int read_string(struct reader *r, char *buf, size_t len)
{
    size_t n = 0;
    if (!eat(r, '"')) {
        fail_at(r, "expected a string");
        return -1;
    }
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if (c == '\\' && r->p < r->end) {
            c = *r->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && r->p < r->end; i++, r->p++)
                    v = v * 16 + (unsigned)(*r->p <= '9' ? *r->p - '0' : (*r->p | 0x20) - 'a' + 10);
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            default: break;     /* \" \\ \/ */
            }
        }
        if (n + 1 < len)
            buf[n++] = c;
    }
    if (len)
        buf[n] = '\0';
    if (!eat(r, '"')) {
        fail_at(r, "unterminated string");
        return -1;
    }
    return 0;
}

static double read_number(struct reader *r)
{
    skip_ws(r);
    char *end;
    double v = strtod(r->p, &end);
    if (end == r->p || end > r->end)
        fail_at(r, "expected a number");
    else
        r->p = end;
    return v;
}

/* Skip any value, nesting included. */
static void skip_value(struct reader *r, int depth)
{
    skip_ws(r);
    if (r->p >= r->end || depth > 64) {
        fail_at(r, "unexpected end of file");
        return;
    }
    char c = *r->p;
    if (c == '"') {
        char sink[1];
        read_string(r, sink, sizeof sink);
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        r->p++;
        if (eat(r, close))
            return;
        do {
            if (c == '{') {
                char sink[1];
                if (read_string(r, sink, sizeof sink) || !eat(r, ':')) {
                    fail_at(r, "expected a member");
                    return;
                }
            }
            skip_value(r, depth + 1);
        } while (!r->error && eat(r, ','));
        if (!eat(r, close))
            fail_at(r, c == '{' ? "expected '}'" : "expected ']'");
    } else if (strncmp(r->p, "true", 4) == 0 || strncmp(r->p, "null", 4) == 0) {
        r->p += 4;
    } else if (strncmp(r->p, "false", 5) == 0) {
        r->p += 5;
    } else {
        read_number(r);
    }
}

/* ---- what the summary counts --------------------------------------------- */

#define NAME_MAX_LEN 128

struct track {
    double tid;
    char name[NAME_MAX_LEN];
    uint64_t steps;
};

struct named_count {
    char name[NAME_MAX_LEN];
    uint64_t steps;
    double task;            /* tasks only */
};

struct summary {
    struct track *tracks;
    size_t ntracks;
    struct named_count *tasks, *labels;
    size_t ntasks, nlabels;
    uint64_t steps, timers_set, timers_fired;
    char seed[32], virtual_ns[32];
};

struct event {
    char ph[4], cat[16], name[NAME_MAX_LEN], label[NAME_MAX_LEN], thread_name[NAME_MAX_LEN];
    double tid, task;
    int has_task, has_label;
};

static struct track *track_for(struct summary *s, double tid)
{
    for (size_t i = 0; i < s->ntracks; i++)
        if (s->tracks[i].tid == tid)
            return &s->tracks[i];
    struct track *v = realloc(s->tracks, (s->ntracks + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    s->tracks = v;
    struct track *t = &v[s->ntracks++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    snprintf(t->name, sizeof t->name, "track %.0f", tid);
    return t;
}

/* Count one step of name (and task), keeping the list short of duplicates. */
static void count(struct named_count **list, size_t *n, const char *name, double task, int by_task)
{
    for (size_t i = 0; i < *n; i++)
        if (by_task ? (*list)[i].task == task : strcmp((*list)[i].name, name) == 0) {
            (*list)[i].steps++;
            return;
        }
    struct named_count *v = realloc(*list, (*n + 1) * sizeof *v);
    if (v == NULL)
        return;
    *list = v;
    snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
    v[*n].steps = 1;
    v[*n].task = task;
    (*n)++;
}

static void read_args(struct reader *r, struct event *e)
{
    if (!eat(r, '{')) {
        skip_value(r, 1);
        return;
    }
    if (eat(r, '}'))
        return;
    do {
        char key[32];
        if (read_string(r, key, sizeof key) || !eat(r, ':'))
            { fail_at(r, "expected a member"); return; }
        if (strcmp(key, "task") == 0) {
            e->task = read_number(r);
            e->has_task = 1;
        } else if (strcmp(key, "label") == 0) {
            read_string(r, e->label, sizeof e->label);
            e->has_label = 1;
        } else if (strcmp(key, "name") == 0) {
            read_string(r, e->thread_name, sizeof e->thread_name);
        } else {
            skip_value(r, 2);
        }
    } while (!r->error && eat(r, ','));
    if (!eat(r, '}'))
        fail_at(r, "expected '}'");
}

static void read_event(struct reader *r, struct summary *s)
{
    struct event e;
    memset(&e, 0, sizeof e);
    if (!eat(r, '{'))
        { fail_at(r, "expected an event object"); return; }
    if (!eat(r, '}')) {
        do {
            char key[32];
            if (read_string(r, key, sizeof key) || !eat(r, ':'))
                { fail_at(r, "expected a member"); return; }
            if (strcmp(key, "ph") == 0)
                read_string(r, e.ph, sizeof e.ph);
            else if (strcmp(key, "cat") == 0)
                read_string(r, e.cat, sizeof e.cat);
            else if (strcmp(key, "name") == 0)
                read_string(r, e.name, sizeof e.name);
            else if (strcmp(key, "tid") == 0)
                e.tid = read_number(r);
            else if (strcmp(key, "args") == 0)
                read_args(r, &e);
            else
                skip_value(r, 1);
        } while (!r->error && eat(r, ','));
        if (!eat(r, '}'))
            { fail_at(r, "expected '}'"); return; }
    }
    if (strcmp(e.ph, "M") == 0 && strcmp(e.name, "thread_name") == 0) {
        struct track *t = track_for(s, e.tid);
        if (t)
            snprintf(t->name, sizeof t->name, "%s", e.thread_name);
    } else if (strcmp(e.ph, "X") == 0 && strcmp(e.cat, "task") == 0) {
        struct track *t = track_for(s, e.tid);
        if (t)
            t->steps++;
        s->steps++;
        if (e.has_task)
            count(&s->tasks, &s->ntasks, e.has_label ? e.label : "", e.task, 1);
        count(&s->labels, &s->nlabels, e.has_label ? e.label : "(no label)", 0, 0);
    } else if (strcmp(e.cat, "timer") == 0 && strcmp(e.ph, "b") == 0) {
        s->timers_set++;
    } else if (strcmp(e.cat, "timer") == 0 && strcmp(e.ph, "e") == 0) {
        s->timers_fired++;
    }
}

static void read_other(struct reader *r, struct summary *s)
{
    if (!eat(r, '{'))
        { skip_value(r, 1); return; }
    if (eat(r, '}'))
        return;
    do {
        char key[32], value[32];
        if (read_string(r, key, sizeof key) || !eat(r, ':'))
            { fail_at(r, "expected a member"); return; }
        skip_ws(r);
        if (r->p < r->end && *r->p == '"' && strcmp(key, "seed") == 0)
            read_string(r, s->seed, sizeof s->seed);
        else if (r->p < r->end && *r->p == '"' && strcmp(key, "virtual_ns") == 0)
            read_string(r, s->virtual_ns, sizeof s->virtual_ns);
        else if (r->p < r->end && *r->p == '"')
            read_string(r, value, sizeof value);
        else
            skip_value(r, 2);
    } while (!r->error && eat(r, ','));
    if (!eat(r, '}'))
        fail_at(r, "expected '}'");
}

static void read_trace(struct reader *r, struct summary *s)
{
    int events = 0;
    if (!eat(r, '{'))
        { fail_at(r, "expected '{'"); return; }
    if (!eat(r, '}')) {
        do {
            char key[32];
            if (read_string(r, key, sizeof key) || !eat(r, ':'))
                { fail_at(r, "expected a member"); return; }
            if (strcmp(key, "traceEvents") == 0) {
                events = 1;
                if (!eat(r, '['))
                    { fail_at(r, "expected '[' after \"traceEvents\""); return; }
                if (!eat(r, ']')) {
                    do
                        read_event(r, s);
                    while (!r->error && eat(r, ','));
                    if (!r->error && !eat(r, ']'))
                        fail_at(r, "expected ']'");
                }
            } else if (strcmp(key, "otherData") == 0) {
                read_other(r, s);
            } else {
                skip_value(r, 1);
            }
        } while (!r->error && eat(r, ','));
        if (!r->error && !eat(r, '}'))
            fail_at(r, "expected '}'");
    }
    if (!r->error && !events)
        fail_at(r, "no \"traceEvents\"");
}

static int by_steps_desc(const void *a, const void *b)
{
    const struct named_count *x = a, *y = b;
    if (x->steps != y->steps)
        return x->steps < y->steps ? 1 : -1;
    return x->task < y->task ? -1 : x->task > y->task;
}

static int by_label(const void *a, const void *b)
{
    const struct named_count *x = a, *y = b;
    if (x->steps != y->steps)
        return x->steps < y->steps ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void print_summary(const struct summary *s)
{
    printf("seed %s: %llu steps, %zu tasks, virtual time %s ns\n", s->seed[0] ? s->seed : "?",
           (unsigned long long)s->steps, s->ntasks, s->virtual_ns[0] ? s->virtual_ns : "?");
    printf("tracks:\n");
    for (size_t i = 0; i < s->ntracks; i++)
        if (s->tracks[i].steps)
            printf("  %-28s %llu steps\n", s->tracks[i].name, (unsigned long long)s->tracks[i].steps);
    printf("busiest tasks:\n");
    for (size_t i = 0; i < s->ntasks && i < 5; i++) {
        char name[NAME_MAX_LEN + 32];
        snprintf(name, sizeof name, s->tasks[i].name[0] ? "task %.0f \"%s\"" : "task %.0f",
                 s->tasks[i].task, s->tasks[i].name);
        printf("  %-28s %llu steps\n", name, (unsigned long long)s->tasks[i].steps);
    }
    printf("labels:\n");
    for (size_t i = 0; i < s->nlabels && i < 10; i++)
        printf("  %-28s %llu steps\n", s->labels[i].name, (unsigned long long)s->labels[i].steps);
    if (s->nlabels > 10)
        printf("  (%zu more)\n", s->nlabels - 10);
    printf("timers: %llu set, %llu fired, %llu pending at the end\n",
           (unsigned long long)s->timers_set, (unsigned long long)s->timers_fired,
           (unsigned long long)(s->timers_set - s->timers_fired));
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static const char usage[] =
    "usage: schedctl trace-summary FILE\n"
    "Summarize a Chrome trace written by the test backend (SCHED_TRACE=FILE).\n";

int sched__cmd_trace_summary(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return SCHEDCTL_OK;
    }
    if (argc != 2) {
        fputs(usage, stderr);
        return SCHEDCTL_USAGE;
    }
    size_t len;
    char *text = read_file(argv[1], &len);
    if (text == NULL) {
        sched__ctl_error("trace-summary: cannot read %s: %s", argv[1], strerror(errno));
        return SCHEDCTL_FAIL;
    }
    struct reader r = { text, text + len, text, NULL };
    struct summary s;
    memset(&s, 0, sizeof s);
    read_trace(&r, &s);
    int status = SCHEDCTL_OK;
    if (r.error) {
        sched__ctl_error("trace-summary: %s is not a Chrome trace: %s at byte %zu", argv[1],
                         r.error, (size_t)(r.p - r.start));
        status = SCHEDCTL_FAIL;
    } else {
        qsort(s.tasks, s.ntasks, sizeof *s.tasks, by_steps_desc);
        qsort(s.labels, s.nlabels, sizeof *s.labels, by_label);
        print_summary(&s);
    }
    free(s.tracks);
    free(s.tasks);
    free(s.labels);
    free(text);
    return status;
}
