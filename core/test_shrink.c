/* SPDX-License-Identifier: MIT */
/*
 * core/test_shrink.c - shrinking a failing replay to the few decisions
 * that make it fail (sched-test(7), "Shrinking").
 *
 * Delta debugging (Zeller and Hildebrandt's ddmin) over the deviations of
 * a failing run: the decisions that differ from the canonical schedule
 * (FIFO order, full timeout budgets, no random delays).  Each test runs
 * the program on a lenient replay holding a subset of them, every other
 * decision falling back to the canonical one; a subset that still fails
 * the same way becomes the new failing run, recorded exactly.  The picks
 * and wake-ups go first, then the timeout budgets and delays, then the
 * picks once more if the second pass changed anything.  How a run is
 * made (in this process, or a child) is the caller's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_replay.h"

struct shrinker {
    sched__shrink_fn run;
    void *arg;
    int want;                   /* the outcome that counts as failing the same way */
    uint64_t runs, max_runs;
    struct sched__replay cur;   /* the smallest failing run so far, exact */
    int nomem;
};

static int in_phase(char kind, int phase)
{
    if (phase == 0)
        return kind == SCHED__RP_PICK || kind == SCHED__RP_WAKE;
    return kind == SCHED__RP_BUDGET || kind == SCHED__RP_DELAY;
}

/* Indices into cur.recs of the deviations of this phase. */
static size_t phase_devs(const struct sched__replay *rp, int phase, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->nrecs; i++)
        if (in_phase(rp->recs[i].kind, phase) && sched__rp_deviates(rp, &rp->recs[i]))
            out[n++] = i;
    return n;
}

/*
 * The lenient replay of cur keeping, of this phase's deviations, those
 * of devs[from..to) (or all but them, when complement), every deviation
 * of the other phase and every rng record.  NULL when out of memory.
 */
static char *candidate(const struct sched__replay *cur, int phase, const size_t *devs,
                       size_t ndevs, size_t from, size_t to, int complement)
{
    struct sched__replay c = *cur;
    c.lenient = 1;
    c.have_fail = 0;
    c.nrecs = c.caprecs = 0;
    c.recs = malloc((cur->nrecs ? cur->nrecs : 1) * sizeof *c.recs);
    if (!c.recs)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < cur->nrecs; i++) {
        const struct sched__rp_rec *r = &cur->recs[i];
        int keep;
        if (r->kind == SCHED__RP_RNG) {
            keep = 1;
        } else if (!sched__rp_deviates(cur, r)) {
            keep = 0;
        } else if (!in_phase(r->kind, phase)) {
            keep = 1;
        } else {
            while (k < ndevs && devs[k] < i)
                k++;
            int chosen = k >= from && k < to;
            keep = complement ? !chosen : chosen;
        }
        if (keep)
            c.recs[c.nrecs++] = *r;
    }
    char *text = sched__rp_format_new(&c);
    free(c.recs);
    return text;
}

/* Run one candidate; 1 when it failed the same way (cur is then its
 * record), 0 otherwise. */
static int test(struct shrinker *s, char *text)
{
    char *record = NULL;
    int outcome = 0;
    if (!text) {
        s->nomem = 1;
        return 0;
    }
    s->runs++;
    int rc = s->run(s->arg, text, strlen(text), &record, &outcome);
    free(text);
    if (rc == SCHED_ENOMEM)
        s->nomem = 1;
    if (rc != 0 || outcome != s->want || !record) {
        free(record);
        return 0;
    }
    struct sched__replay next;
    char why[256];
    sched__rp_init(&next);
    if (sched__rp_parse(&next, record, strlen(record), "(shrink)", why, sizeof why) != 0) {
        sched__rp_free(&next);
        free(record);
        return 0;
    }
    free(record);
    /* The file keeps the failure it was shrunk from, not the record's. */
    free(next.fail_msg);
    next.have_fail = s->cur.have_fail;
    next.fail_code = s->cur.fail_code;
    next.fail_msg = s->cur.fail_msg;
    s->cur.fail_msg = NULL;
    sched__rp_free(&s->cur);
    s->cur = next;
    return 1;
}

static int out_of_runs(const struct shrinker *s)
{
    return s->runs >= s->max_runs || s->nomem;
}

/* ddmin over one phase; 1 if it removed anything. */
static int ddmin(struct shrinker *s, int phase)
{
    size_t *devs = malloc((s->cur.nrecs ? s->cur.nrecs : 1) * sizeof *devs);
    size_t ndevs, n = 2;
    int changed = 0;
    if (!devs) {
        s->nomem = 1;
        return 0;
    }
    ndevs = phase_devs(&s->cur, phase, devs);
    /* Most deviations of a random run are noise: try none first. */
    if (ndevs && !out_of_runs(s) && test(s, candidate(&s->cur, phase, devs, ndevs, 0, 0, 0)))
        ndevs = phase_devs(&s->cur, phase, devs), changed = 1;
    while (ndevs >= 2 && !out_of_runs(s)) {
        if (n > ndevs)
            n = ndevs;
        size_t chunk = (ndevs + n - 1) / n;
        int reduced = 0;
        for (size_t i = 0; i < n && !reduced && !out_of_runs(s); i++) {
            size_t from = i * chunk, to = from + chunk < ndevs ? from + chunk : ndevs;
            if (from < to && test(s, candidate(&s->cur, phase, devs, ndevs, from, to, 0))) {
                reduced = 1;
                n = 2;
            }
        }
        for (size_t i = 0; n > 2 && i < n && !reduced && !out_of_runs(s); i++) {
            size_t from = i * chunk, to = from + chunk < ndevs ? from + chunk : ndevs;
            if (from < to && test(s, candidate(&s->cur, phase, devs, ndevs, from, to, 1))) {
                reduced = 1;
                n = n - 1 > 2 ? n - 1 : 2;
            }
        }
        if (reduced) {
            ndevs = phase_devs(&s->cur, phase, devs);
            changed = 1;
        } else if (n >= ndevs) {
            break;
        } else {
            n = 2 * n < ndevs ? 2 * n : ndevs;
        }
    }
    free(devs);
    return changed;
}

int sched__shrink(const char *text, size_t len, int want, sched__shrink_fn run, void *arg,
                  uint64_t max_runs, struct sched__shrink_result *res, sched_error **err)
{
    struct shrinker s = { .run = run, .arg = arg, .want = want, .max_runs = max_runs };
    char why[512];
    memset(res, 0, sizeof *res);
    sched__rp_init(&s.cur);
    int rc = sched__rp_parse(&s.cur, text, len, "(failing run)", why, sizeof why);
    if (rc) {
        sched__rp_free(&s.cur);
        return rc == SCHED_ENOMEM ? sched__error_set(err, rc, "out of memory")
                                  : sched__error_set(err, rc, "%s", why);
    }
    res->decisions = sched__rp_decisions(&s.cur);
    res->deviations = sched__rp_deviations(&s.cur);

    ddmin(&s, 0);
    if (ddmin(&s, 1))
        ddmin(&s, 0);

    res->runs = s.runs;
    res->left = sched__rp_deviations(&s.cur);
    res->exhausted = s.runs >= s.max_runs;
    res->text = sched__rp_format_new(&s.cur);
    sched__rp_free(&s.cur);
    if (!res->text || s.nomem)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory while shrinking");
    return 0;
}

/* 1412 as "1,412": the counts in the summary are read by people. */
void sched__shrink_count(uint64_t v, char *buf, size_t len)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (len)
        buf[o < len ? o : len - 1] = '\0';
}

void sched__shrink_summary(const struct sched__shrink_result *res, char *buf, size_t len)
{
    char d[32], v[32], l[32], r[32];
    sched__shrink_count(res->decisions, d, sizeof d);
    sched__shrink_count(res->deviations, v, sizeof v);
    sched__shrink_count(res->left, l, sizeof l);
    sched__shrink_count(res->runs, r, sizeof r);
    snprintf(buf, len, "shrunk %s decisions with %s deviation%s to %s deviation%s in %s run%s%s",
             d, v, res->deviations == 1 ? "" : "s", l, res->left == 1 ? "" : "s", r,
             res->runs == 1 ? "" : "s", res->exhausted ? " (the limit on runs was reached)" : "");
}
