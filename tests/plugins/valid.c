/* SPDX-License-Identifier: MIT */
/* tests/plugins/valid.c - a correct backend: the loader's happy path.
 *
 * Declares one key of each type; query("fixture.config", 1) returns what
 * create() read through the host's config services, so tests can see the
 * values a backend receives. */
#include <string.h>

#include "fixture.h"

struct fixture_config {
    int64_t answer;
    int flag;
    double ratio;
    char name[64];
    int found;              /* bitmask of the keys present */
};

static struct fixture_config seen;

static const sched_config_key keys[] = {
    { "answer", SCHED_CONFIG_INT, 0, 100, "an integer in [0, 100]" },
    { "flag", SCHED_CONFIG_BOOL, 0, 0, "a boolean" },
    { "ratio", SCHED_CONFIG_FLOAT, 0, 0, "a number" },
    { "name", SCHED_CONFIG_STRING, 0, 0, "a string" },
    { "veto", SCHED_CONFIG_INT, 0, 1, "1 makes create() reject the value through config_error" },
    { NULL, 0, 0, 0, NULL },
};

static int valid_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    const sched_host_services *svc = env->svc;
    sched_plugin_host *h = env->host;
    const char *s;
    int64_t veto;
    memset(&seen, 0, sizeof seen);
    if (svc->config_int(h, "answer", &seen.answer) == 0)
        seen.found |= 1;
    if (svc->config_bool(h, "flag", &seen.flag) == 0)
        seen.found |= 2;
    if (svc->config_float(h, "ratio", &seen.ratio) == 0)
        seen.found |= 4;
    if (svc->config_string(h, "name", &s) == 0) {
        snprintf(seen.name, sizeof seen.name, "%s", s);
        seen.found |= 8;
    }
    if (svc->config_int(h, "veto", &veto) == 0 && veto == 1) {
        svc->config_error(h, "veto", "is vetoed by the backend", err, errlen);
        return SCHED_ECONFIG;
    }
    svc->log(h, SCHED_LOG_INFO, "created");
    return fixture_create(env, self, err, errlen);
}

static const void *valid_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (strcmp(iface, "fixture.config") == 0 && version == 1)
        return &seen;
    return NULL;
}

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "valid",
    .description = "test fixture: a correct backend",
    .version = "1.2.3",
    .config_keys = keys,
    .ops = {
        .create = valid_create,
        .destroy = fixture_destroy,
        .schedule = fixture_schedule,
        .schedule_main = fixture_schedule,
        .run = fixture_run,
        .stop = fixture_stop,
        .query = valid_query,
    },
};

FIXTURE_ENTRY(desc)
