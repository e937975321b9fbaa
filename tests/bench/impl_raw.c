/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/impl_raw.c - a libsched backend driven through its plugin
 * ABI alone ("raw:linux"): the harness is the host, and each task is one
 * malloc'd runnable carrying a function and an argument, as a peer's job
 * is.  This isolates the backend's own cost; the libsched:<backend> rows
 * add the task core (futures, wakers, task state) on top.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/plugin.h>

#include "bench.h"

typedef struct rjob {
    sched_runnable base;
    void (*fn)(void *);
    void *arg;
} rjob;

typedef struct raw {
    bench_jobs jobs;        /* first: the workloads are bench_jobs_w* */
    void *lib;
    const sched_plugin_descriptor *desc;
    void *self;
} raw;

static void svc_run(sched_runnable *r)
{
    rjob *j = (rjob *)r;
    j->fn(j->arg);
    free(j);
}

static void svc_drop(sched_runnable *r)
{
    free(r);
}

static int svc_info(const sched_runnable *r, sched_runnable_info *out)
{
    (void)r;
    uint32_t size = out->size;
    memset(out, 0, size);
    out->size = size;
    out->priority = SCHED_PRIORITY_MEDIUM;
    out->task_id = 1;
    return 0;
}

/* The backend's log lines go to stderr: a fallback taken (no SCHED_FIFO,
 * say) explains a figure. */
static void svc_log(sched_plugin_host *h, int level, const char *msg)
{
    (void)h; (void)level;
    fprintf(stderr, "sched-bench: %s\n", msg);
}

static int svc_config_int(sched_plugin_host *h, const char *key, int64_t *out)
{
    (void)h; (void)key; (void)out;
    return SCHED_ENOENT;
}

static int svc_config_bool(sched_plugin_host *h, const char *key, int *out)
{
    (void)h; (void)key; (void)out;
    return SCHED_ENOENT;
}

static int svc_config_float(sched_plugin_host *h, const char *key, double *out)
{
    (void)h; (void)key; (void)out;
    return SCHED_ENOENT;
}

static int svc_config_string(sched_plugin_host *h, const char *key, const char **out)
{
    (void)h; (void)key; (void)out;
    return SCHED_ENOENT;
}

static void svc_config_error(sched_plugin_host *h, const char *key, const char *reason,
                             char *err, size_t errlen)
{
    (void)h;
    snprintf(err, errlen, "%s: %s", key, reason);
}

static int svc_task_is_live(sched_plugin_host *h, uint64_t id)
{
    (void)h; (void)id;
    return 1;
}

static size_t svc_describe_tasks(sched_plugin_host *h, char *buf, size_t len)
{
    (void)h;
    if (len)
        buf[0] = '\0';
    return 0;
}

static const char *svc_getenv(const char *name)
{
    (void)name;
    return NULL;
}

static const sched_host_services services = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
    .run = svc_run,
    .drop = svc_drop,
    .info = svc_info,
    .log = svc_log,
    .config_int = svc_config_int,
    .config_bool = svc_config_bool,
    .config_float = svc_config_float,
    .config_string = svc_config_string,
    .config_error = svc_config_error,
    .task_is_live = svc_task_is_live,
    .describe_tasks = svc_describe_tasks,
    .getenv = svc_getenv,
};

static void submit(void *ctx, void (*fn)(void *), void *arg)
{
    raw *r = ctx;
    rjob *j = malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    r->desc->ops.schedule(r->self, &j->base);
}

static void submit_after(void *ctx, uint64_t delay_ns, void (*fn)(void *), void *arg)
{
    raw *r = ctx;
    rjob *j = malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    r->desc->ops.schedule_after(r->self, &j->base, delay_ns, 0);
}

static void raw_fini(void *ctx)
{
    raw *r = ctx;
    r->desc->ops.destroy(r->self);
    dlclose(r->lib);
    free(r);
}

/* Find <backend>.so in $SCHED_PLUGIN_PATH, else the build tree. */
static void *open_plugin(const char *backend)
{
    const char *env = getenv("SCHED_PLUGIN_PATH");
    char dirs[8192], path[8192];
    void *lib;

    snprintf(dirs, sizeof dirs, "%s:%s", env ? env : "", BENCH_PLUGIN_BUILD_PATH);
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/%s.so", d, backend);
        if ((lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
            return lib;
    }
    return NULL;
}

int bench_raw_impl(bench_impl *impl, const char *backend)
{
    static char names[8][64];
    static int nnames;
    sched_backend_env env = { sizeof env, &services, NULL };
    char err[256] = "";
    raw *r = calloc(1, sizeof *r);

    if (!(r->lib = open_plugin(backend))) {
        bench_fail("%s.so not found in the plugin path", backend);
        free(r);
        return -1;
    }
    sched_plugin_entry_fn entry = (sched_plugin_entry_fn)dlsym(r->lib, SCHED_PLUGIN_ENTRY_NAME);
    r->desc = entry ? entry(&services) : NULL;
    if (!r->desc || r->desc->ops.create(&env, &r->self, err, sizeof err) != 0) {
        bench_fail("%s: cannot create: %s", backend, err);
        dlclose(r->lib);
        free(r);
        return -1;
    }
    r->jobs.submit = submit;
    r->jobs.after = submit_after;
    r->jobs.threads = r->desc->ops.num_cpus ? r->desc->ops.num_cpus(r->self) : bench_threads();
    /* A backend that does not count its CPUs runs on a pool it does not
     * size (GCD's), which adds threads as its workers block. */
    r->jobs.grows = !r->desc->ops.num_cpus;
    memset(impl, 0, sizeof *impl);
    snprintf(names[nnames % 8], sizeof names[0], "raw:%s", backend);
    impl->name = names[nnames++ % 8];
    impl->ours = 1;
    impl->w1 = bench_jobs_w1;
    impl->w2 = bench_jobs_w2;
    impl->w3 = bench_jobs_w3;
    impl->w4 = r->desc->ops.schedule_after ? bench_jobs_w4 : NULL;
    impl->w5 = bench_jobs_w5;
    impl->ctx = r;
    impl->fini = raw_fini;
    return 0;
}
