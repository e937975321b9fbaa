/* SPDX-License-Identifier: MIT */
/*
 * tests/plugin_fakehost.c - the minimal host of plugin_fakehost.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "plugin_fakehost.h"

uint64_t order[4096];
size_t norder;

static void fake_run(sched_runnable *r)
{
    fake_runnable *f = (fake_runnable *)r;
    f->ran++;
    f->ran_on = sched__thread_self();
    if (norder < sizeof order / sizeof order[0])
        order[norder++] = f->task_id;
    if (f->fn)
        f->fn(f);
}

int shown[16];

void count_shown(void *ctx, const sched_runnable *r)
{
    (void)ctx;
    shown[((const fake_runnable *)r)->task_id]++;
}

static void fake_drop(sched_runnable *r)
{
    ((fake_runnable *)r)->dropped++;
}

static int fake_info(const sched_runnable *r, sched_runnable_info *out)
{
    const fake_runnable *f = (const fake_runnable *)r;
    out->priority = f->priority;
    out->task_id = f->task_id;
    out->executor_id = f->executor_id;
    out->session_id = f->session_id;
    out->label = f->label;
    out->file = "plugin_fakehost.c";
    out->func = "fake";
    out->line = 7;
    return 0;
}

char last_log[1024];
int nlogs;

static void fake_log(sched_plugin_host *h, int level, const char *msg)
{
    (void)h;
    (void)level;
    snprintf(last_log, sizeof last_log, "%s", msg);
    nlogs++;
}

/* The backend's config group, set per test. */
static struct { const char *key; int64_t value; const char *str; } config[8];
static int nconfig;

void config_set(const char *key, int64_t value)
{
    config[nconfig].key = key;
    config[nconfig].value = value;
    config[nconfig].str = NULL;
    nconfig++;
}

void config_set_str(const char *key, const char *value)
{
    config[nconfig].key = key;
    config[nconfig].str = value;
    nconfig++;
}

static int lookup(const char *key)
{
    for (int i = 0; i < nconfig; i++)
        if (strcmp(config[i].key, key) == 0)
            return i;
    return -1;
}

static int fake_config_int(sched_plugin_host *h, const char *key, int64_t *out)
{
    (void)h;
    int i = lookup(key);
    if (i < 0 || config[i].str)
        return SCHED_ENOENT;
    *out = config[i].value;
    return 0;
}

static int fake_config_bool(sched_plugin_host *h, const char *key, int *out)
{
    int64_t v;
    int rc = fake_config_int(h, key, &v);
    if (rc == 0)
        *out = v != 0;
    return rc;
}

static int fake_config_float(sched_plugin_host *h, const char *key, double *out)
{
    (void)h;
    (void)key;
    (void)out;
    return SCHED_ENOENT;
}

static int fake_config_string(sched_plugin_host *h, const char *key, const char **out)
{
    (void)h;
    int i = lookup(key);
    if (i < 0 || !config[i].str)
        return SCHED_ENOENT;
    *out = config[i].str;
    return 0;
}

static void fake_config_error(sched_plugin_host *h, const char *key, const char *reason,
                              char *err, size_t errlen)
{
    (void)h;
    snprintf(err, errlen, "test.%s %s", key, reason);
}

static int fake_task_is_live(sched_plugin_host *h, uint64_t id)
{
    (void)h;
    return id == 1;
}

const char *described = "";

static size_t fake_describe_tasks(sched_plugin_host *h, char *buf, size_t len)
{
    (void)h;
    return (size_t)snprintf(buf, len, "%s", described);
}

const char *env_seed, *env_trace;

static const char *fake_getenv(const char *name)
{
    if (strcmp(name, "SCHED_SEED") == 0)
        return env_seed;
    if (strcmp(name, "SCHED_TRACE") == 0)
        return env_trace;
    return NULL;
}

const sched_host_services services = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
    .run = fake_run,
    .drop = fake_drop,
    .info = fake_info,
    .log = fake_log,
    .config_int = fake_config_int,
    .config_bool = fake_config_bool,
    .config_float = fake_config_float,
    .config_string = fake_config_string,
    .config_error = fake_config_error,
    .task_is_live = fake_task_is_live,
    .describe_tasks = fake_describe_tasks,
    .getenv = fake_getenv,
};

static void *lib;
const sched_plugin_descriptor *desc;
const sched_backend_ops *ops;

int fakehost_load(const char *name)
{
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/%s/.libs/%s" SCHED__PLUGIN_SUFFIX, top ? top : "..",
             name, name);
    char why[1024];
    lib = sched__dl_open(path, why, sizeof why);
    if (lib == NULL) {
        fprintf(stderr, "%s: %s\n", path, why);
        return -1;
    }
    sched_plugin_entry_fn entry = (sched_plugin_entry_fn)sched__dl_sym(lib, SCHED_PLUGIN_ENTRY_NAME);
    if (entry == NULL)
        return -1;
    desc = entry(&services);
    if (desc == NULL)
        return -1;
    ops = &desc->ops;
    return 0;
}

int fakehost_unload(void)
{
    sched__dl_close(lib);
    return 0;
}

void reset(void)
{
    nconfig = 0;
    env_seed = NULL;
    env_trace = NULL;
    norder = 0;
    described = "";
    nlogs = 0;
    last_log[0] = '\0';
}

void *open_backend(void)
{
    sched_backend_env env = { sizeof env, &services, NULL };
    void *self = NULL;
    char err[256] = "";
    int rc = ops->create(&env, &self, err, sizeof err);
    if (rc)
        fprintf(stderr, "create: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return self;
}

const sched_test_iface_v1 *iface(void *self)
{
    const sched_test_iface_v1 *t = ops->query(self, "sched.test", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

fake_runnable *make(size_t n)
{
    fake_runnable *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].task_id = i + 1;
        v[i].priority = SCHED_PRIORITY_MEDIUM;
    }
    return v;
}
