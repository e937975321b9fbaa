/* SPDX-License-Identifier: MIT */
/*
 * plugins/mac/host.c - the mac backend's life and its main queue.
 *
 * create() checks that this thread owns GCD's main queue, keeps the plugin
 * and libdispatch loaded, makes sure the system grants libdispatch its
 * threads, and sets up the wake pipe and the timer source; destroy() drops
 * or waits out every callback the backend handed to libdispatch.  The
 * main loop (run/stop, and sched.pollable for an application's own loop)
 * drains the main queue through libdispatch's run-loop hook.
 */
#include <config.h>

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mac.h"

/* See mac.h. */
atomic_int mac_workers_started;
atomic_int mac_forked_child;
static pthread_once_t mac_atfork_once = PTHREAD_ONCE_INIT;

static void mac_atfork_child(void)
{
    if (atomic_load(&mac_workers_started))
        atomic_store(&mac_forked_child, 1);
}

static void mac_register_atfork(void)
{
    pthread_atfork(NULL, NULL, mac_atfork_child);
}

/* As mac_trampoline, on the main thread, counting for sched.pollable. */
static void mac_main_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    assert(pthread_equal(pthread_self(), m->main_thread));
    m->main_ran++;
    mac_trampoline(ctx);
}

/* Tell run() (or an application polling our fd) that main-queue work is
 * queued.  One byte at most is outstanding, so the pipe never fills. */
static void mac_poke(struct mac *m)
{
    char c = 0;
    ssize_t n = write(m->wake[1], &c, 1);

    (void)n;    /* EAGAIN: the pipe is full, so the loop wakes anyway */
}

static void mac_wake(struct mac *m)
{
    if (!atomic_exchange(&m->wake_pending, 1))
        mac_poke(m);
}

void mac_submit_main(struct mac *m, sched_runnable *r)
{
    r->backend_slot[0] = m;
    atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
    MAC_HB_SEND(r);
    dispatch_async_f(m->mainq, r, mac_main_trampoline);
    mac_wake(m);
}

int mac_is_main_thread(void *self)
{
    struct mac *m = self;

#if defined(__APPLE__)
    (void)m;
    return pthread_main_np() != 0;
#else
    return pthread_equal(pthread_self(), m->main_thread);
#endif
}

/* Run what the main queue holds now; returns how many of our runnables
 * ran.  Main thread only. */
static int mac_drain_main(struct mac *m)
{
    char buf[64];
    unsigned before;

    assert(pthread_equal(pthread_self(), m->main_thread));
    atomic_store(&m->wake_pending, 0);
    while (read(m->wake[0], buf, sizeof buf) > 0)
        continue;
    if (m->dispatch_fd >= 0) {
        uint64_t v;
        ssize_t n = read(m->dispatch_fd, &v, sizeof v);
        (void)n;
    }
    before = m->main_ran;
    /* A call from inside a main-queue callback returns at once:
     * libdispatch does not drain the main queue re-entrantly. */
    _dispatch_main_queue_callback_4CF(NULL);
    return (int)(m->main_ran - before);
}

/*
 * The main loop: sleep in poll() on our wake pipe (and, on Linux, on
 * libdispatch's main-queue eventfd, so main-queue work queued by other
 * code runs too), drain the main queue through the run-loop hook, until
 * stop().  dispatch_main() would never return.
 */
int mac_run(void *self)
{
    struct mac *m = self;
    struct pollfd pfd[2];
    nfds_t n = 1;

    assert(pthread_equal(pthread_self(), m->main_thread));
    pfd[0].fd = m->wake[0];
    pfd[0].events = POLLIN;
    if (m->dispatch_fd >= 0) {
        pfd[1].fd = m->dispatch_fd;
        pfd[1].events = POLLIN;
        n = 2;
    }
    for (;;) {
        mac_drain_main(m);
        if (atomic_exchange(&m->stop_requested, 0))
            return 0;
        if (poll(pfd, n, -1) < 0 && errno != EINTR)
            return SCHED_EBACKEND;
    }
}

void mac_stop(void *self)
{
    struct mac *m = self;

    atomic_store(&m->stop_requested, 1);
    atomic_store(&m->wake_pending, 1);
    mac_poke(m);
}

static int mac_pollable_fd(void *self)
{
    return ((struct mac *)self)->wake[0];
}

static int mac_pollable_dispatch(void *self)
{
    return mac_drain_main(self);
}

static const sched_pollable_iface_v1 mac_pollable = {
    .size = sizeof(sched_pollable_iface_v1),
    .fd = mac_pollable_fd,
    .dispatch = mac_pollable_dispatch,
};

const void *mac_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (strcmp(iface, "sched.pollable") == 0 && version == 1)
        return &mac_pollable;
    return NULL;
}

/*
 * The main queue is bound to one thread for the life of the process: on
 * macOS the process's main thread, on Linux the thread that first loaded
 * libdispatch.  Only there can it be drained, so only there may the
 * backend be created.
 */
static int mac_owns_main_queue(void)
{
#if defined(__APPLE__)
    return pthread_main_np() != 0;
#else
    const char *cur = dispatch_queue_get_label(DISPATCH_CURRENT_QUEUE_LABEL);
    const char *mainq = dispatch_queue_get_label(dispatch_get_main_queue());

    return cur != NULL && mainq != NULL && strcmp(cur, mainq) == 0;
#endif
}

/*
 * libdispatch cannot be unloaded: its worker threads and timers outlive
 * any dlclose(), and its initializers bound the main queue when it was
 * loaded.  Holding a never-released reference to this plugin, with
 * RTLD_NODELETE, keeps the plugin and libdispatch mapped for the life of
 * the process.  Done when the plugin is first entered, so that a host
 * that only reads the descriptor ("schedctl list") does not unload it
 * either, and again by create(), which reports a failure.
 */
int mac_pin_plugin(char *err, size_t errlen)
{
    Dl_info dli;

    if (dladdr((void *)mac_pin_plugin, &dli) == 0 || dli.dli_fname == NULL) {
        snprintf(err, errlen, "cannot find the mac plugin's own file to keep it loaded");
        return SCHED_EBACKEND;
    }
    if (dlopen(dli.dli_fname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE) == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot keep %s loaded: %s", dli.dli_fname,
                 why != NULL ? why : "unknown dlopen error");
        return SCHED_EBACKEND;
    }
    return 0;
}

static int mac_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0 ||
            fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
}

#if defined(__linux__)
/*
 * libdispatch on Linux starts its worker threads on demand and, when
 * pthread_create fails (the user's thread limit, RLIMIT_NPROC, or no
 * address space left for a stack, RLIMIT_AS), neither reports it nor
 * retries: the work queued stays queued and whoever waits on it hangs.
 * So before creating the backend, make sure the system grants as many
 * threads as libdispatch may use for our three global queues (one per
 * CPU each) and its manager thread, all at once, with the default stack
 * it gives them.  This cannot reserve them (another process of the same
 * user may take them later) but it turns a limit that is already too low
 * into an error instead of a hang.
 */
struct mac_probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int release;
};

static void *mac_probe_thread(void *arg)
{
    struct mac_probe *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->release)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static unsigned mac_threads_needed(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return 3 * (unsigned)(n > 0 ? n : 1) + 1;
}

static int mac_probe_threads(char *err, size_t errlen)
{
    unsigned need = mac_threads_needed(), got = 0;
    struct mac_probe p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    pthread_t *th = calloc(need, sizeof *th);
    int rc = 0;

    if (th == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    while (got < need && (rc = pthread_create(&th[got], NULL, mac_probe_thread, &p)) == 0)
        got++;
    pthread_mutex_lock(&p.mu);
    p.release = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < got; i++)
        pthread_join(th[i], NULL);
    free(th);
    if (got == need)
        return 0;
    snprintf(err, errlen, "libdispatch may need %u threads here (three queues on %u CPUs, "
             "and its manager), but the system refused thread %u: %s; libdispatch would "
             "hang instead of failing (raise the thread limit, ulimit -u, or the "
             "address-space limit, ulimit -v)",
             need, (need - 1) / 3, got + 1, strerror(rc));
    return rc == EAGAIN ? SCHED_EAGAIN : rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
}
#endif

int mac_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct mac *m;
    int rc;

    if (!mac_owns_main_queue()) {
        snprintf(err, errlen, "the GCD main queue belongs to another thread (the process's "
                 "main thread, or the one that first loaded libdispatch); open the host there");
        return SCHED_EBACKEND;
    }
    rc = mac_pin_plugin(err, errlen);
    if (rc != 0)
        return rc;
#if defined(__linux__)
    /* A forked child's libdispatch starts no worker (see above): nothing
     * to make room for. */
    if (!atomic_load(&mac_forked_child) && (rc = mac_probe_threads(err, errlen)) != 0)
        return rc;
#endif
    pthread_once(&mac_atfork_once, mac_register_atfork);
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    if (mac_pipe(m->wake) != 0) {
        snprintf(err, errlen, "cannot create the main-loop wake pipe: %s", strerror(errno));
        free(m);
        return SCHED_EBACKEND;
    }
    m->inflight = dispatch_group_create();
    if (m->inflight == NULL) {
        snprintf(err, errlen, "out of memory creating a dispatch group");
        close(m->wake[0]);
        close(m->wake[1]);
        free(m);
        return SCHED_ENOMEM;
    }
    m->svc = env->svc;
    m->queue[SCHED_PRIORITY_LOW] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_LOW, 0);
    m->queue[SCHED_PRIORITY_MEDIUM] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
    m->queue[SCHED_PRIORITY_HIGH] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_HIGH, 0);
    m->queue[SCHED_PRIORITY_REALTIME] = m->queue[SCHED_PRIORITY_HIGH];
    m->mainq = dispatch_get_main_queue();
    m->main_thread = pthread_self();
#if defined(__linux__)
    m->dispatch_fd = _dispatch_get_main_queue_handle_4CF();
#else
    m->dispatch_fd = -1;
#endif
    pthread_mutex_init(&m->lock, NULL);
    m->armed = UINT64_MAX;
    /* Background timers fire here and hop to the queue of their priority;
     * main-thread ones hop to the main queue. */
    m->timer = dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, 0,
                                      m->queue[SCHED_PRIORITY_HIGH]);
    if (m->timer == NULL) {
        snprintf(err, errlen, "out of memory creating a dispatch timer source");
        pthread_mutex_destroy(&m->lock);
        dispatch_release(m->inflight);
        close(m->wake[0]);
        close(m->wake[1]);
        free(m);
        return SCHED_ENOMEM;
    }
    dispatch_set_context(m->timer, m);
    dispatch_source_set_event_handler_f(m->timer, mac_timer_fire);
    dispatch_source_set_cancel_handler_f(m->timer, mac_timer_cancelled);
    dispatch_group_enter(m->inflight);
    MAC_HB_SEND(m);
    dispatch_resume(m->timer);
    *self = m;
    return 0;
}

/*
 * Close: set the flag every callback checks, drop every runnable still in
 * the heap and cancel the timer source, then drain the main queue until
 * no callback is queued and the source's cancel handler has run (after its
 * last event handler, which counts what it queues).  Callbacks still
 * queued on the global queues or the main queue drop their runnable when
 * they run.  Then no callback of this backend can run again.
 */
void mac_destroy(void *self)
{
    struct mac *m = self;
    struct mac_due *taken;
    size_t ntaken;

    assert(pthread_equal(pthread_self(), m->main_thread));
    pthread_mutex_lock(&m->lock);
    atomic_store_explicit(&m->closed, 1, memory_order_release);
    taken = m->heap;
    ntaken = m->nheap;
    m->heap = NULL;
    m->nheap = m->capheap = 0;
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < ntaken; i++) {
        taken[i].r->backend_slot[1] = (void *)UINTPTR_MAX;
        m->svc->drop(taken[i].r);
    }
    free(taken);
    MAC_HB_SEND(m);
    dispatch_source_cancel(m->timer);

    for (;;) {
        _dispatch_main_queue_callback_4CF(NULL);
        if (atomic_load(&mac_forked_child))
            break;
        if (dispatch_group_wait(m->inflight, dispatch_time(DISPATCH_TIME_NOW, 1000000)) != 0)
            continue;
        if (atomic_load_explicit(&m->queued, memory_order_acquire) == 0)
            break;
        nanosleep(&(struct timespec){ 0, 100000 }, NULL);
    }
    MAC_HB_RECV(m->inflight);
    MAC_HB_RECV(&m->queued);

    dispatch_release(m->timer);
    dispatch_release(m->inflight);
    pthread_mutex_destroy(&m->lock);
    close(m->wake[0]);
    close(m->wake[1]);
    free(m);
}
