/* SPDX-License-Identifier: MIT */
/*
 * core/services.c - the table of host services every plugin receives.
 *
 * A plugin reaches the host only through this table, so it never links
 * against libsched.  The sched_plugin_host handle a backend holds is the
 * sched_host itself.
 */
#include "config.h"

#include <stdio.h>

#include "internal.h"

static sched_host *host_of(sched_plugin_host *h)
{
    return (sched_host *)h;
}

/* Backend lines go to the application's handler, prefixed with the
 * backend's name so a reader knows who spoke. */
static void svc_log(sched_plugin_host *h, int level, const char *msg)
{
    sched_host *host = host_of(h);
    const char *name = host != NULL && host->desc != NULL ? host->desc->name : "backend";
    sched__log(level, "%s: %s", name, msg != NULL ? msg : "");
}

static int config_get(sched_plugin_host *h, const char *key, sched_config_type type, void *out)
{
    sched_host *host = host_of(h);
    if (host == NULL || host->desc == NULL || key == NULL || out == NULL)
        return SCHED_EINVAL;
    return sched__config_get(host->cfg, host->desc->name, key, type, out);
}

static int svc_config_int(sched_plugin_host *h, const char *key, int64_t *out)
{
    return config_get(h, key, SCHED_CONFIG_INT, out);
}

static int svc_config_bool(sched_plugin_host *h, const char *key, int *out)
{
    return config_get(h, key, SCHED_CONFIG_BOOL, out);
}

static int svc_config_float(sched_plugin_host *h, const char *key, double *out)
{
    return config_get(h, key, SCHED_CONFIG_FLOAT, out);
}

static int svc_config_string(sched_plugin_host *h, const char *key, const char **out)
{
    return config_get(h, key, SCHED_CONFIG_STRING, out);
}

static void svc_config_error(sched_plugin_host *h, const char *key, const char *reason, char *err,
                             size_t errlen)
{
    sched_host *host = host_of(h);
    if (err == NULL || errlen == 0)
        return;
    if (host == NULL || host->desc == NULL || key == NULL) {
        snprintf(err, errlen, "%s", reason != NULL ? reason : "invalid setting");
        return;
    }
    sched__config_key_error(host->cfg, host->desc->name, key,
                            reason != NULL ? reason : "invalid value", err, errlen);
}

static int svc_task_is_live(sched_plugin_host *h, uint64_t task_id)
{
    return sched__task_is_live(host_of(h), task_id);
}

static size_t svc_describe_tasks(sched_plugin_host *h, char *buf, size_t len)
{
    return sched__describe_tasks(host_of(h), buf, len);
}

const sched_host_services sched__services = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
    .run = sched__runnable_run,
    .drop = sched__runnable_drop,
    .info = sched__runnable_info,
    .log = svc_log,
    .config_int = svc_config_int,
    .config_bool = svc_config_bool,
    .config_float = svc_config_float,
    .config_string = svc_config_string,
    .config_error = svc_config_error,
    .task_is_live = svc_task_is_live,
    .describe_tasks = svc_describe_tasks,
    .getenv = sched__test_getenv,
};
