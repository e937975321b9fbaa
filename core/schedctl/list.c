/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/list.c - "schedctl list": the backends this machine has.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "schedctl.h"

#ifndef SCHED_LINUX_STATUS
#define SCHED_LINUX_STATUS "yes"
#endif
#ifndef SCHED_MAC_STATUS
#define SCHED_MAC_STATUS "not configured"
#endif
#ifndef SCHED_WINDOWS_STATUS
#define SCHED_WINDOWS_STATUS "not configured"
#endif

static const char usage[] =
    "usage: schedctl list [-c FILE]\n"
    "\n"
    "List every backend found along the plugin path and in the built-in\n"
    "directory: name, version, plugin ABI and file.  \"*\" marks the one the\n"
    "effective config selects.  A plugin the loader would refuse is listed\n"
    "with the reason, one that crashes while being opened (each is opened\n"
    "in a child process) with the signal, and one that hangs with the time\n"
    "it was given (SCHEDCTL_PROBE_TIMEOUT), one that exits before the\n"
    "probe finished with its status; a backend this build knows\n"
    "of but did not build is listed as missing with the reason configure\n"
    "recorded.  A file of a name listed already, in a later directory, is\n"
    "listed as shadowed by the one a load takes.\n"
    "\n"
    "  -c, --config FILE   read FILE instead of the lookup order of sched.conf(5)\n";

/* Backends this source tree provides, and whether configure built them. */
static const struct known {
    const char *name;
    const char *status;     /* "yes..." when built */
} known[] = {
    { "linux", SCHED_LINUX_STATUS },
    { "test", "yes" },
    { "cloudflare-sim", "yes" },
    { "mac", SCHED_MAC_STATUS },
    { "windows", SCHED_WINDOWS_STATUS },
};

/* The names listed so far and the file each was listed from: a later
 * directory's file of the same name is shadowed by it (a load takes the
 * first along the search path). */
struct list_state {
    const char *selected;
    int selected_found;
    struct found {
        char name[64];
        char path[4096];
    } found[64];
    size_t nfound;
};

struct probe {
    const char *name, *path;
    int sel;
};

/* In the child: open the plugin and print its line. */
static int probe_one(void *arg)
{
    const struct probe *pr = arg;
    struct sched__plugin p;
    sched_error *err = NULL;
    FILE *out = SCHED__CTL_OUT;
    if (sched__plugin_open(pr->path, NULL, &p, &err) != 0) {
        /* The loader's sentence is "plugin PATH refused: REASON": the
         * column already says refused, and the path goes last. */
        char shown[4096];
        const char *msg = sched__ctl_esc(sched_error_message(err), shown, sizeof shown);
        char prefix[4200];
        snprintf(prefix, sizeof prefix, "plugin %s refused: ", pr->path);
        if (strncmp(msg, prefix, strlen(prefix)) == 0)
            fprintf(out, "%c %-14s refused: %s (%s)\n", pr->sel ? '*' : ' ', pr->name, msg + strlen(prefix),
                    pr->path);
        else
            fprintf(out, "%c %-14s refused: %s\n", pr->sel ? '*' : ' ', pr->name, msg);
        sched_error_free(err);
        return 0;
    }
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)p.desc->abi_major, (unsigned)p.desc->abi_minor);
    char version[256];
    fprintf(out, "%c %-14s %-7s %-3s %s\n", pr->sel ? '*' : ' ', pr->name,
            sched__ctl_esc(p.desc->version, version, sizeof version), abi, pr->path);
    sched__plugin_close(&p);
    return 0;
}

static const struct found *find_found(const struct list_state *st, const char *name)
{
    for (size_t i = 0; i < st->nfound; i++) {
        if (strcmp(st->found[i].name, name) == 0)
            return &st->found[i];
    }
    return NULL;
}

static void show(const char *name, const char *path, void *arg)
{
    struct list_state *st = arg;
    const struct found *first = find_found(st, name);
    if (first != NULL) {
        /* Never loaded, so not opened either; a directory named twice
         * along the path is listed once. */
        if (strcmp(first->path, path) != 0)
            printf("  %-14s shadowed by %s (%s)\n", name, first->path, path);
        return;
    }
    int sel = strcmp(name, st->selected) == 0;
    st->selected_found |= sel;
    if (st->nfound < sizeof st->found / sizeof st->found[0]) {
        snprintf(st->found[st->nfound].name, sizeof st->found[0].name, "%s", name);
        snprintf(st->found[st->nfound++].path, sizeof st->found[0].path, "%s", path);
    }

    struct probe pr = { name, path, sel };
    char plugin[4096];
    int sig;
    int rc = sched__ctl_isolated(probe_one, &pr, plugin, sizeof plugin, &sig);
    if (rc == SCHEDCTL_CRASHED)
        printf("%c %-14s %s: crashed with signal %d\n", sel ? '*' : ' ', name, path, sig);
    else if (rc == SCHEDCTL_TIMEDOUT)
        printf("%c %-14s %s: did not return within %u s\n", sel ? '*' : ' ', name, path,
               sched__ctl_probe_timeout());
    else if (rc == SCHEDCTL_NORESULT)
        printf("%c %-14s %s: exited with status %d before the probe finished\n", sel ? '*' : ' ', name,
               path, sig);
    else if (rc != SCHEDCTL_OK)
        printf("%c %-14s %s: failed with status %d\n", sel ? '*' : ' ', name, path, rc);
}


int sched__cmd_list(int argc, char **argv)
{
    struct sched__config *cfg;
    int rc = sched__ctl_load_config(argc, argv, usage, &cfg);
    if (rc >= 0)
        return rc;
    const char **dirs;
    size_t ndirs = sched__plugin_search_dirs(cfg, &dirs);
    if (dirs == NULL) {
        sched__ctl_error("out of memory");
        sched__config_free(cfg);
        return SCHEDCTL_FAIL;
    }

    static struct list_state st;
    memset(&st, 0, sizeof st);
    st.selected = sched__config_backend(cfg);
    printf("  %-14s %-7s %-3s %s\n", "BACKEND", "VERSION", "ABI", "FILE");
    /* A directory at a time: the loader lists each name once along the
     * whole path, and the files it passes over are shown as shadowed. */
    for (size_t i = 0; i < ndirs; i++)
        sched__plugin_each(dirs + i, 1, show, &st);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (find_found(&st, known[i].name) != NULL)
            continue;
        int sel = strcmp(known[i].name, st.selected) == 0;
        if (strncmp(known[i].status, "yes", 3) == 0)
            printf("%c %-14s missing: built but not found along the search path\n",
                   sel ? '*' : ' ', known[i].name);
        else
            printf("%c %-14s missing: %s\n", sel ? '*' : ' ', known[i].name, known[i].status);
        st.selected_found |= sel;
    }
    if (!st.selected_found)
        printf("* %-14s missing: not found along the search path\n", st.selected);

    printf("\nselected:    %s (set at %s)\nconfig:      %s (%s)\nsearch path:", st.selected,
           sched__config_backend_origin(cfg), sched__config_file(cfg), sched__config_source(cfg));
    for (size_t i = 0; i < ndirs; i++)
        printf(" %s", dirs[i]);
    putchar('\n');
    free(dirs);
    sched__config_free(cfg);
    return SCHEDCTL_OK;
}
