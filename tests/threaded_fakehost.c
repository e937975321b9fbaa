/* SPDX-License-Identifier: MIT */
/*
 * tests/threaded_fakehost.c - the host of the threaded backends' tests:
 * see threaded_fakehost.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <sched.h>
#endif

#include <CUnit/CUnit.h>

#include "threaded_fakehost.h"

const sched_plugin_descriptor *desc;
void *self;
char log_text[4096];
atomic_int consumed, stop_after = -1;
atomic_int run_seq;
atomic_int done_count;
atomic_int gate_entered;

static void *lib;
static sched__thread_id main_thread;
static const char *cfg_key;
static int64_t cfg_value;
static sched__mutex log_mu;
static uint32_t gate_open;

static void svc_run(sched_runnable *r)
{
    trun *t = (trun *)r;
    t->order = atomic_fetch_add(&run_seq, 1);
    t->ran_at = desc->ops.now(self);
    t->ran_on_main = desc->ops.is_main_thread(self);
#if !defined(_WIN32)
    struct sched_param sp;
    pthread_getschedparam(pthread_self(), &t->policy, &sp);
#endif
    t->thread = sched__thread_self();
    if (sched__thread_equal(t->thread, main_thread))
        atomic_fetch_add(&t->runs_on_main, 1);
    if (t->due != 0 && t->ran_at < t->due)
        atomic_fetch_add(&t->early, 1);
    atomic_fetch_add(&t->runs, 1);
    if (atomic_fetch_add(&consumed, 1) + 1 == atomic_load(&stop_after))
        desc->ops.stop(self);
    if (t->fn)
        t->fn(t);
}

static void svc_drop(sched_runnable *r)
{
    atomic_fetch_add(&((trun *)r)->drops, 1);
    atomic_fetch_add(&consumed, 1);
}

static int svc_info(const sched_runnable *r, sched_runnable_info *out)
{
    const trun *t = (const trun *)r;
    memset(out, 0, out->size);
    out->size = sizeof *out;
    out->priority = (uint32_t)t->prio;
    out->task_id = (uint64_t)(uintptr_t)t;
    return 0;
}

static void svc_log(sched_plugin_host *h, int level, const char *msg)
{
    (void)h; (void)level;
    sched__mutex_lock(&log_mu);
    strncat(log_text, msg, sizeof log_text - strlen(log_text) - 2);
    strcat(log_text, "\n");
    sched__mutex_unlock(&log_mu);
}

static int svc_config_int(sched_plugin_host *h, const char *key, int64_t *out)
{
    (void)h;
    if (cfg_key != NULL && strcmp(key, cfg_key) == 0) {
        *out = cfg_value;
        return 0;
    }
    return SCHED_ENOENT;
}

static void svc_config_error(sched_plugin_host *h, const char *key, const char *reason,
                             char *err, size_t errlen)
{
    (void)h;
    snprintf(err, errlen, "test.conf:1: %s.%s: %s", desc->name, key, reason);
}

const sched_host_services services = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
    .run = svc_run,
    .drop = svc_drop,
    .info = svc_info,
    .log = svc_log,
    .config_int = svc_config_int,
    .config_error = svc_config_error,
};

int fakehost_load(const char *name)
{
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    char path[4096], why[1024];
    sched_plugin_entry_fn entry;
    void *sym;

    snprintf(path, sizeof path, "%s%cplugins%c%s%c.libs%c%s" SCHED__PLUGIN_SUFFIX,
             top ? top : "..", SCHED__PATH_SEP, SCHED__PATH_SEP, name, SCHED__PATH_SEP,
             SCHED__PATH_SEP, name);
    sched__mutex_init(&log_mu);
    main_thread = sched__thread_self();
    lib = sched__dl_open(path, why, sizeof why);
    if (lib == NULL) {
        fprintf(stderr, "%s: %s\n", path, why);
        return -1;
    }
    sym = sched__dl_sym(lib, SCHED_PLUGIN_ENTRY_NAME);
    if (sym == NULL) {
        fprintf(stderr, "%s has no %s\n", path, SCHED_PLUGIN_ENTRY_NAME);
        return -1;
    }
    memcpy(&entry, &sym, sizeof entry);
    desc = entry(&services);
    if (desc == NULL) {
        fprintf(stderr, "%s has no usable entry point\n", path);
        return -1;
    }
    return 0;
}

int fakehost_unload(void)
{
    sched__dl_close(lib);
    lib = NULL;
    sched__mutex_destroy(&log_mu);
    return 0;
}

void fakehost_config_int(const char *key, int64_t value)
{
    cfg_key = key;
    cfg_value = value;
}

int fakehost_open(void)
{
    sched_backend_env env = { sizeof env, &services, NULL };
    char err[256] = "";
    atomic_store(&run_seq, 0);
    atomic_store(&consumed, 0);
    atomic_store(&stop_after, -1);
    return desc->ops.create(&env, &self, err, sizeof err);
}

void fakehost_close(void)
{
    desc->ops.destroy(self);
    self = NULL;
}

int wait_count(atomic_int *counter, int n)
{
    uint32_t never = 0;
    for (int i = 0; i < 30000; i++) {
        if (atomic_load(counter) >= n)
            return 0;
        sched__word_wait(&never, 0, 1000000);   /* 1 ms */
    }
    return -1;
}

void count_done(trun *t)
{
    (void)t;
    atomic_fetch_add(&done_count, 1);
}

void gate_close(void)
{
    __atomic_store_n(&gate_open, 0, __ATOMIC_RELEASE);
    atomic_store(&gate_entered, 0);
}

void wait_gate(trun *t)
{
    (void)t;
    atomic_store(&gate_entered, 1);
    while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
        sched__word_wait(&gate_open, 0, SCHED_TIMEOUT_NEVER);
}

void open_gate(void)
{
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    sched__word_wake_all(&gate_open);
}

void block_single_worker(trun *gate)
{
    gate_close();
    memset(gate, 0, sizeof *gate);
    gate->fn = wait_gate;
    CU_ASSERT_EQUAL_FATAL(desc->ops.schedule(self, &gate->base), 0);
    CU_ASSERT_EQUAL_FATAL(wait_count(&gate_entered, 1), 0);
}
