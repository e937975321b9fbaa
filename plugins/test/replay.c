/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/replay.c - recording every decision of a run, and taking
 * them from a replay file instead of choosing (sched-test(7), "Replay
 * files"; the format is ../common/replay.c).
 *
 * Choices between runnables are recorded and imposed where the strategy
 * makes them (sched__tb_choose in strategy.c): a pick as the rank of the
 * chosen runnable among the candidates in FIFO order, with task numbers
 * to notice a program that changed; a waiter choice as whether the woken
 * caller resumed.  The other decisions (a timeout's budget, a random
 * delay, the test's own random bits) as their values, where they are
 * drawn.  Tasks are numbered in the order they were first candidates,
 * oldest first, which depends on the schedule alone.
 *
 * An exact replay follows the file record by record and stops the run at
 * the first difference; a lenient one (for shrinking) looks each decision
 * up by its step and falls back to the canonical one, and says once, in
 * the log, when a task is ready that is like none of the file's (the
 * program changed).  Everything here runs under tb->mu.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"
#include "../common/replay.h"

struct tb_replay {
    struct sched__replay rec;   /* this run's decisions */
    struct sched__replay play;  /* the file replayed */
    int playing;
    char *name;                 /* the file, as messages call it */
    size_t pos;                 /* exact: the next record of play */
    char *failed;               /* where the run left its replay; NULL while it follows */
    char *odd_task;             /* a task unlike the file's, told after the step's own check */
    char *record_path;          /* SCHED_RECORD: written when the host closes */

    struct slot { uint64_t id, num; } *map;     /* task id -> number */
    size_t maplen, mapcap;
    struct tb_cand *cands;      /* the candidates of a choice, FIFO order */
    size_t ncands, capcands;

    int last_deviates;          /* the last pick, for the trace: */
    uint64_t last_rank;         /* its rank in FIFO order */
    uint64_t last_fifo;         /* the task id of FIFO's choice */

    /* Occurrences of each kind of decision at step occ_step, so that a
     * lenient replay can tell two decisions of one step apart. */
    uint64_t occ_step;
    unsigned occ[5];

    /* A lenient replay: the (label, function) of each of the file's
     * tasks, open addressing on play's strings, to notice a task the
     * file does not know; mismatch once it was told. */
    const struct sched__rp_task **sites;
    size_t capsites;            /* a power of two, or 0 */
    int mismatch;
};

static const char kinds[6] = { SCHED__RP_PICK, SCHED__RP_WAKE, SCHED__RP_BUDGET, SCHED__RP_DELAY,
                               SCHED__RP_RNG, '\0' };

static const char *kind_name(char kind)
{
    switch (kind) {
    case SCHED__RP_PICK: return "a pick among ready runnables";
    case SCHED__RP_WAKE: return "whether a woken caller resumes";
    case SCHED__RP_BUDGET: return "the steps of a wait with a timeout";
    case SCHED__RP_DELAY: return "the yields of a random delay";
    default: return "random bits for the test";
    }
}

/* The occurrence index of a decision of kind at the current step. */
static unsigned occurrence(struct tb *tb, char kind)
{
    struct tb_replay *rp = tb->replay;
    if (rp->occ_step != tb->steps) {
        rp->occ_step = tb->steps;
        memset(rp->occ, 0, sizeof rp->occ);
    }
    unsigned i = (unsigned)(strchr(kinds, kind) - kinds);
    return rp->occ[i]++;
}

/* ---- task numbers ---------------------------------------------------------- */

static int map_grow(struct tb_replay *rp)
{
    size_t cap = rp->mapcap ? rp->mapcap * 2 : 64;
    struct slot *m = calloc(cap, sizeof *m);
    if (!m)
        return SCHED_ENOMEM;
    for (size_t i = 0; i < rp->mapcap; i++) {
        if (!rp->map[i].id)
            continue;
        size_t j = (size_t)(rp->map[i].id * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        while (m[j].id)
            j = (j + 1) & (cap - 1);
        m[j] = rp->map[i];
    }
    free(rp->map);
    rp->map = m;
    rp->mapcap = cap;
    return 0;
}

static void leave(struct tb *tb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* An exact replay's task num must be the file's: the same label, spawned
 * in the same function (the file and line may move with edits). */
static void check_task(struct tb *tb, uint64_t num, const struct tb_cand *c)
{
    struct tb_replay *rp = tb->replay;
    const struct sched__rp_task *t = sched__rp_task(&rp->play, num);
    const char *label = c->info.label, *func = c->info.func;
    char what[1024];
    if (!rp->playing || rp->play.lenient || rp->odd_task
        || (t && same(t->label, label) && same(t->func, func)))
        return;
    if (!t)
        snprintf(what, sizeof what, "a task %s%s%s spawned in %s() is ready, but the file lists "
                 "only %llu tasks", label ? "\"" : "", label ? label : "(no label)",
                 label ? "\"" : "", func ? func : "(unknown)",
                 (unsigned long long)rp->play.ntasks);
    else
        snprintf(what, sizeof what, "task %llu is %s%s%s spawned in %s(), but the file's task "
                 "%llu is %s%s%s spawned in %s()", (unsigned long long)num, label ? "\"" : "",
                 label ? label : "(no label)", label ? "\"" : "", func ? func : "(unknown)",
                 (unsigned long long)num, t->label ? "\"" : "",
                 t->label ? t->label : "(no label)", t->label ? "\"" : "",
                 t->func ? t->func : "(unknown)");
    rp->odd_task = strdup(what);
}

static void check_site(struct tb *tb, uint64_t num, const struct tb_cand *c);

/* The number of the candidate's task, given on first sight (and its task
 * line recorded); 0 for the waiter, or when out of memory. */
static uint64_t task_number(struct tb *tb, const struct tb_cand *c)
{
    struct tb_replay *rp = tb->replay;
    uint64_t id = c->info.task_id;
    if (!c->r || !id)
        return 0;
    if (2 * (rp->maplen + 1) > rp->mapcap && map_grow(rp))
        return 0;
    size_t j = (size_t)(id * 0x9e3779b97f4a7c15ULL) & (rp->mapcap - 1);
    while (rp->map[j].id && rp->map[j].id != id)
        j = (j + 1) & (rp->mapcap - 1);
    if (rp->map[j].id)
        return rp->map[j].num;
    if (sched__rp_add_task(&rp->rec, c->info.priority, c->fg, c->info.label, c->info.file,
                           c->info.line, c->info.func))
        return 0;
    rp->map[j].id = id;
    rp->map[j].num = rp->rec.ntasks;
    rp->maplen++;
    check_task(tb, rp->map[j].num, c);
    check_site(tb, rp->map[j].num, c);
    return rp->map[j].num;
}

/* ---- a lenient replay's program ------------------------------------------ */

static size_t str_hash(const char *s, size_t h)
{
    if (!s)
        return h * 31 + 1;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h;
}

static size_t site_hash(const char *label, const char *func)
{
    return str_hash(func, str_hash(label, 0xcbf29ce484222325ULL) * 0x9e3779b97f4a7c15ULL);
}

/* The slot of (label, func) in rp->sites: its task, or the empty slot. */
static size_t site_slot(const struct tb_replay *rp, const char *label, const char *func)
{
    size_t j = site_hash(label, func) & (rp->capsites - 1);
    while (rp->sites[j] && !(same(rp->sites[j]->label, label) && same(rp->sites[j]->func, func)))
        j = (j + 1) & (rp->capsites - 1);
    return j;
}

/* Index the file's tasks by label and function; 0 or SCHED_ENOMEM. */
static int sites_index(struct tb_replay *rp)
{
    size_t cap = 16;
    while (cap < 2 * rp->play.ntasks + 2)
        cap *= 2;
    free(rp->sites);
    rp->capsites = 0;
    if (!(rp->sites = calloc(cap, sizeof *rp->sites)))
        return SCHED_ENOMEM;
    rp->capsites = cap;
    for (uint64_t n = 1; n <= rp->play.ntasks; n++) {
        const struct sched__rp_task *t = sched__rp_task(&rp->play, n);
        size_t j = site_slot(rp, t->label, t->func);
        if (!rp->sites[j])
            rp->sites[j] = t;
    }
    return 0;
}

static void describe(const struct tb *tb, const struct sched__replay *from, uint64_t num,
                     char *buf, size_t len);

/* A lenient replay goes on where the program changed, but says so, once:
 * task num (this run's) is like none of the file's tasks. */
static void check_site(struct tb *tb, uint64_t num, const struct tb_cand *c)
{
    struct tb_replay *rp = tb->replay;
    char what[512], line[1536];
    if (!rp->playing || !rp->play.lenient || rp->mismatch || !rp->capsites
        || rp->sites[site_slot(rp, c->info.label, c->info.func)])
        return;
    rp->mismatch = 1;
    describe(tb, &rp->rec, num, what, sizeof what);
    snprintf(line, sizeof line, "replay %s is lenient, and the program no longer matches it: at "
             "step %llu %s is ready, but no task of the file has its label and was spawned in "
             "%s(); the run goes on, in FIFO order where the file's decisions do not apply",
             rp->name, (unsigned long long)tb->steps, what,
             c->info.func ? c->info.func : "(unknown)");
    tb->svc->log(tb->host, SCHED_LOG_WARN, line);
}

/* "task 3 "parse" (spawned at x.c:10 in main())", or "the woken caller". */
static void describe(const struct tb *tb, const struct sched__replay *from, uint64_t num,
                     char *buf, size_t len)
{
    const struct sched__rp_task *t = sched__rp_task(from, num);
    (void)tb;
    if (num == 0) {
        snprintf(buf, len, "the woken caller");
        return;
    }
    if (!t) {
        snprintf(buf, len, "task %llu", (unsigned long long)num);
        return;
    }
    snprintf(buf, len, "task %llu%s%s%s (spawned at %s:%d in %s())", (unsigned long long)num,
             t->label ? " \"" : "", t->label ? t->label : "", t->label ? "\"" : "",
             t->file ? t->file : "(unknown)", t->line, t->func ? t->func : "(unknown)");
}

/* ---- leaving the replay ---------------------------------------------------- */

static void leave(struct tb *tb, const char *fmt, ...)
{
    struct tb_replay *rp = tb->replay;
    char what[1024];
    va_list ap;
    if (rp->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t n = strlen(rp->name) + strlen(what) + 64;
    if ((rp->failed = malloc(n)))
        snprintf(rp->failed, n, "replay %s diverged at step %llu: %s", rp->name,
                 (unsigned long long)tb->steps, what);
    tb->svc->log(tb->host, SCHED_LOG_ERROR, rp->failed ? rp->failed : what);
}

/* The next record of an exact replay, if it is a decision of kind at this
 * step; else the run leaves its replay and NULL. */
static const struct sched__rp_rec *expect(struct tb *tb, char kind)
{
    struct tb_replay *rp = tb->replay;
    if (rp->pos >= rp->play.nrecs) {
        leave(tb, "the program makes %s, but the file has no decision left (it ends at "
              "step %llu)", kind_name(kind), (unsigned long long)rp->play.end);
        return NULL;
    }
    const struct sched__rp_rec *r = &rp->play.recs[rp->pos];
    if (r->kind != kind || r->step != tb->steps) {
        leave(tb, "the program makes %s, but line %u of the file has %s at step %llu",
              kind_name(kind), r->line, kind_name(r->kind), (unsigned long long)r->step);
        return NULL;
    }
    rp->pos++;
    return r;
}

/* A lenient replay's decision of kind at this step, or NULL. */
static const struct sched__rp_rec *look_up(struct tb *tb, char kind)
{
    struct tb_replay *rp = tb->replay;
    unsigned j = occurrence(tb, kind);
    size_t lo = 0, hi = rp->play.nrecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rp->play.recs[mid].step < tb->steps)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < rp->play.nrecs && rp->play.recs[i].step == tb->steps; i++)
        if (rp->play.recs[i].kind == kind && j-- == 0)
            return &rp->play.recs[i];
    return NULL;
}

/* ---- choices ------------------------------------------------------------- */

static int collect(void *arg, const struct tb_cand *c)
{
    struct tb_replay *rp = arg;
    if (rp->ncands == rp->capcands) {
        size_t cap = rp->capcands ? rp->capcands * 2 : 32;
        struct tb_cand *v = realloc(rp->cands, cap * sizeof *v);
        if (!v)
            return SCHED_ENOMEM;
        rp->cands = v;
        rp->capcands = cap;
    }
    rp->cands[rp->ncands++] = *c;
    return 0;
}

/* FIFO order: by the schedule call that queued each; a runnable goes
 * before the waiter only when it was queued before the wake-up. */
static int fifo_order(const void *a, const void *b)
{
    const struct tb_cand *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return (x->r != NULL) - (y->r != NULL);
}

/* The candidates of ch in FIFO order, numbered; 0 or SCHED_ENOMEM. */
static int candidates(struct tb *tb, const struct tb_choice *ch)
{
    struct tb_replay *rp = tb->replay;
    rp->ncands = 0;
    int rc = sched__tb_cands_visit(tb, ch, collect, rp);
    if (rc)
        return rc;
    qsort(rp->cands, rp->ncands, sizeof *rp->cands, fifo_order);
    /* Number every candidate, oldest first, before any is chosen. */
    for (size_t k = 0; k < rp->ncands; k++)
        task_number(tb, &rp->cands[k]);
    return 0;
}

static size_t index_of(const struct tb_replay *rp, const sched_runnable *r)
{
    for (size_t i = 0; i < rp->ncands; i++)
        if (rp->cands[i].r == r)
            return i;
    return rp->ncands;
}

static size_t index_of_task(struct tb *tb, uint64_t num)
{
    struct tb_replay *rp = tb->replay;
    for (size_t i = 0; i < rp->ncands; i++)
        if (task_number(tb, &rp->cands[i]) == num)
            return i;
    return rp->ncands;
}

/* Record the choice of candidate i. */
static void note(struct tb *tb, const struct tb_choice *ch, size_t i)
{
    struct tb_replay *rp = tb->replay;
    struct sched__rp_rec r = { .step = tb->steps };
    if (ch->waiter) {
        r.kind = SCHED__RP_WAKE;
        r.value = rp->cands[i].r == NULL;
        r.fifo = rp->cands[0].r == NULL;
    } else {
        r.kind = SCHED__RP_PICK;
        r.n = rp->ncands;
        r.value = i;
        r.task = task_number(tb, &rp->cands[i]);
        r.fifo = task_number(tb, &rp->cands[0]);
        rp->last_deviates = i != 0;
        rp->last_rank = i;
        rp->last_fifo = rp->cands[0].info.task_id;
    }
    sched__rp_add(&rp->rec, &r);
}

/* The candidate an exact replay takes, or ncands when the run left it. */
static size_t exact_choice(struct tb *tb, const struct tb_choice *ch)
{
    struct tb_replay *rp = tb->replay;
    char want[512], got[512];
    const struct sched__rp_rec *r = expect(tb, ch->waiter ? SCHED__RP_WAKE : SCHED__RP_PICK);
    if (!r)
        return rp->ncands;
    if (ch->waiter) {
        if (r->fifo != (rp->cands[0].r == NULL)) {
            leave(tb, "line %u of the file has FIFO order %s the woken caller, but now it would "
                  "%s", r->line, r->fifo ? "resume" : "not yet resume",
                  r->fifo ? "run a runnable first" : "resume it");
            return rp->ncands;
        }
        /* Not resuming: the oldest runnable stands for "run one first". */
        size_t i = r->value ? index_of(rp, NULL) : rp->cands[0].r ? 0 : 1;
        if (i >= rp->ncands)
            leave(tb, "line %u of the file runs a runnable before the woken caller, but none is "
                  "ready", r->line);
        return i;
    }
    if (r->n != rp->ncands) {
        char ready[1024] = "";
        size_t off = 0;
        describe(tb, &rp->play, r->task, want, sizeof want);
        for (size_t k = 0; k < rp->ncands && k < 4 && off < sizeof ready; k++) {
            describe(tb, &rp->rec, task_number(tb, &rp->cands[k]), got, sizeof got);
            off += (size_t)snprintf(ready + off, sizeof ready - off, "%s%s", k ? ", " : "", got);
        }
        leave(tb, "line %u of the file runs %s, one of %llu ready runnables, but %llu %s ready: "
              "%s%s", r->line, want, (unsigned long long)r->n, (unsigned long long)rp->ncands,
              rp->ncands == 1 ? "is" : "are", ready, rp->ncands > 4 ? ", ..." : "");
        return rp->ncands;
    }
    size_t i = (size_t)r->value;
    uint64_t num = task_number(tb, &rp->cands[i]), fifo = task_number(tb, &rp->cands[0]);
    if (num != r->task || fifo != r->fifo) {
        describe(tb, &rp->play, num != r->task ? r->task : r->fifo, want, sizeof want);
        describe(tb, &rp->rec, num != r->task ? num : fifo, got, sizeof got);
        leave(tb, "line %u of the file %s %s, but %s is %s", r->line,
              num != r->task ? "runs" : "has FIFO order run first", want,
              num != r->task ? "the runnable of that rank" : "the oldest ready runnable", got);
        return rp->ncands;
    }
    return i;
}

/* The candidate a lenient replay takes: the file's task or the woken
 * caller's resumption at this step when it can, else FIFO's. */
static size_t lenient_choice(struct tb *tb, const struct tb_choice *ch)
{
    struct tb_replay *rp = tb->replay;
    const struct sched__rp_rec *r = look_up(tb, ch->waiter ? SCHED__RP_WAKE : SCHED__RP_PICK);
    size_t i = rp->ncands;
    if (r && ch->waiter)
        i = r->value ? index_of(rp, NULL) : rp->cands[0].r ? 0 : 1;
    else if (r)
        i = index_of_task(tb, r->task);
    return i < rp->ncands ? i : 0;
}

int sched__tb_replay_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out,
                            int (*strategy)(struct tb *, const struct tb_choice *,
                                            struct tb_cand *))
{
    struct tb_replay *rp = tb->replay;
    size_t i;
    if (!ch->waiter)
        rp->last_deviates = 0;
    if (rp->failed)
        goto out_stopped;
    if (candidates(tb, ch))
        return strategy(tb, ch, out);
    if (rp->ncands == 0 && !ch->waiter)
        return 0;
    if (!rp->playing) {
        if (!strategy(tb, ch, out))
            return 0;
        i = index_of(rp, out->r);
        if (i < rp->ncands)
            note(tb, ch, i);
        return 1;
    }
    i = rp->play.lenient ? lenient_choice(tb, ch) : exact_choice(tb, ch);
    if (rp->odd_task)
        leave(tb, "%s", rp->odd_task);
    if (i >= rp->ncands || rp->failed)
        goto out_stopped;
    note(tb, ch, i);
    *out = rp->cands[i];
    return 1;
out_stopped:
    /* Nothing runs once the run has left its replay; a waiter choice,
     * which must choose, lets the caller resume into tb_park's check. */
    if (!ch->waiter)
        return 0;
    memset(out, 0, sizeof *out);
    return 1;
}

/* ---- values ---------------------------------------------------------------- */

uint64_t sched__tb_replay_value(struct tb *tb, char kind, uint64_t drawn)
{
    struct tb_replay *rp = tb->replay;
    uint64_t v = drawn;
    if (rp->failed)
        return drawn;
    if (rp->playing && !rp->play.lenient) {
        const struct sched__rp_rec *r = expect(tb, kind);
        if (!r)
            return drawn;
        v = r->value;
    } else if (rp->playing) {
        const struct sched__rp_rec *r = look_up(tb, kind);
        if (kind == SCHED__RP_BUDGET)
            v = r ? (r->value < tb->ticks_min ? tb->ticks_min
                     : r->value > tb->ticks_max ? tb->ticks_max : r->value)
                  : tb->ticks_max;
        else if (kind == SCHED__RP_DELAY)
            v = r ? r->value : 0;
        else if (r)
            v = r->value;
    }
    struct sched__rp_rec rec = { .kind = kind, .step = tb->steps, .value = v };
    sched__rp_add(&rp->rec, &rec);
    return v;
}

/* ---- starting, the file, the ops ------------------------------------------ */

static int replay_new(struct tb *tb)
{
    if (tb->replay)
        return 0;
    struct tb_replay *rp = calloc(1, sizeof *rp);
    if (!rp)
        return SCHED_ENOMEM;
    sched__rp_init(&rp->rec);
    sched__rp_init(&rp->play);
    tb->replay = rp;
    return 0;
}

int sched__tb_replay_start(struct tb *tb, const char *text, size_t len, const char *name,
                           char *err, size_t errlen)
{
    int rc = replay_new(tb);
    if (rc || !text)
        return rc;
    struct tb_replay *rp = tb->replay;
    if (tb->steps) {
        snprintf(err, errlen, "%s: a replay must start before the first step (%llu have run)",
                 name ? name : "(replay)", (unsigned long long)tb->steps);
        return SCHED_EINVAL;
    }
    struct sched__replay play;
    sched__rp_init(&play);
    rc = sched__rp_parse(&play, text, len, name, err, errlen);
    if (rc == 0 && strcmp(play.backend, "test") != 0) {
        snprintf(err, errlen, "%s: the file replays backend \"%s\", not \"test\"",
                 name ? name : "(replay)", play.backend);
        rc = SCHED_ECONFIG;
    }
    if (rc == 0 && sched__rp_set(&rp->name, name ? name : "(replay)"))
        rc = SCHED_ENOMEM;
    if (rc) {
        sched__rp_free(&play);
        return rc;
    }
    sched__rp_free(&rp->play);
    /* The decisions are the file's, whatever the strategy setting. */
    if (sched__rp_set(&rp->rec.strategy, play.strategy)) {
        sched__rp_free(&play);
        return SCHED_ENOMEM;
    }
    rp->play = play;
    rp->playing = 1;
    rp->pos = 0;
    rp->mismatch = 0;
    if (play.lenient && sites_index(rp))
        return SCHED_ENOMEM;
    free(rp->failed);
    rp->failed = NULL;
    tb->seed = play.seed;
    sched_prng_seed(&tb->prng, play.seed);
    return 0;
}

/* SCHED_REPLAY and SCHED_RECORD (read like SCHED_TRACE, through the
 * host's secure getenv); at create, before anything runs. */
int sched__tb_replay_from_env(struct tb *tb, char *err, size_t errlen)
{
    const char *replay = tb->svc->getenv("SCHED_REPLAY");
    const char *record = tb->svc->getenv("SCHED_RECORD");
    int rc = 0;
    if (record && *record && ((rc = replay_new(tb))
                              || (rc = sched__rp_set(&tb->replay->record_path, record))))
        return rc;
    /* A file that cannot be written is said now, not at close, where only
     * the log would hear of it ("a" leaves what is there until then). */
    FILE *f = record && *record ? fopen(record, "ab") : NULL;
    if (record && *record && (!f || fclose(f) != 0)) {
        snprintf(err, errlen, "SCHED_RECORD=%s: cannot write the replay file: %s", record,
                 strerror(errno));
        return SCHED_ECONFIG;
    }
    if (!replay || !*replay)
        return 0;
    char *text;
    size_t len;
    if ((rc = sched__rp_read_file(replay, &text, &len))) {
        snprintf(err, errlen, "SCHED_REPLAY=%s: %s", replay, sched__rp_read_error(rc));
        return rc == SCHED_ENOMEM ? rc : SCHED_ECONFIG;
    }
    rc = sched__tb_replay_start(tb, text, len, replay, err, errlen);
    free(text);
    return rc;
}

size_t sched__tb_replay_record(struct tb *tb, char *buf, size_t len)
{
    struct tb_replay *rp = tb->replay;
    if (len)
        buf[0] = '\0';
    if (!rp)
        return 0;
    rp->rec.seed = tb->seed;
    rp->rec.end = tb->steps;
    rp->rec.have_ticks = 1;
    rp->rec.ticks_min = tb->ticks_min;
    rp->rec.ticks_max = tb->ticks_max;
    if (!rp->rec.backend && sched__rp_set(&rp->rec.backend, "test"))
        return 0;
    static const char *const strategies[] = { "random", "fifo", "pct" };
    if (!rp->rec.strategy && sched__rp_set(&rp->rec.strategy, strategies[tb->strategy]))
        return 0;
    return sched__rp_format(&rp->rec, buf, len);
}

size_t sched__tb_replay_status(struct tb *tb, char *buf, size_t len)
{
    const char *msg = tb->replay ? tb->replay->failed : NULL;
    if (len)
        buf[0] = '\0';
    if (!msg)
        return 0;
    snprintf(buf, len, "%s", msg);
    return strlen(msg);
}

int sched__tb_replay_failed(const struct tb *tb)
{
    return tb->replay && tb->replay->failed;
}

int sched__tb_replay_deviation(const struct tb *tb, uint64_t *rank, uint64_t *fifo)
{
    const struct tb_replay *rp = tb->replay;
    if (!rp || !rp->last_deviates)
        return 0;
    *rank = rp->last_rank;
    *fifo = rp->last_fifo;
    return 1;
}

/* Write SCHED_RECORD's file (a run that replayed one and never left it
 * ends where the file does), then free everything. */
void sched__tb_replay_close(struct tb *tb)
{
    struct tb_replay *rp = tb->replay;
    if (!rp)
        return;
    if (rp->playing && !rp->play.lenient && !rp->failed && rp->pos < rp->play.nrecs)
        leave(tb, "the program ended, but line %u of the file has %s", rp->play.recs[rp->pos].line,
              kind_name(rp->play.recs[rp->pos].kind));
    if (rp->record_path) {
        size_t n = sched__tb_replay_record(tb, NULL, 0);
        char *text = malloc(n + 1);
        FILE *f = text ? fopen(rp->record_path, "wb") : NULL;
        if (f) {
            sched__tb_replay_record(tb, text, n + 1);
            fputs(text, f);
        }
        if (!f || fclose(f) != 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "SCHED_RECORD=%s: cannot write the replay file: %s",
                     rp->record_path, text ? strerror(errno) : "out of memory");
            tb->svc->log(tb->host, SCHED_LOG_ERROR, msg);
        }
        free(text);
    }
    sched__rp_free(&rp->rec);
    sched__rp_free(&rp->play);
    free(rp->name);
    free(rp->failed);
    free(rp->odd_task);
    free(rp->record_path);
    free(rp->map);
    free(rp->cands);
    free(rp->sites);
    free(rp);
    tb->replay = NULL;
}
