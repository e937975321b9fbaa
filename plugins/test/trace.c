/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/trace.c - the schedule as Chrome Trace Event JSON, for
 * Perfetto or chrome://tracing (sched-test(7), "TRACE").
 *
 * The time axis counts scheduler steps: step k is the span [k, k+1) us,
 * so the interleaving reads left to right.  Virtual time is a counter
 * track and an argument of every event.  Tracks: "timers" (tid 0), the
 * background (tid 1), one per foreground executor (tid 2, 3, ...).  One
 * event per line, so the file is also easy to grep.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"

struct tb_trace {
    FILE *f;
    size_t lanes_named;     /* foreground tracks announced so far */
};

static const char *prio_name(unsigned p)
{
    static const char *const names[] = { "low", "medium", "high", "realtime" };
    return p < 4 ? names[p] : "unknown";
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void thread_name(FILE *f, unsigned tid, const char *name)
{
    fprintf(f, ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":",
            tid);
    put_str(f, name);
    fputs("}}", f);
}

/*
 * Start writing to path (truncating it), finishing any trace already
 * open.  0, or SCHED_EBACKEND when the file cannot be created.
 */
int sched__tb_trace_open(struct tb *tb, const char *path)
{
    sched__tb_trace_close(tb);
    struct tb_trace *t = calloc(1, sizeof *t);
    if (!t)
        return SCHED_ENOMEM;
    t->f = fopen(path, "w");
    if (!t->f) {
        free(t);
        return SCHED_EBACKEND;
    }
    fputs("{\"traceEvents\":[\n{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\","
          "\"args\":{\"name\":\"sched test backend\"}}", t->f);
    thread_name(t->f, 0, "timers");
    thread_name(t->f, 1, "background");
    tb->trace = t;
    sched__tb_trace_clock(tb);
    return 0;
}

/* Finish the JSON (the seed and totals go last, in otherData). */
void sched__tb_trace_close(struct tb *tb)
{
    struct tb_trace *t = tb->trace;
    if (!t)
        return;
    fprintf(t->f, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"backend\":\"test\","
            "\"seed\":\"%llu\",\"steps\":\"%llu\",\"virtual_ns\":\"%llu\"}}\n",
            (unsigned long long)tb->seed, (unsigned long long)tb->steps,
            (unsigned long long)tb->now);
    fclose(t->f);
    free(t);
    tb->trace = NULL;
}

/* The track of a runnable: its foreground executor's, or the background. */
static unsigned track_of(struct tb *tb, const sched_runnable_info *info, int fg)
{
    struct tb_trace *t = tb->trace;
    if (!fg)
        return 1;
    size_t i = 0;
    while (i < tb->nlanes && tb->lanes[i].executor_id != info->executor_id)
        i++;
    for (; t->lanes_named <= i && t->lanes_named < tb->nlanes; t->lanes_named++) {
        char name[64];
        snprintf(name, sizeof name, "foreground executor %llu",
                 (unsigned long long)tb->lanes[t->lanes_named].executor_id);
        thread_name(t->f, (unsigned)(2 + t->lanes_named), name);
    }
    return (unsigned)(2 + i);
}

/* One step: the runnable about to run (called before tb->steps counts it). */
void sched__tb_trace_step(struct tb *tb, const sched_runnable_info *info, int fg)
{
    struct tb_trace *t = tb->trace;
    if (!t)
        return;
    unsigned tid = track_of(tb, info, fg);
    fprintf(t->f, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%llu,\"dur\":1,\"cat\":\"task\",\"name\":",
            tid, (unsigned long long)tb->steps);
    if (info->label) {
        put_str(t->f, info->label);
    } else {
        char name[48];
        snprintf(name, sizeof name, "task %llu", (unsigned long long)info->task_id);
        put_str(t->f, name);
    }
    fprintf(t->f, ",\"args\":{\"task\":%llu,\"priority\":\"%s\",\"virtual_ns\":%llu",
            (unsigned long long)info->task_id, prio_name(info->priority),
            (unsigned long long)tb->now);
    if (info->label) {
        fputs(",\"label\":", t->f);
        put_str(t->f, info->label);
    }
    if (info->file) {
        char site[512];
        snprintf(site, sizeof site, "%s:%d", info->file, info->line);
        fputs(",\"site\":", t->f);
        put_str(t->f, site);
        fputs(",\"func\":", t->f);
        put_str(t->f, info->func ? info->func : "?");
    }
    if (fg)
        fprintf(t->f, ",\"executor\":%llu", (unsigned long long)info->executor_id);
    fputs("}}", t->f);
    /* A pick that departs from FIFO order is marked on the same track. */
    uint64_t rank, fifo;
    if (sched__tb_replay_deviation(tb, &rank, &fifo))
        fprintf(t->f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,\"ts\":%llu,"
                "\"cat\":\"deviation\",\"name\":\"deviation\",\"args\":{\"task\":%llu,"
                "\"rank\":%llu,\"fifo_task\":%llu}}", tid, (unsigned long long)tb->steps,
                (unsigned long long)info->task_id, (unsigned long long)rank,
                (unsigned long long)fifo);
}

void sched__tb_trace_timer_set(struct tb *tb, sched_runnable *r, uint64_t due, uint64_t seq)
{
    struct tb_trace *t = tb->trace;
    if (!t)
        return;
    sched_runnable_info info = { .size = sizeof info };
    tb->svc->info(r, &info);
    fprintf(t->f, ",\n{\"ph\":\"b\",\"pid\":1,\"tid\":0,\"ts\":%llu,\"cat\":\"timer\",\"id\":%llu,"
            "\"name\":\"timer\",\"args\":{\"task\":%llu,\"set_ns\":%llu,\"due_ns\":%llu}}",
            (unsigned long long)tb->steps, (unsigned long long)seq,
            (unsigned long long)info.task_id, (unsigned long long)tb->now,
            (unsigned long long)due);
}

void sched__tb_trace_timer_fire(struct tb *tb, sched_runnable *r, uint64_t seq)
{
    struct tb_trace *t = tb->trace;
    if (!t)
        return;
    (void)r;
    fprintf(t->f, ",\n{\"ph\":\"e\",\"pid\":1,\"tid\":0,\"ts\":%llu,\"cat\":\"timer\",\"id\":%llu,"
            "\"name\":\"timer\",\"args\":{\"fired_ns\":%llu}}",
            (unsigned long long)tb->steps, (unsigned long long)seq,
            (unsigned long long)tb->now);
}

/* The virtual clock moved (or the trace began): a counter sample. */
void sched__tb_trace_clock(struct tb *tb)
{
    struct tb_trace *t = tb->trace;
    if (!t)
        return;
    fprintf(t->f, ",\n{\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":%llu,\"name\":\"virtual clock\","
            "\"args\":{\"ns\":%llu}}",
            (unsigned long long)tb->steps, (unsigned long long)tb->now);
}
