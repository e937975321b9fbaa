/* SPDX-License-Identifier: MIT */
/*
 * plugins/common/replay.h - replay files: every decision a simulated
 * backend made in one run, as text (sched-test(7), "Replay files").
 *
 * One module, compiled into the test backend (which records and replays)
 * and into libsched (which writes a failing seed's file, shrinks it, and
 * lets schedctl print it), so the format has one reader and one writer.
 * It allocates and formats, and never prints.
 */
#ifndef SCHED_PLUGINS_REPLAY_H
#define SCHED_PLUGINS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define SCHED__RP_VERSION 1

/* Record kinds, by the letter that starts their line. */
#define SCHED__RP_PICK 'p'      /* which ready runnable ran */
#define SCHED__RP_WAKE 'w'      /* whether a woken blocked caller resumed now */
#define SCHED__RP_BUDGET 'b'    /* steps a blocking wait with a timeout got */
#define SCHED__RP_DELAY 'd'     /* yields of a random delay */
#define SCHED__RP_RNG 'r'       /* 64 bits the test drew */

/* A task as the backend first saw it scheduled; numbered from 1. */
struct sched__rp_task {
    unsigned prio;              /* sched_priority */
    int fg;                     /* 1 for a foreground executor's */
    char *label, *file, *func;  /* NULL when unknown */
    int line;
};

/*
 * One decision.  pick: n ready runnables, value the chosen one's rank in
 * FIFO order (0 = what FIFO would have run), task the chosen task's
 * number and fifo the number of the one at rank 0.  wake: value 1 if the
 * caller resumed, fifo what FIFO would have done.  budget: value steps.
 * delay: value yields.  rng: value the bits.
 */
struct sched__rp_rec {
    char kind;
    uint64_t step;              /* runnables run before the decision */
    uint64_t n, value, task, fifo;
    unsigned line;              /* where it was read from; 0 when recorded */
};

struct sched__replay {
    char *backend, *strategy;
    uint64_t seed;
    int lenient;                /* "mode lenient": see sched-test(7) */
    int have_ticks;
    uint64_t ticks_min, ticks_max;
    struct sched__rp_task *tasks;
    size_t ntasks, captasks;
    struct sched__rp_rec *recs;
    size_t nrecs, caprecs;
    uint64_t end;               /* steps the run took */
    int have_fail;
    int fail_code;
    char *fail_msg;
};

void sched__rp_init(struct sched__replay *rp);
void sched__rp_free(struct sched__replay *rp);

/* Set a string field (copied; NULL clears it).  0 or SCHED_ENOMEM. */
int sched__rp_set(char **field, const char *value);
/* Append a task (its strings copied), numbered ntasks after.  0 or
 * SCHED_ENOMEM. */
int sched__rp_add_task(struct sched__replay *rp, unsigned prio, int fg, const char *label,
                       const char *file, int line, const char *func);
/* Append a record.  0 or SCHED_ENOMEM. */
int sched__rp_add(struct sched__replay *rp, const struct sched__rp_rec *r);
/* Task number num (1-based), or NULL. */
const struct sched__rp_task *sched__rp_task(const struct sched__replay *rp, uint64_t num);

/*
 * Does r depart from the canonical schedule (FIFO, every wait with a
 * timeout getting ticks_max steps, every random delay 0 yields)?  An rng
 * record never does: it is the test's input, not the schedule.
 */
int sched__rp_deviates(const struct sched__replay *rp, const struct sched__rp_rec *r);
/* How many records deviate. */
size_t sched__rp_deviations(const struct sched__replay *rp);

/* A pick among a single ready runnable is recorded but is no choice. */
static inline int sched__rp_is_choice(const struct sched__rp_rec *r)
{
    return r->kind != SCHED__RP_PICK || r->n > 1;
}

/* The decisions of rp, as shrinking and schedctl explain both count
 * them: every record but a pick among a single ready runnable. */
static inline size_t sched__rp_decisions(const struct sched__replay *rp)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->nrecs; i++)
        n += (size_t)sched__rp_is_choice(&rp->recs[i]);
    return n;
}

/*
 * Read text (len bytes, need not end in NUL) into rp, which must be
 * freshly initialized.  0; SCHED_ECONFIG with err "NAME:LINE: what is
 * wrong" (NAME is how the text is named, usually its file); or
 * SCHED_ENOMEM.  rp holds whatever was read either way; free it.
 */
int sched__rp_parse(struct sched__replay *rp, const char *text, size_t len, const char *name,
                    char *err, size_t errlen);

/* The file text of rp into buf; returns the length needed, like snprintf. */
size_t sched__rp_format(const struct sched__replay *rp, char *buf, size_t len);
/* The same, in a new string (NULL when out of memory). */
char *sched__rp_format_new(const struct sched__replay *rp);

/* The most a replay file may hold (sched-test(7)). */
#define SCHED__RP_MAX_BYTES ((size_t)64 << 20)

/*
 * A whole file into a new NUL-terminated string, read once (a FIFO or a
 * pipe works), at most SCHED__RP_MAX_BYTES; reading stops at the first
 * NUL byte, which the parser then refuses with its line.  0, or a
 * negative errno-style failure: SCHED_ENOENT (cannot open; errno says
 * why), SCHED_ENOMEM, SCHED_ELIMIT (larger than the limit),
 * SCHED_EBACKEND (read error; errno says why).
 */
int sched__rp_read_file(const char *path, char **text, size_t *len);
/* Why sched__rp_read_file failed with rc, as words for a message. */
const char *sched__rp_read_error(int rc);

/* "a low/medium/high/realtime priority" names, "?" beyond them. */
const char *sched__rp_prio_name(unsigned prio);

#endif
