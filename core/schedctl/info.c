/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/info.c - "schedctl info": the effective configuration.
 *
 * The config is read here; the backend's part is read from its plugin in
 * a child process (probe.c), as list and check do.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "schedctl.h"

static const char usage[] =
    "usage: schedctl info [-c FILE]\n"
    "\n"
    "Show the config file in effect and how it was chosen, every setting with\n"
    "its value and where it came from (file:line, an environment variable, or\n"
    "the built-in default), and the settings the selected backend declares,\n"
    "with their types, ranges and descriptions.\n"
    "\n"
    "  -c, --config FILE   read FILE instead of the lookup order of sched.conf(5)\n";

static void show_setting(const char *name, const char *value, const char *origin, void *arg)
{
    (void)arg;
    printf("  %-38s = %-12s # %s\n", name, value, origin);
}

static const char *type_word(sched_config_type t)
{
    switch (t) {
    case SCHED_CONFIG_INT: return "integer";
    case SCHED_CONFIG_BOOL: return "boolean";
    case SCHED_CONFIG_FLOAT: return "number";
    case SCHED_CONFIG_STRING: return "string";
    }
    return "unknown";
}

/* The keys the backend declares, with what the config gives each. */
static void show_keys(const struct sched__config *cfg, const sched_plugin_descriptor *d)
{
    FILE *out = SCHED__CTL_OUT;
    fprintf(out, "\nsettings the %s backend accepts (group \"%s\"):\n", d->name, d->name);
    if (d->config_keys == NULL || d->config_keys[0].name == NULL) {
        fprintf(out, "  (none)\n");
        return;
    }
    for (const sched_config_key *k = d->config_keys; k->name != NULL; k++) {
        char range[64] = "";
        if (k->type == SCHED_CONFIG_INT)
            snprintf(range, sizeof range, " in [%" PRId64 ", %" PRId64 "]", k->min, k->max);
        char value[256] = "(not set: the backend's default)";
        int64_t i;
        int b;
        double f;
        const char *s;
        switch (k->type) {
        case SCHED_CONFIG_INT:
            if (sched__config_get(cfg, d->name, k->name, k->type, &i) == 0)
                snprintf(value, sizeof value, "%" PRId64, i);
            break;
        case SCHED_CONFIG_BOOL:
            if (sched__config_get(cfg, d->name, k->name, k->type, &b) == 0)
                snprintf(value, sizeof value, "%s", b ? "true" : "false");
            break;
        case SCHED_CONFIG_FLOAT:
            if (sched__config_get(cfg, d->name, k->name, k->type, &f) == 0)
                snprintf(value, sizeof value, "%g", f);
            break;
        case SCHED_CONFIG_STRING:
            if (sched__config_get(cfg, d->name, k->name, k->type, &s) == 0)
                snprintf(value, sizeof value, "\"%s\"", s);
            break;
        }
        char doc[1024];
        fprintf(out, "  %s.%s (%s%s) = %s\n      %s\n", d->name, k->name, type_word(k->type), range,
                value, sched__ctl_esc(k->doc, doc, sizeof doc));
    }
}

/* In the child: the backend's line and its settings, which take opening
 * the plugin (its constructors and entry function run). */
static int show_backend(void *arg)
{
    const struct sched__config *cfg = arg;
    const char **dirs;
    size_t ndirs = sched__plugin_search_dirs(cfg, &dirs);
    char *path = NULL;
    struct sched__plugin p;
    sched_error *err = NULL;
    int rc = dirs == NULL ? SCHED_ENOMEM
                          : sched__plugin_find(sched__config_backend(cfg), dirs, ndirs, &path, &err);
    if (rc == 0)
        rc = sched__plugin_open(path, NULL, &p, &err);
    free(path);
    free(dirs);
    if (rc != 0) {
        sched__ctl_error("%s", err != NULL ? sched_error_message(err) : sched_strerror(rc));
        sched_error_free(err);
        return SCHEDCTL_FAIL;
    }
    /* The plugin's strings, escaped: a description is one line. */
    char version[256], description[1024];
    fprintf(SCHED__CTL_OUT, "\nbackend: %s %s, plugin ABI %u.%u, %s\n  %s\n", p.desc->name,
            sched__ctl_esc(p.desc->version, version, sizeof version), (unsigned)p.desc->abi_major,
            (unsigned)p.desc->abi_minor, p.path,
            sched__ctl_esc(p.desc->description, description, sizeof description));
    show_keys(cfg, p.desc);
    rc = sched__config_validate_group(cfg, p.desc->name, p.desc->config_keys, &err);
    sched__plugin_close(&p);
    if (rc != 0) {
        sched__ctl_error("%s", sched_error_message(err));
        sched_error_free(err);
        return SCHEDCTL_FAIL;
    }
    return SCHEDCTL_OK;
}

int sched__cmd_info(int argc, char **argv)
{
    struct sched__config *cfg;
    int rc = sched__ctl_load_config(argc, argv, usage, &cfg);
    if (rc >= 0)
        return rc;
    printf("config file: %s (%s)\n\nsettings:\n", sched__config_file(cfg), sched__config_source(cfg));
    sched__config_each(cfg, show_setting, NULL);

    /* A plugin that crashes or hangs takes only the child down. */
    char plugin[4096];
    int sig;
    rc = sched__ctl_isolated(show_backend, cfg, plugin, sizeof plugin, &sig);
    sched__config_free(cfg);
    return sched__ctl_report_isolated(rc, plugin, "info", sig);
}
