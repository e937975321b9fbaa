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
    void *lib;
    const sched_plugin_descriptor *desc;
    void *self;
} raw;

static raw *the_raw;     /* the run/drop services need no context */

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

static void submit(raw *r, void (*fn)(void *), void *arg)
{
    rjob *j = malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    r->desc->ops.schedule(r->self, &j->base);
}

static void submit_after(raw *r, uint64_t delay_ns, void (*fn)(void *), void *arg)
{
    rjob *j = malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    r->desc->ops.schedule_after(r->self, &j->base, delay_ns, 0);
}

/* ---- workloads (the same shapes as peer_pthread.c) ----------------------- */

static bench_latch latch;

static void tiny(void *arg)
{
    (void)arg;
    bench_latch_count_down(&latch);
}

static int raw_w1(void *ctx, size_t n, double *ns)
{
    bench_latch_init(&latch, n);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        submit(ctx, tiny, NULL);
    bench_latch_wait(&latch);
    *ns = (double)(bench_now_ns() - t0) / (double)n;
    bench_latch_fini(&latch);
    return bench_latch_ok(&latch);
}

static int raw_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    uint64_t t0 = bench_now_ns();
    for (size_t r = 0; r < rounds; r++) {
        bench_latch_init(&latch, width);
        for (size_t i = 0; i < width; i++)
            submit(ctx, tiny, NULL);
        bench_latch_wait(&latch);
        bench_latch_fini(&latch);
        if (bench_latch_ok(&latch) != 0)
            return -1;
    }
    *ns = (double)(bench_now_ns() - t0) / (double)(rounds * width);
    return 0;
}

static uint64_t *chain_sent, *chain_start;
static size_t chain_n;

static void chain_step(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    chain_start[i] = bench_now_ns();
    if (i + 1 < chain_n) {
        chain_sent[i + 1] = bench_now_ns();
        submit(the_raw, chain_step, (void *)(uintptr_t)(i + 1));
    }
    tiny(NULL);
}

static int raw_w3(void *ctx, size_t n, double *median, double *p99)
{
    uint64_t *hop = malloc(n * sizeof *hop);
    chain_n = n;
    chain_sent = calloc(n, sizeof *chain_sent);
    chain_start = calloc(n, sizeof *chain_start);
    bench_latch_init(&latch, n);
    chain_sent[0] = bench_now_ns();
    submit(ctx, chain_step, (void *)(uintptr_t)0);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    for (size_t i = 0; i < n; i++)
        hop[i] = chain_start[i] - chain_sent[i];
    bench_percentiles(hop, n, median, p99);
    free(hop);
    free(chain_sent);
    free(chain_start);
    return bench_latch_ok(&latch);
}

static uint64_t *t_due, *t_ran;

static void timer_fired(void *arg)
{
    t_ran[(uintptr_t)arg] = bench_now_ns();
    tiny(NULL);
}

static int raw_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    t_due = calloc(2 * s->n, sizeof *t_due);
    t_ran = calloc(s->n, sizeof *t_ran);
    bench_latch_init(&latch, s->n);
    for (size_t i = 0; i < s->n; i++) {
        t_due[i] = bench_now_ns() + s->delay_ns[i];
        submit_after(ctx, s->delay_ns[i], timer_fired, (void *)(uintptr_t)i);
        t_due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    bench_lateness(t_due, t_ran, s->n, out);
    free(t_due);
    free(t_ran);
    return bench_latch_ok(&latch);
}

static bench_gate gate;
static void hold(void *arg)
{
    (void)arg;
    bench_gate_hold(&gate);
}

static int raw_w5(void *ctx, size_t n, double *bytes)
{
    raw *r = ctx;
    unsigned nthreads = r->desc->ops.num_cpus ? r->desc->ops.num_cpus(r->self) : bench_threads();
    bench_gate_init(&gate);
    for (unsigned i = 0; i < nthreads; i++)
        submit(r, hold, NULL);
    bench_gate_wait_entered(&gate, nthreads);
    bench_latch_init(&latch, n);
    size_t before = bench_heap_bytes();
    for (size_t i = 0; i < n; i++)
        submit(r, tiny, NULL);
    *bytes = (double)(bench_heap_bytes() - before) / (double)n;
    bench_gate_open(&gate);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    bench_gate_fini(&gate);
    return bench_latch_ok(&latch);
}

static void raw_fini(void *ctx)
{
    raw *r = ctx;
    r->desc->ops.destroy(r->self);
    dlclose(r->lib);
    free(r);
    the_raw = NULL;
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
    the_raw = r;
    memset(impl, 0, sizeof *impl);
    snprintf(names[nnames % 8], sizeof names[0], "raw:%s", backend);
    impl->name = names[nnames++ % 8];
    impl->ours = 1;
    impl->w1 = raw_w1;
    impl->w2 = raw_w2;
    impl->w3 = raw_w3;
    impl->w4 = r->desc->ops.schedule_after ? raw_w4 : NULL;
    impl->w5 = raw_w5;
    impl->ctx = r;
    impl->fini = raw_fini;
    return 0;
}
