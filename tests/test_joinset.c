/* SPDX-License-Identifier: MIT */
/*
 * tests/test_joinset.c - sched_all and sched_any through the public API,
 * on the linux, test and cloudflare-sim backends: each child is polled
 * again only after its own waker was woken (sched_all(3)), children woken
 * in any order and from other threads, a set dropped while its children
 * still hold wakers (and those wakers woken after the drop), a failing
 * child, the any-of's winner, a set that moves from one waker to another,
 * a fan-out of 10 000 tasks, and 10 000 timers firing one by one.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "sched/sched.h"
#include "sched/test.h"

static const char *backend;     /* of the suite being run */
static char conf_path[64];

static sched_host *open_host(void)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    char text[64];
    int fd, rc;

    snprintf(conf_path, sizeof conf_path, "/tmp/sched-joinset-XXXXXX");
    fd = mkstemp(conf_path);
    CU_ASSERT_FATAL(fd >= 0);
    snprintf(text, sizeof text, "backend = \"%s\";\n", backend);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    rc = sched_host_open(&h, conf_path, &err);
    if (rc)
        fprintf(stderr, "sched_host_open: %s\n", sched_error_message(err));
    sched_error_free(err);
    unlink(conf_path);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return h;
}

/* Foreign threads in the test need a simulated backend that really parks. */
static void allow_parking(sched_host *h)
{
    sched_test *t = sched_as_test(h);
    if (t)
        sched_test_allow_parking(t);
}

/* ---- a child that counts its polls and drops ------------------------------- */

struct counts {
    _Atomic int polls;
    _Atomic int drops;
    sched_oneshot *first;               /* sent at the first poll, when set */
    _Atomic(sched_oneshot *) next;      /* sent at the next poll, when set */
};

struct counted {
    sched_future base;
    sched_future *in;
    struct counts *c;
};

static int counted_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct counted *k = (struct counted *)f;
    int n = atomic_fetch_add(&k->c->polls, 1) + 1;
    int rc = sched_future_poll(k->in, cx, out);
    sched_oneshot *o = atomic_exchange(&k->c->next, NULL);
    if (n == 1 && k->c->first)
        sched_oneshot_send(k->c->first, (sched_value){ .i = rc });
    if (o)
        sched_oneshot_send(o, (sched_value){ .i = rc });
    return rc;
}

static void counted_drop(sched_future *f)
{
    struct counted *k = (struct counted *)f;
    atomic_fetch_add(&k->c->drops, 1);
    sched_future_drop(k->in);
    free(k);
}

static const sched_future_ops counted_ops = { counted_poll, counted_drop };

static sched_future *counted(sched_future *in, struct counts *c)
{
    struct counted *k = malloc(sizeof *k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    k->base.ops = &counted_ops;
    k->in = in;
    k->c = c;
    return &k->base;
}

/* A future ready when the oneshot it receives from was sent. */
static sched_future *signal_new(sched_oneshot **o)
{
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(o), 0);
    return sched_oneshot_recv(*o);
}

/* n children, each ready with what its own oneshot o[i] is sent and
 * counted in c[i] (cleared). */
static void oneshot_children(int n, sched_oneshot **o, struct counts *c, sched_future **kids)
{
    memset(c, 0, (size_t)n * sizeof *c);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o[i]), 0);
        kids[i] = counted(sched_oneshot_recv(o[i]), &c[i]);
    }
}

/* ---- a child that keeps its waker and never finishes by itself ------------- */

/* Pending until `fail` is set: then it fails with -1234 and a message.
 * Keeps `clones` clones of the waker of its first poll in waker[]. */
struct keeper_state {
    int index;
    _Atomic int fail;
    _Atomic int polls;
    _Atomic int drops;
    int clones;
    sched_waker *waker[4];
    sched_oneshot *dropped;     /* sent at the drop, when set */
};

struct keeper {
    sched_future base;
    struct keeper_state *st;
};

static int keeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct keeper_state *st = ((struct keeper *)f)->st;
    (void)out;
    if (atomic_fetch_add(&st->polls, 1) == 0)
        for (int i = 0; i < st->clones; i++)
            st->waker[i] = sched_waker_clone(sched_context_waker(cx));
    if (atomic_load(&st->fail))
        return sched_context_fail(cx, -1234, "child %d broke", st->index);
    return SCHED_PENDING;
}

static void keeper_drop(sched_future *f)
{
    struct keeper_state *st = ((struct keeper *)f)->st;
    atomic_fetch_add(&st->drops, 1);
    if (st->dropped)
        sched_oneshot_send(st->dropped, (sched_value){ .u = 1 });
    free(f);
}

static const sched_future_ops keeper_ops = { keeper_poll, keeper_drop };

static sched_future *keeper(struct keeper_state *st)
{
    struct keeper *k = malloc(sizeof *k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    k->base.ops = &keeper_ops;
    k->st = st;
    return &k->base;
}

/* n keepers of st[] (cleared), child i with index i and clones wakers; the
 * last is counted in *last (cleared) and tells, through the returned
 * future, when a poll of the set first got to it. */
static sched_future *keeper_children(int n, int clones, struct keeper_state *st,
                                     struct counts *last, sched_future **kids)
{
    memset(st, 0, (size_t)n * sizeof *st);
    memset(last, 0, sizeof *last);
    for (int i = 0; i < n; i++) {
        st[i].index = i;
        st[i].clones = clones;
        kids[i] = keeper(&st[i]);
    }
    kids[n - 1] = counted(kids[n - 1], last);
    return signal_new(&last->first);
}

/* ---- tests ------------------------------------------------------------------ */

/* Children woken one at a time, in a shuffled order, each only once the
 * last has been polled again: a child is polled at the first poll and
 * once after its own wake, never at a sibling's wake. */
static void test_a_child_is_polled_again_only_after_its_own_wake(void)
{
    enum { N = 16 };
    static const int order[N] = { 7, 0, 15, 3, 12, 1, 9, 4, 14, 2, 11, 6, 13, 5, 10, 8 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct counts c[N];
    sched_oneshot *o[N];
    sched_future *kids[N], *first, *again;
    sched_task *t = NULL;
    sched_value v;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    oneshot_children(N, o, c, kids);
    first = signal_new(&c[N - 1].first);   /* the first poll reached the last child */
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_all(kids, N), &t), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, first, NULL, NULL), 0);
    for (i = 0; i < N; i++) {
        int k = order[i];
        sched_oneshot *next;
        again = signal_new(&next);
        atomic_store(&c[k].next, next);
        CU_ASSERT_EQUAL(sched_oneshot_send(o[k], (sched_value){ .i = 10 * k }), 0);
        CU_ASSERT_EQUAL(sched_block(ex, again, &v, NULL), 0);
        CU_ASSERT_EQUAL(v.i, 0);    /* ready at the poll after its wake */
    }
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, 10 * i);
        CU_ASSERT_EQUAL(atomic_load(&c[i].polls), 2);
        CU_ASSERT_EQUAL(atomic_load(&c[i].drops), 1);
    }
    free(v.ptr);
    sched_executor_free(ex);
    sched_host_close(h);
}

struct senders {
    sched_oneshot **o;
    int from, step, n;
};

static void *send_strided(void *arg)
{
    struct senders *s = arg;
    for (int i = s->from; i < s->n; i += s->step)
        sched_oneshot_send(s->o[i], (sched_value){ .i = i + 1 });
    return NULL;
}

/* Four threads send to the children's oneshots, interleaved: the all-of
 * has every value in place, and polls each child once or twice. */
static void test_children_woken_from_other_threads_in_any_order(void)
{
    enum { N = 256, T = 4 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    static struct counts c[N];
    sched_oneshot *o[N];
    sched_future *kids[N];
    struct senders s[T];
    pthread_t th[T];
    sched_value v;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    allow_parking(h);
    oneshot_children(N, o, c, kids);
    for (i = 0; i < T; i++) {
        s[i] = (struct senders){ o, T - 1 - i, T, N };
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, send_strided, &s[i]), 0);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(kids, N), &v, NULL), 0);
    for (i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.ptr);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, i + 1);
        CU_ASSERT(atomic_load(&c[i].polls) >= 1 && atomic_load(&c[i].polls) <= 2);
        CU_ASSERT_EQUAL(atomic_load(&c[i].drops), 1);
    }
    free(v.ptr);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* A task awaiting an all-of (then an any-of) of children that never wake
 * is cancelled: every child is dropped once, and the wakers they kept
 * stay valid: waking them afterwards does nothing. */
static void test_a_dropped_set_ignores_late_wakes(void)
{
    enum { N = 8 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct keeper_state st[N];
    sched_future *kids[N];
    struct counts last;
    int any, i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (any = 0; any < 2; any++) {
        sched_task *t = NULL;
        sched_future *polled, *dropped;
        polled = keeper_children(N, 1, st, &last, kids);
        dropped = signal_new(&st[N - 1].dropped);   /* children are dropped in order */
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, any ? sched_any(kids, N, NULL) : sched_all(kids, N), &t), 0);
        CU_ASSERT_EQUAL_FATAL(sched_block(ex, polled, NULL, NULL), 0);
        sched_task_cancel(t);
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), SCHED_ECANCELED);
        /* A cancel of a task being polled reaches the joiner before the
         * poller drops the future. */
        CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
        for (i = 0; i < N; i++) {
            CU_ASSERT_EQUAL(atomic_load(&st[i].polls), 1);
            CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(st[i].waker[0]);
            sched_waker_wake_by_ref(st[i].waker[0]);
            sched_waker_wake(st[i].waker[0]);   /* the last reference to the set goes here */
            CU_ASSERT_EQUAL(atomic_load(&st[i].polls), 1);
        }
        CU_ASSERT_EQUAL(atomic_load(&last.drops), 1);
    }
    sched_executor_free(ex);
    sched_host_close(h);
}

struct hammer {
    sched_waker *w;
    int rounds;
};

static void *hammer_run(void *arg)
{
    struct hammer *hm = arg;
    for (int i = 0; i < hm->rounds; i++) {
        sched_waker *c = sched_waker_clone(hm->w);
        sched_waker_wake_by_ref(hm->w);
        sched_waker_wake(c);
    }
    sched_waker_drop(hm->w);
    return NULL;
}

/* Threads wake, clone and drop the children's wakers while the set is
 * polled, cancelled and dropped, and after: nothing is polled after the
 * drop, each child is dropped once, and the set's memory goes with the
 * last waker (valgrind and the sanitizers see to the rest). */
static void test_wakes_racing_the_drop_of_the_set(void)
{
    enum { N = 4, C = 4 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct keeper_state st[N];
    struct hammer hm[N * C];
    pthread_t th[N * C];
    sched_future *kids[N], *polled, *dropped;
    struct counts last;
    sched_task *t = NULL;
    int i, j, polls;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    allow_parking(h);
    polled = keeper_children(N, C, st, &last, kids);
    dropped = signal_new(&st[N - 1].dropped);   /* children are dropped in order */
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_all(kids, N), &t), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, polled, NULL, NULL), 0);
    for (i = 0; i < N; i++)
        for (j = 0; j < C; j++) {
            hm[i * C + j] = (struct hammer){ st[i].waker[j], 2000 };
            CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i * C + j], NULL, hammer_run, &hm[i * C + j]), 0);
        }
    sched_task_free(t);     /* cancels it: the set is dropped, now or after its poll */
    CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
    polls = atomic_load(&st[0].polls);
    for (i = 0; i < N * C; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&st[0].polls), polls);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* One child fails when woken: the all-of fails with its code and its
 * message, and every other child is dropped exactly once. */
static void test_a_failing_child_drops_the_others_once(void)
{
    enum { N = 6, BAD = 3 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct keeper_state st[N];
    sched_future *kids[N], *polled;
    struct counts last;
    sched_error *err = NULL;
    sched_task *t = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    polled = keeper_children(N, 1, st, &last, kids);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_all(kids, N), &t), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, polled, NULL, NULL), 0);
    atomic_store(&st[BAD].fail, 1);
    sched_waker_wake(st[BAD].waker[0]);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, &err), -1234);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "child 3 broke"));
    sched_error_free(err);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
        CU_ASSERT_EQUAL(atomic_load(&st[i].polls), i == BAD ? 2 : 1);
        if (i != BAD)
            sched_waker_wake(st[i].waker[0]);   /* late, and harmless */
    }
    sched_executor_free(ex);
    sched_host_close(h);
}

/* The any-of is ready with the child that was woken and finished; its
 * index is the winner, the others were polled once and dropped once. */
static void test_any_of_names_the_child_that_finished(void)
{
    enum { N = 12, WIN = 5 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct counts c[N];
    sched_oneshot *o[N];
    sched_future *kids[N], *first;
    sched_task *t = NULL;
    size_t winner = 99;
    sched_value v;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    oneshot_children(N, o, c, kids);
    first = signal_new(&c[N - 1].first);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_any(kids, N, &winner), &t), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, first, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sched_oneshot_send(o[WIN], (sched_value){ .i = 55 }), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(winner, WIN);
    CU_ASSERT_EQUAL(v.i, 55);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&c[i].polls), i == WIN ? 2 : 1);
        CU_ASSERT_EQUAL(atomic_load(&c[i].drops), 1);
        if (i != WIN)
            sched_oneshot_close(o[i]);
    }
    sched_executor_free(ex);
    sched_host_close(h);
}

/* Polled once by a block that gives up, then awaited by a task: a
 * child's wake reaches the task, not the block that let go. */
static void test_a_set_moved_to_another_waker_wakes_the_new_one(void)
{
    enum { N = 3 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_oneshot *o[N];
    sched_future *kids[N], *set;
    sched_task *t = NULL;
    sched_value v;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o[i]), 0);
        kids[i] = sched_oneshot_recv(o[i]);
    }
    set = sched_all(kids, N);
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_send(o[0], (sched_value){ .i = 1 }), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block_with_timeout(ex, &set, 0, &v, NULL), SCHED_ETIMEDOUT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, set, &t), 0);
    CU_ASSERT_EQUAL(sched_oneshot_send(o[1], (sched_value){ .i = 2 }), 0);
    CU_ASSERT_EQUAL(sched_oneshot_send(o[2], (sched_value){ .i = 3 }), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, i + 1);
    free(v.ptr);
    sched_executor_free(ex);
    sched_host_close(h);
}

static sched_value triple(void *arg)
{
    return (sched_value){ .u = 3 * (uint64_t)(uintptr_t)arg };
}

/* 10 000 tasks joined by one all-of: every value in its place. */
static void test_ten_thousand_joins_finish_with_their_values(void)
{
    enum { N = 10000 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_future **joins = malloc(N * sizeof *joins);
    sched_value v;
    size_t i, wrong = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(joins);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(triple, (void *)(uintptr_t)i), &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    for (i = 0; i < N; i++)
        wrong += ((sched_value *)v.ptr)[i].u != 3 * i;
    CU_ASSERT_EQUAL(wrong, 0);
    free(v.ptr);
    free(joins);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* 10 000 timers, due one after another, under one all-of: each child
 * is polled when the set first is and once its own timer fired.  On a
 * real clock a timer may already be due at the first poll (one poll), or
 * be seen firing before its deadline on the host's clock and re-arm (a
 * third).  The old all-of polled every waiting child at each firing:
 * N(N+1)/2 polls on a simulated clock. */
static void test_ten_thousand_timers_poll_each_child_twice(void)
{
    enum { N = 10000 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_future **kids = malloc(N * sizeof *kids);
    struct counts *c = calloc(N, sizeof *c);
    size_t i, wrong = 0;
    sched_value v;

    CU_ASSERT_PTR_NOT_NULL_FATAL(kids);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (i = 0; i < N; i++)
        kids[i] = counted(sched_timer(h, 1000000 + (uint64_t)i * 2000), &c[i]);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_all(kids, N), &v, NULL), 0);
    for (i = 0; i < N; i++) {
        int n = atomic_load(&c[i].polls);
        wrong += sched_as_test(h) ? n != 2 : n < 1 || n > 3;
        CU_ASSERT_EQUAL(atomic_load(&c[i].drops), 1);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    free(v.ptr);
    free(c);
    free(kids);
    sched_executor_free(ex);
    sched_host_close(h);
}

static sched_value count_ran(void *arg)
{
    atomic_fetch_add((_Atomic int *)arg, 1);
    return (sched_value){ .ptr = NULL };
}

/* Function tasks with handles (W2's children): some cancelled through
 * their handles, the rest joined by an all-of that is still pending, or
 * left queued, when the host closes.  Every task runs at most once (on a
 * threaded backend a task may have run before its cancel), a cancelled
 * task never runs on the test backend, where nothing runs before the
 * block, and the handles stay valid after the close and report the
 * task finished. */
static void test_function_tasks_with_handles_at_close(void)
{
    enum { N = 300 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t[N];
    sched_future *joins[N / 3], *set;
    _Atomic int ran[N];
    sched_value v = { .ptr = NULL };
    int i, simulated = sched_as_test(h) != NULL;

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (i = 0; i < N; i++) {
        atomic_init(&ran[i], 0);
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(count_ran, &ran[i]), &t[i]), 0);
    }
    for (i = 0; i < N / 3; i++)
        sched_task_cancel(t[i]);
    for (i = 0; i < N / 3; i++)
        joins[i] = sched_task_join(t[N / 3 + i]);
    set = sched_all(joins, N / 3);
    /* On the test backend nothing has run yet: the set stays pending.  On
     * linux it may be ready: its result array is then ours. */
    if (sched_block_with_timeout(ex, &set, 0, &v, NULL) == 0)
        free(v.ptr);
    sched_future_drop(set);
    sched_executor_free(ex);
    sched_host_close(h);
    for (i = 0; i < N; i++) {
        CU_ASSERT(atomic_load(&ran[i]) <= 1);
        if (simulated && i < N / 3)
            CU_ASSERT_EQUAL(atomic_load(&ran[i]), 0);
        if (i < N / 3 || i >= 2 * N / 3) {
            CU_ASSERT(sched_task_is_finished(t[i]));
            sched_task_free(t[i]);
        }
    }
}

static const struct {
    const char *name;
    CU_TestFunc fn;
} tests[] = {
    { "a child is polled again only after its own wake",
      test_a_child_is_polled_again_only_after_its_own_wake },
    { "children woken from other threads in any order",
      test_children_woken_from_other_threads_in_any_order },
    { "a dropped set ignores late wakes", test_a_dropped_set_ignores_late_wakes },
    { "wakes racing the drop of the set", test_wakes_racing_the_drop_of_the_set },
    { "a failing child drops the others once", test_a_failing_child_drops_the_others_once },
    { "any-of names the child that finished", test_any_of_names_the_child_that_finished },
    { "a set moved to another waker wakes the new one",
      test_a_set_moved_to_another_waker_wakes_the_new_one },
    { "10000 joins finish with their values", test_ten_thousand_joins_finish_with_their_values },
    { "10000 timers poll each child twice", test_ten_thousand_timers_poll_each_child_twice },
    { "function tasks with handles at close", test_function_tasks_with_handles_at_close },
};

static int use_linux(void)
{
    backend = "linux";
    return 0;
}

static int use_test(void)
{
    backend = "test";
    return 0;
}

static int use_cloudflare_sim(void)
{
    backend = "cloudflare-sim";
    return 0;
}

int main(void)
{
    static const struct {
        const char *name;
        CU_InitializeFunc init;
    } suites[] = { { "joinset on linux", use_linux },
                   { "joinset on test", use_test },
                   { "joinset on cloudflare-sim", use_cloudflare_sim } };
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        CU_pSuite suite = CU_add_suite(suites[s].name, suites[s].init, NULL);
        for (size_t i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
            CU_add_test(suite, tests[i].name, tests[i].fn);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
