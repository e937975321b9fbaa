/*
 * tests/conformance/conformance.c - the executor contract, on any backend.
 *
 * Two kinds of backend must pass the same tests.  Threaded ones (linux,
 * mac, windows) run work on their own threads as soon as it is queued.
 * Simulated ones (test, cloudflare-sim: sched_as_test() is not NULL) run
 * nothing until the main thread blocks (sched_block, sched_foreground_block)
 * and then run everything on that thread, on a virtual clock.  So every
 * test waits for work by blocking on a future, never by sleeping or
 * spinning, and asserts only what both semantics promise.  Where a test
 * must differ (a foreign thread that wakes a task needs the simulated
 * scheduler to be allowed to really park; a future nothing can wake is a
 * deadlock report there but a timeout on a real clock) it says so.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <CUnit/CUnit.h>

#include "task.h"
#include "conformance.h"
#include "sched/sched.h"
#include "sched/test.h"

static const char *backend;         /* the backend under test */
static char config_path[1024];

/* ---- helpers ------------------------------------------------------------- */

static int write_config(const char *name)
{
    const char *dir = getenv("TMPDIR");
    FILE *f;
#if defined(_WIN32)
    if (!dir)
        dir = getenv("TEMP");
    snprintf(config_path, sizeof config_path, "%s\\sched-conform-%s-%lu.conf", dir ? dir : ".",
             name, (unsigned long)GetCurrentProcessId());
#else
    snprintf(config_path, sizeof config_path, "%s/sched-conform-%s-%ld.conf", dir ? dir : "/tmp",
             name, (long)getpid());
#endif
    f = fopen(config_path, "w");
    if (!f)
        return -1;
    fprintf(f, "# written by the libsched conformance suite\nbackend = \"%s\";\n", name);
    return fclose(f);
}

static sched_host *open_host(void)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&h, config_path, &err);
    if (rc != 0) {
        fprintf(stderr, "conformance: cannot open backend %s: %s\n", backend,
                err ? sched_error_message(err) : sched_strerror(rc));
        sched_error_free(err);
    }
    return h;
}

/* Open a host and a background executor, or fail the test. */
#define SETUP(h, ex)                                                                   \
    sched_host *h = open_host();                                                       \
    sched_executor *ex = NULL;                                                         \
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);                                                   \
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0)

#define TEARDOWN(h, ex)                                                                \
    do {                                                                               \
        sched_executor_free(ex);                                                       \
        sched_host_close(h);                                                           \
    } while (0)

static int simulated(sched_host *h)
{
    return sched__simulated(h) != NULL;
}

/* Let a simulated backend really park (so foreign threads can run). */
static void allow_parking(sched_host *h)
{
    const sched_test_iface_v1 *t = sched__simulated(h);
    if (t && t->set_parking_allowed)
        t->set_parking_allowed(h->backend, 1);
}

static sched_value add_one(void *arg)
{
    return (sched_value){ .i = (int64_t)(intptr_t)arg + 1 };
}

/* A future that stays pending, counting polls and drops; it keeps a
 * clone of the waker when keep is set. */
struct probe_stats {
    _Atomic int polls;
    _Atomic int drops;
    _Atomic(sched_waker *) waker;
    sched_oneshot *polled;      /* sent at the first poll, when set */
    sched_oneshot *dropped;     /* sent at the drop, when set */
};

/* Futures that are ready once the probe was first polled / dropped: the
 * tests wait on these, never on the clock. */
static sched_future *probe_polled(struct probe_stats *st)
{
    if (sched_oneshot_new(&st->polled) != 0)
        return NULL;
    return sched_oneshot_recv(st->polled);
}

static sched_future *probe_dropped(struct probe_stats *st)
{
    if (sched_oneshot_new(&st->dropped) != 0)
        return NULL;
    return sched_oneshot_recv(st->dropped);
}

struct probe {
    sched_future base;
    struct probe_stats *st;
    int keep;
};

static int probe_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct probe *p = (struct probe *)f;
    (void)out;
    if (atomic_fetch_add(&p->st->polls, 1) == 0 && p->st->polled)
        sched_oneshot_send(p->st->polled, (sched_value){ .u = 1 });
    if (p->keep) {
        sched_waker *old = atomic_exchange(&p->st->waker, sched_waker_clone(sched_context_waker(cx)));
        sched_waker_drop(old);
    }
    sched_context_set_wait_reason(cx, "a probe that never completes");
    return SCHED_PENDING;
}

static void probe_drop(sched_future *f)
{
    struct probe *p = (struct probe *)f;
    if (atomic_fetch_add(&p->st->drops, 1) == 0 && p->st->dropped)
        sched_oneshot_send(p->st->dropped, (sched_value){ .u = 1 });
    free(p);
}

static const sched_future_ops probe_ops = { probe_poll, probe_drop };

static sched_future *probe_new(struct probe_stats *st, int keep)
{
    struct probe *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->base.ops = &probe_ops;
    p->st = st;
    p->keep = keep;
    return &p->base;
}

/* ---- spawn and await ------------------------------------------------------ */

static void test_spawn_and_await_returns_the_value(void)
{
    SETUP(h, ex);
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(add_one, (void *)41), &t), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_NOT_EQUAL(sched_task_id(t), 0);
    CU_ASSERT_PTR_NOT_NULL(sched_task_site(t));
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 42);
    TEARDOWN(h, ex);
}

/* An async function in the style of the README: wait, spawn two, combine. */
struct combine {
    sched_coro co;
    sched_executor *ex;
    sched_task *a, *b;
    sched_value va, vb;
};

static int combine_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct combine *st = (struct combine *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sched_timer(sched_executor_host(st->ex), 1000000), NULL);
    sched_spawn(st->ex, sched_future_fn(add_one, (void *)1), &st->a);
    sched_spawn(st->ex, sched_future_fn(add_one, (void *)2), &st->b);
    SCHED_TRY_AWAIT(st, sched_task_join(st->a), &st->va);
    SCHED_TRY_AWAIT(st, sched_task_join(st->b), &st->vb);
    SCHED_RETURN(st, out, (sched_value){ .i = st->va.i + st->vb.i });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops combine_ops = { combine_poll, sched_coro_drop_default };

static void test_coroutine_awaits_timer_and_two_tasks(void)
{
    SETUP(h, ex);
    struct combine *st = (struct combine *)sched_coro_new(sizeof *st, &combine_ops);
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    st->ex = ex;
    CU_ASSERT_EQUAL(sched_spawn(ex, &st->co.base, &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 5);
    TEARDOWN(h, ex);
}

static void test_all_any_yield_and_ready_compose(void)
{
    SETUP(h, ex);
    sched_value v = { 0 };
    size_t winner = 99;
    sched_future *all[3], *any[2];

    all[0] = sched_future_ready((sched_value){ .i = 1 });
    all[1] = sched_yield_now();
    all[2] = sched_future_fn(add_one, (void *)2);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(all, 3), &v, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.ptr);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[0].i, 1);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[2].i, 3);
    free(v.ptr);

    any[0] = sched_timer(h, 60ull * 1000000000ull);
    any[1] = sched_future_ready((sched_value){ .i = 7 });
    CU_ASSERT_EQUAL(sched_block(ex, sched_any(any, 2, &winner), &v, NULL), 0);
    CU_ASSERT_EQUAL(winner, 1);
    CU_ASSERT_EQUAL(v.i, 7);
    TEARDOWN(h, ex);
}

static void test_labels_and_priorities_are_accepted(void)
{
    static const sched_priority prios[] = { SCHED_PRIORITY_LOW, SCHED_PRIORITY_MEDIUM,
                                            SCHED_PRIORITY_HIGH, SCHED_PRIORITY_REALTIME };
    SETUP(h, ex);
    sched_future *joins[5];
    sched_task *t = NULL;
    sched_value v;
    size_t i;

    for (i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(sched_spawn_priority(ex, sched_future_fn(add_one, (void *)i), prios[i], &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_future_fn(add_one, (void *)10), "labelled", &t), 0);
    CU_ASSERT_STRING_EQUAL(sched_task_label(t), "labelled");
    joins[4] = sched_task_join(t);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, 5), &v, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.ptr);
    for (i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, (int64_t)i + 1);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[4].i, 11);
    free(v.ptr);
    CU_ASSERT_EQUAL(sched_spawn_priority(ex, sched_future_fn(add_one, NULL), (sched_priority)9, NULL),
                    SCHED_EINVAL);
    TEARDOWN(h, ex);
}

/* ---- timers ------------------------------------------------------------- */

struct timed {
    sched_coro co;
    sched_host *h;
    uint64_t delay, start, seen;
    _Atomic int *order_next;
    int order;
};

static int timed_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct timed *st = (struct timed *)f;
    sched_value v;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sched_timer(st->h, st->delay), &v);
    st->seen = sched_host_now(st->h);
    if (st->order_next)
        st->order = atomic_fetch_add(st->order_next, 1);
    SCHED_RETURN(st, out, (sched_value){ .u = st->seen });
    SCHED_ASYNC_END(st);
}

/* The states live in the test's array: drop only what is in flight. */
static void timed_drop(sched_future *f)
{
    sched_coro *co = (sched_coro *)f;
    sched_future_drop(co->awaiting);
    co->awaiting = NULL;
}

static void test_timers_never_fire_early(void)
{
    enum { N = 40 };
    static const sched_future_ops ops = { timed_poll, timed_drop };
    SETUP(h, ex);
    struct timed st[N];
    sched_future *joins[N];
    sched_value v;
    int i;

    memset(st, 0, sizeof st);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        st[i].co.base.ops = &ops;
        st[i].h = h;
        st[i].delay = (uint64_t)(1 + (i * 7) % 20) * 1000000u;
        st[i].start = sched_host_now(h);
        CU_ASSERT_EQUAL(sched_spawn(ex, &st[i].co.base, &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    free(v.ptr);
    for (i = 0; i < N; i++)
        CU_ASSERT(st[i].seen >= st[i].start + st[i].delay);
    TEARDOWN(h, ex);
}

/* Timers 25 ms apart fire in due order.  (On a threaded backend the woken
 * tasks race to record their turn; 25 ms of spacing keeps a loaded
 * machine's scheduling noise out of the answer.) */
static void test_timers_fire_in_due_order(void)
{
    enum { N = 6 };
    static const sched_future_ops ops = { timed_poll, timed_drop };
    static const int shuffle[N] = { 3, 0, 5, 1, 4, 2 };
    SETUP(h, ex);
    struct timed st[N];
    sched_future *joins[N];
    _Atomic int next = 0;
    sched_value v;
    int i;

    memset(st, 0, sizeof st);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        int k = shuffle[i];
        st[k].co.base.ops = &ops;
        st[k].h = h;
        st[k].delay = (uint64_t)(k + 1) * 25000000u;
        st[k].order_next = &next;
        CU_ASSERT_EQUAL(sched_spawn(ex, &st[k].co.base, &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    free(v.ptr);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(st[i].order, i);
    TEARDOWN(h, ex);
}

static void test_zero_and_absurd_timers_have_defined_results(void)
{
    SETUP(h, ex);
    sched_value v;
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 0), &v, NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, UINT64_MAX), &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(NULL, 1000), &v, NULL), SCHED_EINVAL);
    TEARDOWN(h, ex);
}

/* ---- block ------------------------------------------------------------- */

static void test_block_with_timeout_times_out_and_keeps_the_future(void)
{
    SETUP(h, ex);
    sched_future *f = sched_timer(h, 200000000);
    sched_value v = { 0 };
    sched_error *err = NULL;
    uint64_t start = sched_host_now(h);
    int rc = sched_block_with_timeout(ex, &f, 1000000, &v, &err);

    /* A simulated backend chooses itself how long a timed block waits, and
     * may run the clock past the timer first; a real clock cannot. */
    if (simulated(h)) {
        CU_ASSERT(rc == SCHED_ETIMEDOUT || rc == 0);
    } else {
        CU_ASSERT_EQUAL(rc, SCHED_ETIMEDOUT);
    }
    if (rc == SCHED_ETIMEDOUT) {
        CU_ASSERT_PTR_NOT_NULL(f);
        CU_ASSERT_PTR_NOT_NULL(err);
        CU_ASSERT_EQUAL(sched_error_code(err), SCHED_ETIMEDOUT);
        sched_error_free(err);
        err = NULL;
        rc = sched_block_with_timeout(ex, &f, SCHED_TIMEOUT_NEVER, &v, &err);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(sched_host_now(h) - start >= 200000000u);
    sched_error_free(err);
    TEARDOWN(h, ex);
}

static void test_block_on_unwakeable_future_is_deadlock_or_timeout(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *f;
    sched_error *err = NULL;
    int rc;

    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, probe_new(&ps, 0), "stuck", NULL), 0);
    if (simulated(h)) {
        /* Nothing can wake it: the simulated backend proves it, and the
         * report names the pending task and the seed. */
        rc = sched_block(ex, probe_new(&ps, 0), NULL, &err);
        CU_ASSERT_EQUAL(rc, SCHED_EDEADLK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "\"stuck\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "seed"));
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "a probe that never completes"));
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    } else {
        f = probe_new(&ps, 0);
        rc = sched_block_with_timeout(ex, &f, 5000000, NULL, &err);
        CU_ASSERT_EQUAL(rc, SCHED_ETIMEDOUT);
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 0);
        sched_future_drop(f);
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    }
    sched_error_free(err);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 2);
}

/* ---- cancel and detach --------------------------------------------------- */

static void test_cancel_drops_future_once_and_join_reports_cancel(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *dropped = probe_dropped(&ps);
    sched_task *t = NULL;
    sched_value v;
    int polls;

    CU_ASSERT_EQUAL(sched_spawn(ex, probe_new(&ps, 1), &t), 0);
    /* Let it run once (or not at all: both are fine for cancel). */
    CU_ASSERT_EQUAL(sched_block(ex, sched_yield_now(), NULL, NULL), 0);
    sched_task_cancel(t);
    sched_task_cancel(t);
    CU_ASSERT(sched_task_is_finished(t));
    CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    polls = atomic_load(&ps.polls);
    /* A wake after cancel polls nothing. */
    sched_waker_wake_by_ref(atomic_load(&ps.waker));
    CU_ASSERT_EQUAL(sched_block(ex, sched_yield_now(), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.polls), polls);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), SCHED_ECANCELED);
    sched_waker_drop(atomic_exchange(&ps.waker, NULL));
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    TEARDOWN(h, ex);
}

static void test_freeing_an_unfinished_handle_cancels(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *dropped = probe_dropped(&ps);
    sched_task *t = NULL;
    CU_ASSERT_EQUAL(sched_spawn(ex, probe_new(&ps, 0), &t), 0);
    sched_task_free(t);
    CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    TEARDOWN(h, ex);
}

static void test_pending_future_without_wake_is_never_polled_again(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *polled = probe_polled(&ps);
    sched_task *t = NULL;
    CU_ASSERT_EQUAL(sched_spawn(ex, probe_new(&ps, 0), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, polled, NULL, NULL), 0);
    /* Time for a stray second poll to show (none may). */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 20000000), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.polls), 1);
    CU_ASSERT(!sched_task_is_finished(t));
    sched_task_free(t);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
}

struct sender {
    sched_oneshot *o;
    int64_t v;
};

static sched_value send_value(void *arg)
{
    struct sender *s = arg;
    sched_oneshot_send(s->o, (sched_value){ .i = s->v });
    return (sched_value){ .i = 0 };
}

static void test_detached_task_runs_to_completion(void)
{
    SETUP(h, ex);
    struct sender s;
    sched_value v = { 0 };
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&s.o), 0);
    sched_future *recv = sched_oneshot_recv(s.o);
    sched_task *t = NULL;
    s.v = 99;
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(send_value, &s), &t), 0);
    sched_task_detach(t);
    CU_ASSERT_EQUAL(sched_block(ex, recv, &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 99);
    TEARDOWN(h, ex);
}

/* ---- threads ------------------------------------------------------------- */

static void send_later(void *arg)
{
    struct sender *s = arg;
    sched_oneshot_send(s->o, (sched_value){ .i = s->v });
}

static void test_wakes_from_foreign_threads(void)
{
    enum { N = 8 };
    SETUP(h, ex);
    struct sender s[N];
    sched__thread th[N];
    sched_future *joins[N];
    sched_value v;
    int i;

    /* A simulated backend must be allowed to really park while the
     * foreign threads run. */
    allow_parking(h);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&s[i].o), 0);
        s[i].v = i;
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_oneshot_recv(s[i].o), &t), 0);
        joins[i] = sched_task_join(t);
    }
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched__thread_start(&th[i], send_later, &s[i]), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    for (i = 0; i < N; i++) {
        sched__thread_join(th[i]);
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, i);
    }
    free(v.ptr);
    TEARDOWN(h, ex);
}

struct counted {
    unsigned char *ran;
    _Atomic size_t *left;
    sched_oneshot *done;
};

static struct counted counted_ctx;

static sched_value count_run(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    counted_ctx.ran[i]++;
    if (atomic_fetch_sub(counted_ctx.left, 1) == 1)
        sched_oneshot_send(counted_ctx.done, (sched_value){ .u = 1 });
    return (sched_value){ .u = 0 };
}

static void test_hundred_thousand_tasks_run_exactly_once(void)
{
    enum { N = 100000 };
    SETUP(h, ex);
    _Atomic size_t left = N;
    sched_future *done;
    size_t i, once = 0;

    counted_ctx.ran = calloc(N, 1);
    counted_ctx.left = &left;
    CU_ASSERT_PTR_NOT_NULL_FATAL(counted_ctx.ran);
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&counted_ctx.done), 0);
    done = sched_oneshot_recv(counted_ctx.done);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(count_run, (void *)(uintptr_t)i), NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, done, NULL, NULL), 0);
    for (i = 0; i < N; i++)
        once += counted_ctx.ran[i] == 1;
    CU_ASSERT_EQUAL(once, N);
    free(counted_ctx.ran);
    TEARDOWN(h, ex);
}

/* ---- channels -------------------------------------------------------------- */

struct producer {
    sched_coro co;
    sched_channel *ch;
    int64_t i;
};

static int producer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct producer *st = (struct producer *)f;
    SCHED_ASYNC_BEGIN(st);
    for (st->i = 0; st->i < 100; st->i++)
        SCHED_TRY_AWAIT(st, sched_channel_send(st->ch, (sched_value){ .i = st->i }), NULL);
    sched_channel_close(st->ch);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops producer_ops = { producer_poll, sched_coro_drop_default };

struct consumer {
    sched_coro co;
    sched_channel *ch;
    sched_value v;
    int64_t sum, expect;
};

static int consumer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct consumer *st = (struct consumer *)f;
    SCHED_ASYNC_BEGIN(st);
    for (;;) {
        SCHED_AWAIT(st, sched_channel_recv(st->ch), &st->v);
        if (st->co.rc == SCHED_ECLOSED)
            break;
        if (st->v.i != st->expect++)
            SCHED_FAIL(st, SCHED_EINVAL);
        st->sum += st->v.i;
    }
    SCHED_RETURN(st, out, (sched_value){ .i = st->sum });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops consumer_ops = { consumer_poll, sched_coro_drop_default };

static void test_bounded_channel_carries_values_in_order(void)
{
    SETUP(h, ex);
    sched_channel *ch = NULL;
    struct producer *p;
    struct consumer *c;
    sched_task *t = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL_FATAL(sched_channel_new(4, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, (sched_value){ .i = -1 }), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_channel_recv(ch), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, -1);
    p = (struct producer *)sched_coro_new(sizeof *p, &producer_ops);
    c = (struct consumer *)sched_coro_new(sizeof *c, &consumer_ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    p->ch = c->ch = ch;
    CU_ASSERT_EQUAL(sched_spawn(ex, &p->co.base, NULL), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, &c->co.base, &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 4950);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, (sched_value){ .i = 1 }), SCHED_ECLOSED);
    sched_channel_free(ch);
    TEARDOWN(h, ex);
}

/* ---- foreground ------------------------------------------------------------ */

struct on_main {
    sched_host *h;
    int was_main;
};

static sched_value note_main(void *arg)
{
    struct on_main *m = arg;
    m->was_main = sched_host_is_main_thread(m->h);
    return (sched_value){ .i = 3 };
}

static void test_foreground_tasks_run_on_the_main_thread(void)
{
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct on_main m = { h, 0 };
    sched_task *t = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    CU_ASSERT_NOT_EQUAL(sched_foreground_executor_id(fx), 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn_labeled(fx, sched_future_fn(note_main, &m), "ui", &t), 0);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 3);
    CU_ASSERT_EQUAL(m.was_main, 1);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
}

struct fx_new_try {
    sched_host *h;
    int rc;
};

static void try_fx_new(void *arg)
{
    struct fx_new_try *x = arg;
    sched_foreground_executor *fx = NULL;
    x->rc = sched_foreground_executor_new(x->h, &fx);
}

static void test_foreground_executor_off_the_main_thread_is_refused(void)
{
    SETUP(h, ex);
    struct fx_new_try x = { h, 0 };
    sched__thread th;
    CU_ASSERT_EQUAL_FATAL(sched__thread_start(&th, try_fx_new, &x), 0);
    sched__thread_join(th);
    CU_ASSERT_EQUAL(x.rc, SCHED_EWRONGTHREAD);
    TEARDOWN(h, ex);
}

static void spawn_from_wrong_thread(void *arg)
{
    sched_foreground_spawn((sched_foreground_executor *)arg, sched_future_fn(add_one, NULL), NULL);
}

/* The death test's child: spawn on a foreground executor from another
 * thread.  Returns only if the library failed to abort. */
static int misuse_foreground(void)
{
    sched_host *h = open_host();
    sched_foreground_executor *fx = NULL;
    sched__thread th;
    if (!h || sched_foreground_executor_new(h, &fx) != 0)
        return 3;
    if (sched__thread_start(&th, spawn_from_wrong_thread, fx) != 0)
        return 4;
    sched__thread_join(th);
    return 0;
}

#define DEATH_ENV "SCHED_CONFORM_DEATH_CHILD"

#if !defined(_WIN32)
/* Re-run this very program (a fresh process: a fork of one whose backend
 * started threads is no place to start more) with DEATH_ENV set; the
 * suite's entry point then runs misuse_foreground() alone. */
static void exec_self(void)
{
#if defined(__linux__)
    static char buf[8192], exe[4096];
    char *argv[64];
    ssize_t n;
    int argc = 0, fd = open("/proc/self/cmdline", O_RDONLY);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *p = buf; p < buf + n && argc < 63; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    /* readlink, not "/proc/self/exe" itself: under valgrind only the
     * former names this program rather than the tool. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    setenv(DEATH_ENV, config_path, 1);
    execv(exe, argv);
#endif
}

/* Death test: in a child process, spawning on a foreground executor from
 * another thread aborts with a message naming both threads and the site. */
static void test_foreground_misuse_aborts_naming_threads_and_site(void)
{
    int fds[2];
    pid_t pid;
    char msg[2048];
    size_t len = 0;
    ssize_t n;
    int status = 0;

    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        exec_self();
        _exit(misuse_foreground());
    }
    close(fds[1]);
    while (len < sizeof msg - 1 && (n = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_foreground_spawn called on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "conformance.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spawn_from_wrong_thread"));
}
#else
/* Windows has no fork(): run this very program again (its own command
 * line) with DEATH_ENV set and its output into a pipe; the suite's entry
 * point then runs misuse_foreground() alone.  0 with the child's output
 * in msg and its exit status in *code, or -1. */
static int run_self_child(char *msg, size_t cap, DWORD *code)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    wchar_t exe[4096];
    wchar_t *cmd;
    HANDLE rd, wr;
    size_t len = 0;
    DWORD n;
    BOOL ok;

    if (!GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]))
        return -1;
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return -1;
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = wr;
    si.hStdError = wr;
    cmd = _wcsdup(GetCommandLineW());
    SetEnvironmentVariableA(DEATH_ENV, config_path);
    ok = cmd && CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA(DEATH_ENV, NULL);
    free(cmd);
    CloseHandle(wr);
    if (!ok) {
        CloseHandle(rd);
        return -1;
    }
    while (len < cap - 1 && ReadFile(rd, msg + len, (DWORD)(cap - 1 - len), &n, NULL) && n > 0)
        len += n;
    msg[len] = '\0';
    CloseHandle(rd);
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return 0;
}

/* Death test, Windows form: the child aborts (exit status 3, the
 * Microsoft C runtime's for abort()) with the same message. */
static void test_foreground_misuse_aborts_naming_threads_and_site(void)
{
    char msg[4096];
    DWORD code = 0;

    fflush(NULL);
    CU_ASSERT_EQUAL_FATAL(run_self_child(msg, sizeof msg, &code), 0);
    CU_ASSERT_EQUAL(code, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_foreground_spawn called on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "conformance.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spawn_from_wrong_thread"));
}
#endif

/* ---- shutdown and bad input ------------------------------------------------ */

static void test_shutdown_drops_every_pending_future_exactly_once(void)
{
    enum { N = 64 };
    SETUP(h, ex);
    struct probe_stats kept = { 0 }, unkept = { 0 };
    sched_channel *ch = NULL;
    sched_task *t = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_channel_new(1, &ch), 0);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(sched_spawn(ex, probe_new(&kept, 1), NULL), 0);
        CU_ASSERT_EQUAL(sched_spawn(ex, probe_new(&unkept, 0), &t), 0);
        sched_task_detach(t);
    }
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_timer(h, 3600ull * 1000000000ull), "hour", NULL), 0);
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_channel_recv(ch), "reader", NULL), 0);
    /* On a threaded backend most have run and are pending now; on a
     * simulated one they are still queued.  Both must be dropped. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 5000000), NULL, NULL), 0);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&kept.drops), N);
    CU_ASSERT_EQUAL(atomic_load(&unkept.drops), N);
    CU_ASSERT(atomic_load(&kept.polls) <= N);
    CU_ASSERT(atomic_load(&unkept.polls) <= N);
    /* Wakers and channels the application still holds outlive the host. */
    sched_waker_wake(atomic_exchange(&kept.waker, NULL));
    sched_channel_free(ch);
}

/* A future whose drop spawns: run at shutdown, the spawn is refused. */
struct spawning_drop {
    sched_future base;
    sched_executor *ex;
    int *rc;
    struct probe_stats *st;
};

static int pending_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)f, (void)cx, (void)out;
    return SCHED_PENDING;
}

static void spawning_drop(sched_future *f)
{
    struct spawning_drop *d = (struct spawning_drop *)f;
    *d->rc = sched_spawn(d->ex, probe_new(d->st, 0), NULL);
    free(d);
}

static const sched_future_ops spawning_drop_ops = { pending_poll, spawning_drop };

static void test_spawn_during_shutdown_is_refused_and_dropped(void)
{
    SETUP(h, ex);
    struct probe_stats st = { 0 };
    struct spawning_drop *d = malloc(sizeof *d);
    int rc = 1;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    d->base.ops = &spawning_drop_ops;
    d->ex = ex;
    d->rc = &rc;
    d->st = &st;
    CU_ASSERT_EQUAL(sched_spawn(ex, &d->base, NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    /* The executor outlives the host here on purpose: the drop uses it
     * while the host closes. */
    sched_host_close(h);
    sched_executor_free(ex);
    CU_ASSERT_EQUAL(rc, SCHED_ECLOSED);
    CU_ASSERT_EQUAL(atomic_load(&st.drops), 1);
    CU_ASSERT_EQUAL(atomic_load(&st.polls), 0);
}

static void test_bad_input_gets_documented_codes(void)
{
    SETUP(h, ex);
    sched_task *t = (sched_task *)&t;
    sched_executor *none = (sched_executor *)&none;
    sched_foreground_executor *fnone = (sched_foreground_executor *)&fnone;
    sched_channel *ch = (sched_channel *)&ch;
    sched_future *f = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL(sched_spawn(NULL, sched_future_fn(add_one, NULL), &t), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(sched_spawn(ex, NULL, &t), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_executor_new(NULL, &none), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(none);
    CU_ASSERT_EQUAL(sched_foreground_executor_new(NULL, &fnone), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(NULL, sched_future_ready(v), &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(ex, NULL, &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(NULL), &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, NULL, 1, &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1, &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_channel_new(0, &ch), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(ch);
    CU_ASSERT_EQUAL(sched_channel_try_send(NULL, v), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_oneshot_send(NULL, v), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(sched_future_fn(NULL, NULL));
    CU_ASSERT_PTR_NULL(sched_coro_new(1, &combine_ops));
    CU_ASSERT_EQUAL(sched_task_id(NULL), 0);
    CU_ASSERT(sched_task_is_finished(NULL));
    sched_task_cancel(NULL);
    sched_task_detach(NULL);
    sched_task_free(NULL);
    sched_executor_free(NULL);
    sched_foreground_executor_free(NULL);
    sched_future_drop(NULL);
    sched_waker_wake(NULL);
    CU_ASSERT_EQUAL(sched_future_poll(NULL, NULL, &v), SCHED_ENOMEM);
    TEARDOWN(h, ex);
}

/* ---- the runner -------------------------------------------------------------- */

static const struct {
    const char *name;
    CU_TestFunc fn;
} tests[] = {
    { "spawn and await returns the value", test_spawn_and_await_returns_the_value },
    { "coroutine awaits a timer and two tasks", test_coroutine_awaits_timer_and_two_tasks },
    { "all, any, yield and ready compose", test_all_any_yield_and_ready_compose },
    { "labels and priorities are accepted", test_labels_and_priorities_are_accepted },
    { "timers never fire early", test_timers_never_fire_early },
    { "timers fire in due order", test_timers_fire_in_due_order },
    { "zero and absurd timers have defined results", test_zero_and_absurd_timers_have_defined_results },
    { "block_with_timeout times out and keeps the future",
      test_block_with_timeout_times_out_and_keeps_the_future },
    { "block on an unwakeable future: deadlock or timeout",
      test_block_on_unwakeable_future_is_deadlock_or_timeout },
    { "cancel drops the future once; join reports cancel",
      test_cancel_drops_future_once_and_join_reports_cancel },
    { "freeing an unfinished handle cancels", test_freeing_an_unfinished_handle_cancels },
    { "a pending future without a wake is never polled again",
      test_pending_future_without_wake_is_never_polled_again },
    { "a detached task runs to completion", test_detached_task_runs_to_completion },
    { "wakes from foreign threads", test_wakes_from_foreign_threads },
    { "100000 tasks run exactly once", test_hundred_thousand_tasks_run_exactly_once },
    { "a bounded channel carries values in order", test_bounded_channel_carries_values_in_order },
    { "foreground tasks run on the main thread", test_foreground_tasks_run_on_the_main_thread },
    { "a foreground executor off the main thread is refused",
      test_foreground_executor_off_the_main_thread_is_refused },
    { "foreground misuse aborts naming threads and site",
      test_foreground_misuse_aborts_naming_threads_and_site },
    { "shutdown drops every pending future exactly once",
      test_shutdown_drops_every_pending_future_exactly_once },
    { "spawn during shutdown is refused and dropped",
      test_spawn_during_shutdown_is_refused_and_dropped },
    { "bad input gets documented codes", test_bad_input_gets_documented_codes },
};

int sched_conformance_run(const char *name, FILE *out)
{
    CU_pSuite suite;
    sched_host *probe;
    size_t i;
    int failed = 0;

    backend = name;
    if (getenv(DEATH_ENV) && getenv(DEATH_ENV)[0]) {
        /* The death test's re-executed child, with the parent's config. */
        snprintf(config_path, sizeof config_path, "%s", getenv(DEATH_ENV));
        _exit(misuse_foreground());
    }
    if (write_config(name) != 0) {
        fprintf(out, "conform: cannot write a config file for %s\n", name);
        return -1;
    }
    probe = open_host();
    if (!probe) {
        remove(config_path);
        fprintf(out, "conform: backend %s cannot be opened\n", name);
        return -1;
    }
    fprintf(out, "conformance of backend %s (%s)\n", name, sched_host_plugin_path(probe));
    sched_host_close(probe);

    if (CU_initialize_registry() != CUE_SUCCESS)
        return -1;
    suite = CU_add_suite(name, NULL, NULL);
    for (i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
    CU_run_all_tests();

    /* The table: one line per test. */
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        CU_FailureRecord *fr;
        int bad = 0;
        for (fr = CU_get_failure_list(); fr; fr = fr->pNext) {
            if (fr->pTest && strcmp(fr->pTest->pName, tests[i].name) == 0) {
                if (!bad)
                    failed++;
                fprintf(out, "%s  %-55s  %s:%u: %s\n", bad ? "    " : "FAIL", bad ? "" : tests[i].name,
                        fr->strFileName, fr->uiLineNumber, fr->strCondition);
                bad = 1;
            }
        }
        if (!bad)
            fprintf(out, "pass  %s\n", tests[i].name);
    }
    fprintf(out, "%s: %d of %zu tests failed\n", name, failed, sizeof tests / sizeof tests[0]);
    CU_cleanup_registry();
    remove(config_path);
    return failed;
}

int sched_conformance_main(int argc, char **argv)
{
    int i, bad = 0;
    if (argc < 1) {
        fprintf(stderr, "usage: schedctl conform BACKEND...\n");
        return 2;
    }
    for (i = 0; i < argc; i++) {
        int rc = sched_conformance_run(argv[i], stdout);
        if (rc != 0)
            bad = 1;
    }
    return bad;
}
