/* SPDX-License-Identifier: MIT */
/*
 * plugins/windows/windows.c - the windows backend: the Win32 thread pool.
 *
 * Background runnables go to a private thread pool through three TP_WORK
 * objects, one per callback priority (high, normal, low).  Each work object
 * has an intrusive FIFO of runnables linked through backend_slot[0]; every
 * push is paired with one SubmitThreadpoolWork, and every callback pops
 * one runnable, so scheduling never allocates.  At shutdown
 * WaitForThreadpoolWorkCallbacks(..., TRUE) cancels the callbacks not yet
 * started and whatever is left in the FIFOs is dropped: each runnable is
 * either popped by exactly one callback or dropped exactly once.
 *
 * Delayed runnables wait in a min-heap behind one TP_TIMER armed for the
 * earliest deadline; its callback moves what is due to the queues.
 * Main-thread runnables go to a FIFO drained by run(); an auto-reset event
 * wakes it, set only on the empty-to-non-empty edge so bursts coalesce
 * into one wake.  park/unpark wait on a word in the parker with
 * WaitOnAddress.
 */
#include <config.h>

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include <sched/plugin.h>

#define NPRIO 3 /* high, normal, low: the thread pool's three priorities */

/* An intrusive FIFO of runnables linked through backend_slot[0]. */
struct fifo {
    sched_runnable *head, *tail;
};

static void fifo_push(struct fifo *q, sched_runnable *r)
{
    r->backend_slot[0] = NULL;
    if (q->tail)
        q->tail->backend_slot[0] = r;
    else
        q->head = r;
    q->tail = r;
}

static sched_runnable *fifo_pop(struct fifo *q)
{
    sched_runnable *r = q->head;

    if (r) {
        q->head = r->backend_slot[0];
        if (!q->head)
            q->tail = NULL;
    }
    return r;
}

struct win;

/* One background queue: a work object at one callback priority. */
struct bg_queue {
    struct win *w;
    PTP_WORK work;
    SRWLOCK lock;
    struct fifo q;
};

/* A delayed runnable, in the timer heap. */
struct delayed {
    uint64_t deadline; /* now() value before which r must not run */
    uint64_t seq;      /* first in, first out among equal deadlines */
    sched_runnable *r;
    int main;
};

struct win {
    const sched_host_services *svc;
    sched_plugin_host *host;
    DWORD main_thread;
    LONGLONG qpc_freq;

    PTP_POOL pool;
    TP_CALLBACK_ENVIRON env[NPRIO];
    struct bg_queue bg[NPRIO];
    int closing; /* under every queue's lock: set once, by destroy */

    SRWLOCK timer_lock;       /* the fields below, and closing */
    PTP_TIMER timer;          /* one timer, armed for the earliest deadline */
    struct delayed *heap;     /* min-heap by (deadline, seq) */
    size_t nheap, capheap;
    uint64_t seq;
    uint64_t armed;           /* the deadline the timer is set for; 0: none */

    SRWLOCK main_lock;
    struct fifo main_q;
    HANDLE main_event;  /* auto-reset: main_q became non-empty, or stop() */
    atomic_int stopping;
};

static const TP_CALLBACK_PRIORITY tp_priority[NPRIO] = {
    TP_CALLBACK_PRIORITY_HIGH, TP_CALLBACK_PRIORITY_NORMAL, TP_CALLBACK_PRIORITY_LOW,
};

/* sched_priority -> index into bg[]. */
static int prio_index(sched_priority p)
{
    switch (p) {
    case SCHED_PRIORITY_LOW:
        return 2;
    case SCHED_PRIORITY_MEDIUM:
        return 1;
    default:
        return 0; /* HIGH, and REALTIME: the pool has no real-time class */
    }
}

static uint64_t win_now(void *self)
{
    struct win *w = self;
    LARGE_INTEGER c;

    QueryPerformanceCounter(&c);
    return (uint64_t)(c.QuadPart / w->qpc_freq) * 1000000000u +
           (uint64_t)(c.QuadPart % w->qpc_freq) * 1000000000u / (uint64_t)w->qpc_freq;
}

/* One callback per submitted runnable: pop the oldest and run it.  A
 * callback may find the FIFO empty only if the runnable it was submitted
 * for was taken by destroy, which cancels callbacks first. */
static void CALLBACK bg_callback(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    struct bg_queue *b = ctx;
    sched_runnable *r;

    (void)inst;
    (void)work;
    AcquireSRWLockExclusive(&b->lock);
    r = fifo_pop(&b->q);
    ReleaseSRWLockExclusive(&b->lock);
    if (r)
        b->w->svc->run(r);
}

/* Push r onto a background queue.  Submitting under the lock pairs each
 * push with its callback before destroy can close the queue.  internal
 * pushes (from timer callbacks that own r) bypass the closing check:
 * destroy settles timers before it closes the queues. */
static int bg_push(struct win *w, sched_runnable *r, int idx, int internal)
{
    struct bg_queue *b = &w->bg[idx];

    AcquireSRWLockExclusive(&b->lock);
    if (w->closing && !internal) {
        ReleaseSRWLockExclusive(&b->lock);
        return SCHED_ECLOSED;
    }
    fifo_push(&b->q, r);
    SubmitThreadpoolWork(b->work);
    ReleaseSRWLockExclusive(&b->lock);
    return 0;
}

/* The background queue for r's task, by its own priority. */
static int task_prio_index(struct win *w, sched_runnable *r)
{
    sched_runnable_info info;

    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    info.priority = SCHED_PRIORITY_MEDIUM;
    w->svc->info(r, &info);
    return prio_index((sched_priority)info.priority);
}

/* Runnables scheduled without a priority keep their task's. */
static int win_schedule(void *self, sched_runnable *r)
{
    return bg_push(self, r, task_prio_index(self, r), 0);
}

static int win_schedule_labeled(void *self, sched_runnable *r, const char *label,
                                sched_priority prio)
{
    (void)label;
    return bg_push(self, r, prio_index(prio), 0);
}

static int main_push(struct win *w, sched_runnable *r, int internal)
{
    int was_empty;

    AcquireSRWLockExclusive(&w->main_lock);
    if (w->closing && !internal) {
        ReleaseSRWLockExclusive(&w->main_lock);
        return SCHED_ECLOSED;
    }
    was_empty = w->main_q.head == NULL;
    fifo_push(&w->main_q, r);
    ReleaseSRWLockExclusive(&w->main_lock);
    /* run() drains the whole FIFO per wake: only the first push needs one. */
    if (was_empty)
        SetEvent(w->main_event);
    return 0;
}

static int win_schedule_main(void *self, sched_runnable *r)
{
    return main_push(self, r, 0);
}

static int delayed_before(const struct delayed *a, const struct delayed *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_swap(struct delayed *h, size_t i, size_t j)
{
    struct delayed t = h[i];

    h[i] = h[j];
    h[j] = t;
}

/* Remove entry i: the last entry takes its place and moves up or down to
 * where it belongs.  Under timer_lock. */
static struct delayed heap_remove_at(struct win *w, size_t i)
{
    struct delayed *h = w->heap, out = h[i];
    size_t n = --w->nheap;

    if (i == n)
        return out;
    h[i] = h[n];
    while (i > 0 && delayed_before(&h[i], &h[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && delayed_before(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && delayed_before(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return out;
}

/* Take the earliest entry.  Under timer_lock, heap not empty. */
static struct delayed heap_pop(struct win *w)
{
    return heap_remove_at(w, 0);
}

static void set_timer(PTP_TIMER t, uint64_t delay_ns)
{
    ULARGE_INTEGER due;
    FILETIME ft;
    uint64_t ticks = (delay_ns + 99) / 100;

    /* Negative: relative, in 100 ns units, rounded up; never 0, which
     * would be an absolute time. */
    due.QuadPart = (ULONGLONG)(-(LONGLONG)(ticks ? ticks : 1));
    ft.dwLowDateTime = due.LowPart;
    ft.dwHighDateTime = due.HighPart;
    SetThreadpoolTimer(t, &ft, 0, 0);
}

/* Arm the timer for the earliest deadline unless it is armed for that or
 * earlier already (that callback re-arms).  Under timer_lock. */
static void timer_arm(struct win *w, uint64_t now)
{
    uint64_t d;

    if (w->nheap == 0 || w->closing)
        return;
    d = w->heap[0].deadline;
    if (w->armed && w->armed <= d)
        return;
    w->armed = d;
    set_timer(w->timer, d > now ? d - now : 0);
}

/* The timer fired: move every entry that is due on our clock to its
 * queue, and re-arm for the next.  An early expiry (timer resolution,
 * clock skew) moves nothing and only re-arms: nothing runs early. */
static void CALLBACK timer_callback(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_TIMER t)
{
    struct win *w = ctx;
    struct fifo due_main = {NULL, NULL}, due_bg = {NULL, NULL};
    sched_runnable *r;
    uint64_t now;

    (void)inst;
    (void)t;
    AcquireSRWLockExclusive(&w->timer_lock);
    now = win_now(w);
    w->armed = 0;
    while (w->nheap && w->heap[0].deadline <= now) {
        struct delayed d = heap_pop(w);
        fifo_push(d.main ? &due_main : &due_bg, d.r);
    }
    timer_arm(w, now);
    ReleaseSRWLockExclusive(&w->timer_lock);
    /* Internal pushes: destroy waits for this callback before it closes
     * the queues. */
    while ((r = fifo_pop(&due_main)))
        main_push(w, r, 1);
    while ((r = fifo_pop(&due_bg)))
        bg_push(w, r, task_prio_index(w, r), 1);
}

static int win_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int main)
{
    struct win *w = self;
    struct delayed *d;
    uint64_t now;
    size_t i;

    if (delay_ns == 0)
        return main ? main_push(w, r, 0) : win_schedule(w, r);
    AcquireSRWLockExclusive(&w->timer_lock);
    if (w->closing) {
        ReleaseSRWLockExclusive(&w->timer_lock);
        return SCHED_ECLOSED;
    }
    if (w->nheap == w->capheap) {
        size_t cap = w->capheap ? 2 * w->capheap : 64;
        struct delayed *h = realloc(w->heap, cap * sizeof *h);
        if (!h) {
            ReleaseSRWLockExclusive(&w->timer_lock);
            return SCHED_ENOMEM;
        }
        w->heap = h;
        w->capheap = cap;
    }
    now = win_now(w);
    i = w->nheap++;
    d = &w->heap[i];
    d->deadline = now + delay_ns;
    d->seq = w->seq++;
    d->r = r;
    d->main = main;
    while (i > 0 && delayed_before(&w->heap[i], &w->heap[(i - 1) / 2])) {
        heap_swap(w->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    timer_arm(w, now);
    ReleaseSRWLockExclusive(&w->timer_lock);
    return 0;
}

/* Take r back while it waits in the heap (a search: only a timer dropped
 * before it fires is taken back).  The thread-pool timer stays armed; its
 * callback finds nothing due and re-arms for the next. */
static int win_cancel_after(void *self, sched_runnable *r)
{
    struct win *w = self;
    int found = 0;

    AcquireSRWLockExclusive(&w->timer_lock);
    for (size_t i = 0; i < w->nheap; i++) {
        if (w->heap[i].r == r) {
            heap_remove_at(w, i);
            found = 1;
            break;
        }
    }
    ReleaseSRWLockExclusive(&w->timer_lock);
    if (!found)
        return SCHED_ENOENT;
    w->svc->drop(r);
    return 0;
}

static int win_is_main_thread(void *self)
{
    return GetCurrentThreadId() == ((struct win *)self)->main_thread;
}

/* The parker's first word: 1 when an unpark is pending, else 0. */
static volatile LONG *parker_word(sched_parker *p)
{
    return (volatile LONG *)&p->backend_slot[0];
}

static int win_park(void *self, sched_parker *p, uint64_t timeout_ns)
{
    volatile LONG *word = parker_word(p);
    LONG zero = 0;
    DWORD ms;

    (void)self;
    if (InterlockedExchange(word, 0))
        return 0;
    if (timeout_ns == SCHED_TIMEOUT_NEVER)
        ms = INFINITE;
    else if (timeout_ns / 1000000u >= INFINITE - 1)
        ms = INFINITE - 1; /* ~49 days; ends like a spurious wakeup */
    else
        ms = (DWORD)(timeout_ns / 1000000u + (timeout_ns % 1000000u != 0));
    if (!WaitOnAddress(word, &zero, sizeof zero, ms) && InterlockedExchange(word, 0) == 0)
        return ms == INFINITE - 1 ? 0 : SCHED_ETIMEDOUT;
    InterlockedExchange(word, 0);
    return 0;
}

static void win_unpark(void *self, sched_parker *p)
{
    volatile LONG *word = parker_word(p);

    (void)self;
    InterlockedExchange(word, 1);
    WakeByAddressSingle((void *)word);
}

static unsigned win_num_cpus(void *self)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);

    (void)self;
    return n > 0 ? (unsigned)n : 1;
}

/* Run the main-thread work queued now; how many runnables ran.  Main
 * thread only ("sched.pollable" dispatch, and block() on the main thread
 * through it). */
static int win_dispatch(void *self)
{
    struct win *w = self;
    struct fifo batch;
    sched_runnable *r;
    int n = 0;

    assert(win_is_main_thread(w));
    AcquireSRWLockExclusive(&w->main_lock);
    batch = w->main_q;
    w->main_q.head = w->main_q.tail = NULL;
    ReleaseSRWLockExclusive(&w->main_lock);
    while ((r = fifo_pop(&batch))) {
        w->svc->run(r);
        n++;
    }
    return n;
}

/* Windows has no descriptor to poll: sched_host_poll_fd() reports
 * SCHED_ENOTSUP, and an application's own loop calls sched_host_dispatch()
 * when it has run sched_host_run() for good or polls on its own timer. */
static int win_pollable_fd(void *self)
{
    (void)self;
    return SCHED_ENOTSUP;
}

static const sched_pollable_iface_v1 win_pollable = {
    .size = sizeof(sched_pollable_iface_v1),
    .fd = win_pollable_fd,
    .dispatch = win_dispatch,
};

static const void *win_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (version == 1 && strcmp(iface, "sched.pollable") == 0)
        return &win_pollable;
    return NULL;
}

/* Drain the main FIFO until stop().  Runnables queued before stop() was
 * called are run before run() returns.  Main thread only. */
static int win_run(void *self)
{
    struct win *w = self;

    assert(win_is_main_thread(w));
    for (;;) {
        int pending;

        win_dispatch(w);
        if (atomic_exchange(&w->stopping, 0)) {
            /* Runnables queued meanwhile stay queued, and their wake is
             * kept for the next run(). */
            return 0;
        }
        AcquireSRWLockExclusive(&w->main_lock);
        pending = w->main_q.head != NULL;
        ReleaseSRWLockExclusive(&w->main_lock);
        if (!pending && WaitForSingleObject(w->main_event, INFINITE) != WAIT_OBJECT_0)
            return SCHED_EBACKEND;
    }
}

static void win_stop(void *self)
{
    struct win *w = self;

    atomic_store(&w->stopping, 1);
    SetEvent(w->main_event);
}

/* Stop the timer (closing is set, so no callback re-arms it), wait for a
 * callback in progress, and drop what is still waiting in the heap. */
static void timers_shutdown(struct win *w)
{
    SetThreadpoolTimer(w->timer, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(w->timer, TRUE);
    CloseThreadpoolTimer(w->timer);
    while (w->nheap)
        w->svc->drop(heap_pop(w).r);
    free(w->heap);
}

static void win_destroy(void *self)
{
    struct win *w = self;
    sched_runnable *r;
    int i;

    /* No new work from outside from here on. */
    AcquireSRWLockExclusive(&w->timer_lock);
    AcquireSRWLockExclusive(&w->main_lock);
    for (i = 0; i < NPRIO; i++)
        AcquireSRWLockExclusive(&w->bg[i].lock);
    w->closing = 1;
    for (i = NPRIO - 1; i >= 0; i--)
        ReleaseSRWLockExclusive(&w->bg[i].lock);
    ReleaseSRWLockExclusive(&w->main_lock);
    ReleaseSRWLockExclusive(&w->timer_lock);

    timers_shutdown(w);
    for (i = 0; i < NPRIO; i++) {
        struct bg_queue *b = &w->bg[i];
        WaitForThreadpoolWorkCallbacks(b->work, TRUE);
        CloseThreadpoolWork(b->work);
        while ((r = fifo_pop(&b->q)))
            w->svc->drop(r);
        DestroyThreadpoolEnvironment(&w->env[i]);
    }
    while ((r = fifo_pop(&w->main_q)))
        w->svc->drop(r);
    CloseThreadpool(w->pool);
    CloseHandle(w->main_event);
    free(w);
}

/* This DLL, so the pool can hold a reference on it while a callback runs:
 * a callback then never returns into unloaded code. */
static HMODULE this_module(void)
{
    HMODULE m = NULL;

    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                           GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                       (LPCWSTR)(void *)&this_module, &m);
    return m;
}

static int win_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct win *w = calloc(1, sizeof *w);
    int64_t max_threads = 0;
    LARGE_INTEGER f;
    HMODULE mod = this_module();
    int i;

    if (!w) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    w->svc = env->svc;
    w->host = env->host;
    w->main_thread = GetCurrentThreadId();
    QueryPerformanceFrequency(&f);
    w->qpc_freq = f.QuadPart;
    InitializeSRWLock(&w->timer_lock);
    InitializeSRWLock(&w->main_lock);
    w->svc->config_int(w->host, "max_threads", &max_threads);

    w->main_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    w->pool = CreateThreadpool(NULL);
    if (!w->main_event || !w->pool)
        goto fail;
    if (max_threads > 0)
        SetThreadpoolThreadMaximum(w->pool, (DWORD)max_threads);
    for (i = 0; i < NPRIO; i++) {
        struct bg_queue *b = &w->bg[i];
        InitializeThreadpoolEnvironment(&w->env[i]);
        SetThreadpoolCallbackPool(&w->env[i], w->pool);
        SetThreadpoolCallbackPriority(&w->env[i], tp_priority[i]);
        if (mod)
            SetThreadpoolCallbackLibrary(&w->env[i], mod);
        b->w = w;
        InitializeSRWLock(&b->lock);
        b->work = CreateThreadpoolWork(bg_callback, b, &w->env[i]);
        if (!b->work) {
            DestroyThreadpoolEnvironment(&w->env[i]);
            while (--i >= 0) {
                CloseThreadpoolWork(w->bg[i].work);
                DestroyThreadpoolEnvironment(&w->env[i]);
            }
            goto fail;
        }
    }
    w->timer = CreateThreadpoolTimer(timer_callback, w, &w->env[0]);
    if (!w->timer) {
        for (i = 0; i < NPRIO; i++) {
            CloseThreadpoolWork(w->bg[i].work);
            DestroyThreadpoolEnvironment(&w->env[i]);
        }
        goto fail;
    }
    *self = w;
    return 0;

fail:
    snprintf(err, errlen, "cannot create the Win32 thread pool (error %lu)",
             (unsigned long)GetLastError());
    if (w->pool)
        CloseThreadpool(w->pool);
    if (w->main_event)
        CloseHandle(w->main_event);
    free(w);
    return SCHED_EBACKEND;
}

static const sched_config_key win_keys[] = {
    {"max_threads", SCHED_CONFIG_INT, 0, 4096,
     "most threads in the backend's thread pool; 0 = the system's default"},
    {NULL, 0, 0, 0, NULL},
};

static const sched_plugin_descriptor win_descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "windows",
    .description = "Win32 thread pool (TP_WORK, TP_TIMER), event-driven main loop",
    .version = PACKAGE_VERSION,
    .config_keys = win_keys,
    .ops = {
        .create = win_create,
        .destroy = win_destroy,
        .schedule = win_schedule,
        .schedule_labeled = win_schedule_labeled,
        .schedule_main = win_schedule_main,
        .schedule_after = win_schedule_after,
        .cancel_after = win_cancel_after,
        .now = win_now,
        .is_main_thread = win_is_main_thread,
        .park = win_park,
        .unpark = win_unpark,
        .num_cpus = win_num_cpus,
        .run = win_run,
        .stop = win_stop,
        .query = win_query,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *
SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &win_descriptor;
}
