/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/explain.c - "schedctl explain FILE": a replay file
 * (sched-test(7), "Replay files") as sentences.  Each deviation from the
 * canonical schedule says what ran and what FIFO order would have run
 * instead, with the tasks' labels and spawn sites; then how the run
 * ended.  With --all, every decision.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedctl.h"
#include "test_replay.h"

static const char usage[] =
    "usage: schedctl explain [--all] FILE\n"
    "\n"
    "Print the replay file FILE (written by the test backend for a failing\n"
    "seed, by SCHED_RECORD, or by shrinking) as sentences: for each decision\n"
    "that departs from the canonical schedule (FIFO order, full timeout\n"
    "budgets, no random delays) the step, the task that ran, with its number,\n"
    "label and spawn site, and the task FIFO order would have run instead;\n"
    "then the last step and how the run ended.  Exits 1 on a file that is\n"
    "not a well-formed replay file, naming the line.\n"
    "\n"
    "  -a, --all           every decision, not only the deviations\n";

/* s with its control bytes as \\xHH (a label from a file must not move
 * the cursor or recolour the terminal it is printed on), into buf. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t n = 0;
    for (; *s && n + 5 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return buf;
}

/* "task 3 "parse" (spawned at x.c:10 in main())", or "the woken caller". */
static void task_words(const struct sched__replay *rp, uint64_t num, char *buf, size_t len)
{
    const struct sched__rp_task *t = sched__rp_task(rp, num);
    if (!t) {
        snprintf(buf, len, num ? "task %llu" : "the woken caller", (unsigned long long)num);
        return;
    }
    char label[256], file[256], func[256];
    snprintf(buf, len, "task %llu%s%s%s (%s%s, spawned at %s:%d in %s())",
             (unsigned long long)num, t->label ? " \"" : "",
             t->label ? printable(t->label, label, sizeof label) : "", t->label ? "\"" : "",
             sched__rp_prio_name(t->prio), t->fg ? ", foreground" : "",
             printable(t->file ? t->file : "(unknown)", file, sizeof file), t->line,
             printable(t->func ? t->func : "(unknown)", func, sizeof func));
}

static void explain_pick(const struct sched__replay *rp, const struct sched__rp_rec *r)
{
    char ran[1024], fifo[1024];
    task_words(rp, r->task, ran, sizeof ran);
    if (r->value == 0) {
        printf("step %llu: %s ran, the oldest of %llu ready\n", (unsigned long long)r->step, ran,
               (unsigned long long)r->n);
        return;
    }
    task_words(rp, r->fifo, fifo, sizeof fifo);
    printf("step %llu: %s ran where FIFO order would have run %s (it was number %llu of %llu "
           "ready, oldest first)\n", (unsigned long long)r->step, ran, fifo,
           (unsigned long long)r->value + 1, (unsigned long long)r->n);
}

static void explain(const struct sched__replay *rp, const struct sched__rp_rec *r)
{
    unsigned long long step = r->step, v = r->value;
    switch (r->kind) {
    case SCHED__RP_PICK:
        explain_pick(rp, r);
        break;
    case SCHED__RP_WAKE:
        if (r->value == r->fifo)
            printf("step %llu: the woken caller %s, as in FIFO order\n", step,
                   v ? "resumed" : "waited for a runnable queued before its wake-up");
        else if (v)
            printf("step %llu: the woken caller resumed where FIFO order would first have run "
                   "the runnables queued before its wake-up\n", step);
        else
            printf("step %llu: a runnable ran before the woken caller, which FIFO order would "
                   "have resumed first\n", step);
        break;
    case SCHED__RP_BUDGET:
        if (!sched__rp_deviates(rp, r))
            printf("step %llu: a wait with a timeout got its full %llu steps\n", step, v);
        else
            printf("step %llu: a wait with a timeout got %llu steps before timing out, where it "
                   "could have had %llu\n", step, v, (unsigned long long)rp->ticks_max);
        break;
    case SCHED__RP_DELAY:
        printf("step %llu: a random delay yielded %llu time%s%s\n", step, v, v == 1 ? "" : "s",
               v ? " (the canonical schedule does not yield)" : "");
        break;
    default:
        printf("step %llu: the test drew the random bits 0x%016llx\n", step, v);
        break;
    }
}

/* The last step, and how the run ended. */
static void explain_end(const struct sched__replay *rp)
{
    const struct sched__rp_rec *last = NULL;
    char ran[1024];
    for (size_t i = rp->nrecs; i-- > 0 && !last;)
        if (rp->recs[i].kind == SCHED__RP_PICK)
            last = &rp->recs[i];
    if (last) {
        task_words(rp, last->task, ran, sizeof ran);
        printf("the last step, %llu, ran %s", (unsigned long long)last->step, ran);
        if (last->value != 0) {
            char fifo[1024];
            task_words(rp, last->fifo, fifo, sizeof fifo);
            printf(", where FIFO order would have run %s", fifo);
        }
        printf("\n");
    }
    if (rp->have_fail)
        printf("then the run failed after %llu steps: %s (%d)\n", (unsigned long long)rp->end,
               rp->fail_msg && rp->fail_msg[0] ? rp->fail_msg : "no message", rp->fail_code);
    else
        printf("the run ended after %llu steps\n", (unsigned long long)rp->end);
}

int sched__cmd_explain(int argc, char **argv)
{
    const char *file = NULL;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return SCHEDCTL_OK;
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
            all = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            sched__ctl_error("explain: unknown option \"%s\"", a);
            fputs(usage, stderr);
            return SCHEDCTL_USAGE;
        } else if (file) {
            sched__ctl_error("explain: one file at a time (\"%s\" and \"%s\")", file, a);
            return SCHEDCTL_USAGE;
        } else {
            file = a;
        }
    }
    if (!file) {
        fputs(usage, stderr);
        return SCHEDCTL_USAGE;
    }
    char *text, why[1024];
    size_t len;
    int rc = sched__rp_read_file(file, &text, &len);
    if (rc) {
        sched__ctl_error("%s: %s", file, sched__rp_read_error(rc));
        return SCHEDCTL_FAIL;
    }
    struct sched__replay rp;
    sched__rp_init(&rp);
    rc = sched__rp_parse(&rp, text, len, file, why, sizeof why);
    free(text);
    if (rc) {
        sched__ctl_error("%s", rc == SCHED_ENOMEM ? "out of memory" : why);
        sched__rp_free(&rp);
        return SCHEDCTL_FAIL;
    }
    size_t deviations = sched__rp_deviations(&rp);
    /* Counted as the shrink summary counts them: a pick of the only
     * ready runnable is no decision, and is said apart. */
    size_t decisions = sched__rp_decisions(&rp), only = rp.nrecs - decisions;
    char single[96] = "";
    if (only)
        snprintf(single, sizeof single, " (not counting %zu pick%s of the only ready runnable)", only,
                 only == 1 ? "" : "s");
    printf("%s: %s replay of backend %s, seed %llu, strategy %s: %llu steps, %zu decision%s%s, "
           "%zu deviation%s from the canonical schedule\n", file,
           rp.lenient ? "a lenient" : "an exact", rp.backend, (unsigned long long)rp.seed,
           rp.strategy ? rp.strategy : "(none)", (unsigned long long)rp.end, decisions,
           decisions == 1 ? "" : "s", single, deviations, deviations == 1 ? "" : "s");
    for (size_t i = 0; i < rp.nrecs; i++)
        if (all || sched__rp_deviates(&rp, &rp.recs[i]))
            explain(&rp, &rp.recs[i]);
    explain_end(&rp);
    sched__rp_free(&rp);
    return SCHEDCTL_OK;
}
