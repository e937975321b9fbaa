/* SPDX-License-Identifier: MIT */
/*
 * core/host.c - the host: opening and closing it, and the main loop.
 *
 * sched_host_open reads the config, starts the task core, then loads and
 * creates the backend; sched_host_close undoes it in reverse, so that
 * every runnable a backend still holds is dropped into a live task core.
 *
 * Closing releases everything but the struct itself, which stays, marked
 * closed and with no backend, while an executor, a foreground executor or
 * a blocked call's waker still holds a reference: a call made through them
 * after the close gets SCHED_ECLOSED (or NULL, or nothing) from a live
 * object instead of reading freed memory.  The last reference frees it.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Open a host on the calling thread, which becomes its main thread.  On
 * failure *out is NULL and *err (when asked for) explains.
 */
int sched_host_open(sched_host **out, const char *config_path, sched_error **err)
{
    if (err != NULL)
        *err = NULL;
    if (out == NULL)
        return sched__error_set(err, SCHED_EINVAL, "sched_host_open: out is NULL");
    *out = NULL;

    sched_host *host = calloc(1, sizeof *host);
    if (host == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory opening the host");
    host->main_thread = sched__thread_self();
    host->forks = sched__forks();
    atomic_init(&host->closed, 0);
    atomic_init(&host->refs, 1);
    atomic_init(&host->sessions_made, 0);

    int rc = sched__config_load(config_path, &host->cfg, err);
    if (rc != 0) {
        free(host);
        return rc;
    }
    rc = sched__tasks_init(host);
    if (rc != 0) {
        sched__config_free(host->cfg);
        free(host);
        return sched__error_set(err, rc, "cannot start the task core: %s", sched_strerror(rc));
    }
    /* What the task core learns from the layers above it (hooks.h), in
     * place before anything can spawn, wake or block. */
    sched__block_hooks(&host->hooks);
    sched__session_hooks(&host->hooks);
    rc = sched__loader_open(host, &sched__services, err);
    if (rc != 0) {
        sched__tasks_close(host);
        sched__timers_free(host);
        sched__config_free(host->cfg);
        free(host);
        return rc;
    }
    sched_as_test(host);    /* fills host->test, which the task core reads */
    /* The test layer's hook needs the backend's interface: after create,
     * still before anything can spawn. */
    rc = sched__test_hooks(host);
    if (rc != 0) {
        sched_host_close(host);
        return sched__error_set(err, rc, "out of memory opening the host");
    }
    *out = host;
    return 0;
}

/*
 * Close on the main thread.  Sessions and the fallback timer thread go
 * first (they hand work to the backend), then the backend drops what it
 * still queues, then the task core frees what is left, and only then is
 * the plugin's code unmapped.  What stays for the holders of references
 * is a closed host with no ops, so nothing can call into the unmapped
 * plugin.  From another thread it is the documented abort: the main
 * thread may be running the host's tasks at that moment.
 */
void sched_host_close(sched_host *host)
{
    if (host == NULL)
        return;
    if (atomic_load(&host->closed)) {
        /* A freed host reads poison here in debug mode: closed too. */
        if (sched__debug())
            sched__misuse("sched_host_close", "host %p was already closed", (void *)host);
        return;
    }
    /* Inherited through a fork: the parent's threads, which may have held
     * any of the host's locks at the fork, do not exist here, so nothing
     * is taken, freed or dropped; the host only refuses work from now on
     * (sched_host_open(3), In a forked child). */
    if (host->forks != sched__forks()) {
        atomic_store(&host->closed, 1);
        return;
    }
    if (!sched__thread_equal(sched__thread_self(), host->main_thread)) {
        char self[96], owner[96];
        sched__thread_describe(sched__thread_self(), self, sizeof self);
        sched__thread_describe(host->main_thread, owner, sizeof owner);
        sched__misuse("sched_host_close",
                      "called on %s, but the host belongs to its main thread, %s", self, owner);
    }
    atomic_store(&host->closed, 1);
    sched__sessions_close(host);
    sched__timers_close(host);
    host->ops.destroy(host->backend);
    sched__tasks_close(host);
    sched__timers_free(host);
    sched__test_close(host);
    sched__loader_unload(host);
    sched__config_free(host->cfg);
    host->cfg = NULL;
    memset(&host->ops, 0, sizeof host->ops);
    __atomic_store_n(&host->test.iface, NULL, __ATOMIC_RELEASE);
    host->test.self = NULL;
    sched__host_unref(host);
}

const char *sched_host_backend_name(const sched_host *host)
{
    return host != NULL && host->desc != NULL ? host->desc->name : NULL;
}

const char *sched_host_plugin_path(const sched_host *host)
{
    return host != NULL ? host->plugin_path : NULL;
}

const char *sched_host_config_path(const sched_host *host)
{
    return host != NULL && host->cfg != NULL ? sched__config_file(host->cfg) : NULL;
}

int sched_host_run(sched_host *host)
{
    if (host == NULL)
        return SCHED_EINVAL;
    if (!sched__thread_equal(sched__thread_self(), host->main_thread))
        return SCHED_EWRONGTHREAD;
    if (atomic_load(&host->closed))
        return SCHED_ECLOSED;
    return host->ops.run(host->backend);
}

void sched_host_stop(sched_host *host)
{
    if (host != NULL && !atomic_load(&host->closed))
        host->ops.stop(host->backend);
}

int sched_host_query(sched_host *host, const char *iface, uint32_t version,
                     const void **table, void **self)
{
    if (table != NULL)
        *table = NULL;
    if (self != NULL)
        *self = NULL;
    if (host == NULL || iface == NULL || table == NULL || self == NULL)
        return SCHED_EINVAL;
    if (host->ops.query == NULL)
        return SCHED_ENOENT;
    const void *t = host->ops.query(host->backend, iface, version);
    if (t == NULL)
        return SCHED_ENOENT;
    *table = t;
    *self = host->backend;
    return 0;
}

/* The backend's "sched.pollable" v1 interface, or NULL. */
static const sched_pollable_iface_v1 *pollable(sched_host *host)
{
    if (host->ops.query == NULL)
        return NULL;
    const sched_pollable_iface_v1 *p = host->ops.query(host->backend, "sched.pollable", 1);
    if (p == NULL || p->size < sizeof *p || p->fd == NULL || p->dispatch == NULL)
        return NULL;
    return p;
}

int sched_host_poll_fd(sched_host *host, int *fd)
{
    if (host == NULL || fd == NULL)
        return SCHED_EINVAL;
    if (!sched__thread_equal(sched__thread_self(), host->main_thread))
        return SCHED_EWRONGTHREAD;
    if (atomic_load(&host->closed))
        return SCHED_ECLOSED;
    const sched_pollable_iface_v1 *p = pollable(host);
    if (p == NULL)
        return SCHED_ENOTSUP;
    int f = p->fd(host->backend);
    if (f < 0)
        return f;
    *fd = f;
    return 0;
}

int sched_host_dispatch(sched_host *host)
{
    if (host == NULL)
        return SCHED_EINVAL;
    if (!sched__thread_equal(sched__thread_self(), host->main_thread))
        return SCHED_EWRONGTHREAD;
    if (atomic_load(&host->closed))
        return SCHED_ECLOSED;
    const sched_pollable_iface_v1 *p = pollable(host);
    if (p == NULL)
        return SCHED_ENOTSUP;
    return p->dispatch(host->backend);
}

unsigned sched_host_num_cpus(sched_host *host)
{
    if (host != NULL && host->ops.num_cpus != NULL) {
        unsigned n = host->ops.num_cpus(host->backend);
        if (n > 0)
            return n;
    }
    return sched__num_cpus();
}

int sched_host_is_main_thread(sched_host *host)
{
    if (host == NULL)
        return 0;
    if (host->ops.is_main_thread != NULL)
        return host->ops.is_main_thread(host->backend) != 0;
    return sched__thread_equal(sched__thread_self(), host->main_thread);
}
