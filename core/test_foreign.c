/* SPDX-License-Identifier: MIT */
/*
 * core/test_foreign.c - catching what a deterministic test cannot see: a
 * waker of the host's tasks, or of a call blocked on the main thread,
 * woken, cloned or dropped, a task cancelled or spawned, on a thread the
 * backend does not run, while parking is forbidden (sched_test_end(3)).
 *
 * Nothing of the test backend's schedule depends on such a thread, so a
 * test whose outcome does is deterministic by luck.  The task core tells
 * this layer of every waker operation on a watched task and of every
 * spawn (the waker_activity hook, hooks.h; SCHED__SPAWNS_WATCHED sends
 * the detached spawns its way); on the main thread that is all it costs.
 * On another thread the backend says whether it is one of its own, or
 * parking is allowed (the test waits on real threads on purpose), and
 * otherwise the first such activity is kept, to fail the test at its end,
 * with the call stack it came from where the C library can unwind it
 * (glibc's backtrace(3): only this once, so its cost does not matter).
 * After the end it aborts at once: there is nothing left to fail.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <execinfo.h>
#endif

#include "internal.h"

/* The later activities named briefly in the end's sentence. */
enum { NAMED = 3 };

struct sched__foreign {
    sched__mutex lock;
    char *first;        /* the first activity's sentence, or NULL */
    char *stack;        /* where the first came from, frame lines, or NULL */
    int first_what;     /* what the first was (hooks.h) */
    uint64_t seen;      /* activities so far; atomic, read before the lock */
    uint64_t more;      /* those not told in first */
    int nnamed;         /* of those, named in named[] */
    char named[NAMED][320];
    int ended;          /* sched_test_end was called */
};

static int (*foreign_op(sched_host *host))(void *self)
{
    const sched_test_iface_v1 *i = host->test.iface;
    if (i == NULL || offsetof(sched_test_iface_v1, foreign_activity) + sizeof i->foreign_activity > i->size)
        return NULL;
    return i->foreign_activity;
}

static const char *const verbs[] = { "", "woke", "cloned the waker of", "dropped the waker of",
                                     "cancelled", "spawned" };
#define NVERBS (int)(sizeof verbs / sizeof verbs[0])

/* The sentence for one activity, in buf; with brief, only "THREAD VERB
 * task N "LABEL"", as the later ones are named. */
static void describe(sched_host *host, const sched_runnable *r, int what, int brief, char *buf,
                     size_t len)
{
    sched_runnable_info info = { .size = sizeof info };
    char self[96], owner[96], label[160] = "";
    const char *verb = verbs[what >= 1 && what < NVERBS ? what : 0];
    sched__thread_describe(sched__thread_self(), self, sizeof self);
    if (r == NULL) {
        /* The waker of a call blocked on the main thread: no task. */
        if (brief) {
            snprintf(buf, len, "%s %s a call blocked on the main thread", self, verb);
            return;
        }
        sched__thread_describe(host->main_thread, owner, sizeof owner);
        snprintf(buf, len,
                 "activity on %s %s a call blocked on the main thread, but the test scheduler "
                 "runs on %s: this test is not deterministic", self, verb, owner);
        return;
    }
    sched__runnable_info(r, &info);
    if (info.label)
        snprintf(label, sizeof label, " \"%s\"", info.label);
    if (brief) {
        snprintf(buf, len, "%s %s task %" PRIu64 "%s", self, verb, info.task_id, label);
        return;
    }
    sched__thread_describe(host->main_thread, owner, sizeof owner);
    snprintf(buf, len,
             "activity on %s %s task %" PRIu64 "%s (spawned at %s:%d in %s()), but the test "
             "scheduler runs on %s: this test is not deterministic",
             self, verb, info.task_id, label, info.file ? info.file : "(unknown)", info.line,
             info.func ? info.func : "(unknown)", owner);
}

/* The calling thread's stack from the waker function on (the frames of
 * this file left out), "\n  FRAME" a frame; NULL when out of memory or
 * where the C library cannot unwind.  Not inlined, so that the frames to
 * leave out are known. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static char *stack_here(void)
{
#if defined(__GLIBC__)
    enum { SKIP = 2, MAX = 16 };    /* stack_here, waker_activity */
    void *frames[SKIP + MAX];
    int n = backtrace(frames, SKIP + MAX);
    char **names = n > SKIP ? backtrace_symbols(frames + SKIP, n - SKIP) : NULL;
    size_t len = 1;
    for (int i = 0; names && i < n - SKIP; i++)
        len += strlen(names[i]) + 3;
    char *out = names ? malloc(len) : NULL;
    if (out != NULL) {
        size_t off = 0;
        out[0] = '\0';
        for (int i = 0; i < n - SKIP; i++)
            off += (size_t)snprintf(out + off, len - off, "\n  %s", names[i]);
    }
    free(names);
    return out;
#else
    return NULL;
#endif
}

static void waker_activity(sched_host *host, const sched_runnable *r, int what)
{
    static const char *const funcs[] = { "sched_waker", "sched_waker_wake", "sched_waker_clone",
                                         "sched_waker_drop", "sched_task_cancel", "sched_spawn" };
    struct sched__foreign *f = host->test.foreign;
    char msg[512];
    if (sched__thread_equal(sched__thread_self(), host->main_thread)
        || !foreign_op(host)(host->test.self))
        return;
    uint64_t seen = __atomic_load_n(&f->seen, __ATOMIC_RELAXED);
    /* Only the first is told in full: its stack is worth unwinding.  The
     * next few are named, the rest only counted. */
    describe(host, r, what, seen > 0 && seen <= NAMED, msg, sizeof msg);
    char *stack = seen == 0 ? stack_here() : NULL;
    sched__mutex_lock(&f->lock);
    if (f->ended) {
        sched__mutex_unlock(&f->lock);
        if (seen > 0)
            describe(host, r, what, 0, msg, sizeof msg);
        sched__misuse(funcs[what >= 1 && what < NVERBS ? what : 0], "%s (after sched_test_end)",
                      msg);
    }
    /* Out of memory for the first sentence, it is counted with the rest
     * and the end says how many, without the detail. */
    if (__atomic_fetch_add(&f->seen, 1, __ATOMIC_RELAXED) == 0 && seen == 0) {
        f->first = strdup(msg);
        f->stack = stack;
        f->first_what = what;
        stack = NULL;
        if (f->first == NULL)
            f->more++;
    } else {
        /* Named when this thread wrote the brief form (two threads that
         * both saw none before are told apart by the count). */
        if (seen > 0 && seen <= NAMED && f->nnamed < NAMED)
            snprintf(f->named[f->nnamed++], sizeof f->named[0], "%.*s",
                     (int)sizeof f->named[0] - 1, msg);
        f->more++;
    }
    sched__mutex_unlock(&f->lock);
    free(stack);
}

int sched__test_hooks(sched_host *host)
{
    if (foreign_op(host) == NULL)
        return 0;
    struct sched__foreign *f = calloc(1, sizeof *f);
    if (f == NULL)
        return SCHED_ENOMEM;
    sched__mutex_init(&f->lock);
    host->test.foreign = f;
    host->hooks.waker_activity = waker_activity;
    /* Every spawn comes here, the detached one too (task_spawn.c). */
    atomic_fetch_or_explicit(&host->sessions_made, SCHED__SPAWNS_WATCHED, memory_order_relaxed);
    return 0;
}

void sched__test_close(sched_host *host)
{
    struct sched__foreign *f = host->test.foreign;
    if (f == NULL)
        return;
    host->test.foreign = NULL;
    sched__mutex_destroy(&f->lock);
    free(f->first);
    free(f->stack);
    free(f);
}

static sched_host *host_of(sched_test *t)
{
    return (sched_host *)((char *)t - offsetof(sched_host, test));
}

int sched_test_end(sched_test *t, sched_error **err)
{
    if (err != NULL)
        *err = NULL;
    struct sched__foreign *f = t != NULL ? host_of(t)->test.foreign : NULL;
    if (f == NULL)
        return 0;
    int rc = 0;
    sched__mutex_lock(&f->lock);
    f->ended = 1;
    if (f->first != NULL) {
        /* One sentence: the first activity, then the others, named
         * briefly; the first one's stack after it, a frame a line. */
        char others[NAMED * 330 + 96] = "";
        size_t off = 0;
        uint64_t unnamed = f->more - (uint64_t)f->nnamed;
        if (f->more)
            off += (size_t)snprintf(others, sizeof others, "; %" PRIu64 " more such activit%s%s",
                                    f->more, f->more == 1 ? "y" : "ies", f->nnamed ? ": " : "");
        for (int i = 0; i < f->nnamed && off < sizeof others; i++)
            off += (size_t)snprintf(others + off, sizeof others - off, "%s%s",
                                    i == 0 ? "" : ", ", f->named[i]);
        if (f->nnamed && unnamed && off < sizeof others)
            snprintf(others + off, sizeof others - off, " and %" PRIu64 " other%s", unnamed,
                     unnamed == 1 ? "" : "s");
        rc = sched__error_set(err, SCHED_EBACKEND, "%s%s%s%s%s", f->first, others,
                              f->stack == NULL ? "" : f->more ? "; the first " : "; the ",
                              f->stack == NULL                          ? ""
                              : f->first_what == SCHED__TASK_CANCELLED ? "task was cancelled from:"
                              : f->first_what == SCHED__TASK_SPAWNED   ? "task was spawned from:"
                                                                       : "waker was used from:",
                              f->stack ? f->stack : "");
    } else if (f->more) {
        rc = sched__error_set(err, SCHED_EBACKEND, "%" PRIu64 " wakers were used on threads the "
                              "test scheduler does not run (out of memory naming them): this "
                              "test is not deterministic", f->more);
    }
    sched__mutex_unlock(&f->lock);
    return rc;
}
