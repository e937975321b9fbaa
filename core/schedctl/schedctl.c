/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/schedctl.c - schedctl(1): inspect backends and configurations.
 *
 * This file holds the command table and the options every command
 * shares; each command is its own file (<name>.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "schedctl.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

/*
 * The commands, in the order --help lists them.  Adding one is one line
 * here, its declaration in schedctl.h and its file in core/schedctl/Makefile.am.
 * conform and bench are run by schedctl-suite (suite.c), which needs
 * CUnit; this program does not.
 */
static const struct command commands[] = {
    { "list", sched__cmd_list, "list the backends found and the one the config selects" },
    { "check", sched__cmd_check, "validate a config and load its backend" },
    { "info", sched__cmd_info, "show the effective config and where each value came from" },
    { "trace-summary", sched__cmd_trace_summary, "summarize a Chrome trace written by the test backend" },
    { "explain", sched__cmd_explain, "print a replay file of the test backend as sentences" },
    { "shrink", sched__cmd_shrink, "shrink a failing replay file to the decisions that matter" },
    { "conform", sched__ctl_run_suite, "run the conformance suite against backends by name" },
    { "bench", sched__ctl_run_suite, "measure the scheduler workloads W1-W5 on backends" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

int sched__ctl_config_options(int argc, char **argv, const char *usage, const char **config)
{
    *config = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return SCHEDCTL_OK;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                sched__ctl_error("%s: option %s needs a file", argv[0], a);
                return SCHEDCTL_USAGE;
            }
            *config = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            *config = a + 9;
        } else {
            sched__ctl_error("%s: unexpected argument \"%s\"", argv[0], a);
            fputs(usage, stderr);
            return SCHEDCTL_USAGE;
        }
    }
    return -1;
}

int sched__ctl_load_config(int argc, char **argv, const char *usage, struct sched__config **cfg)
{
    const char *config;
    sched_error *err = NULL;
    int rc = sched__ctl_config_options(argc, argv, usage, &config);
    if (rc >= 0)
        return rc;
    if (sched__config_load(config, cfg, &err) != 0) {
        sched__ctl_error("%s", sched_error_message(err));
        sched_error_free(err);
        return SCHEDCTL_FAIL;
    }
    return -1;
}

static void usage(FILE *out)
{
    fputs("usage: schedctl [--help | --version] COMMAND [ARGS]\n"
          "\n"
          "Inspect libsched backends and configurations.\n"
          "\n"
          "commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "\"schedctl COMMAND --help\" (or \"schedctl help COMMAND\") describes a command.\n"
          "See schedctl(1) and sched.conf(5).\n", out);
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* What main returns, after the check that stdout took it all: a listing
 * cut short by a full disk is a failure. */
static int finish(int rc)
{
    if (ferror(stdout) | (fclose(stdout) != 0)) {
        sched__ctl_error("cannot write the output: %s", strerror(errno));
        return rc == SCHEDCTL_OK ? SCHEDCTL_FAIL : rc;
    }
    return rc;
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    return finish(run(argc, argv));
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SCHEDCTL_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        usage(stdout);
        return SCHEDCTL_OK;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
        printf("schedctl (libsched) %s\nplugin ABI %d.%d\nplugin directory: %s\n", PACKAGE_VERSION,
               SCHED_PLUGIN_ABI_MAJOR, SCHED_PLUGIN_ABI_MINOR, sched__builtin_plugin_dir());
        return SCHEDCTL_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return SCHEDCTL_OK;
        }
        const struct command *c = find(argv[2]);
        if (c == NULL) {
            sched__ctl_error("unknown command \"%s\"", argv[2]);
            return SCHEDCTL_USAGE;
        }
        char *help_argv[] = { argv[2], (char *)"--help", NULL };
        return c->run(2, help_argv);
    }
    if (a[0] == '-') {
        sched__ctl_error("unknown option \"%s\" (try \"schedctl --help\")", a);
        return SCHEDCTL_USAGE;
    }
    const struct command *c = find(a);
    if (c == NULL) {
        sched__ctl_error("unknown command \"%s\" (try \"schedctl --help\")", a);
        return SCHEDCTL_USAGE;
    }
    if (sched__ctl_probe_timeout_check() != 0)
        return SCHEDCTL_USAGE;
    sched_log_set_handler(sched__ctl_log_to_stderr, NULL);
    return c->run(argc - 1, argv + 1);
}
