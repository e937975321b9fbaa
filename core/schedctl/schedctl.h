/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/schedctl.h - what schedctl's command files share.
 *
 * Each command lives in core/schedctl/<name>.c as
 * `int sched__cmd_<name>(int argc, char **argv)`, where argv[0] is the
 * command's name; it returns the process exit status (SCHEDCTL_OK,
 * SCHEDCTL_FAIL, SCHEDCTL_USAGE) and answers -h/--help itself.
 */
#ifndef SCHED_SCHEDCTL_H
#define SCHED_SCHEDCTL_H

#include <stdio.h>

#include "internal.h"
#include "keeper.h"

#define SCHEDCTL_OK 0
#define SCHEDCTL_FAIL 1
#define SCHEDCTL_USAGE 2

int sched__cmd_list(int argc, char **argv);
int sched__cmd_check(int argc, char **argv);
int sched__cmd_info(int argc, char **argv);
int sched__cmd_trace_summary(int argc, char **argv);
int sched__cmd_explain(int argc, char **argv);
int sched__cmd_shrink(int argc, char **argv);
int sched__cmd_conform(int argc, char **argv);
int sched__cmd_bench(int argc, char **argv);

/*
 * Where commands print: stdout and stderr, except in a probe child
 * (sched__ctl_isolated), where they are buffers the parent prints once
 * the child reports it is done; the plugin's own fd 1 and 2 there go to
 * /dev/null.
 */
extern FILE *sched__ctl_out;
extern FILE *sched__ctl_err;
#define SCHED__CTL_OUT (sched__ctl_out != NULL ? sched__ctl_out : stdout)
#define SCHED__CTL_ERR (sched__ctl_err != NULL ? sched__ctl_err : stderr)

/* s (a plugin's string) for a terminal, in buf: control characters as
 * \n, \t, \r or \xNN, cut with "..." to fit len (at least 8). */
const char *sched__ctl_esc(const char *s, char *buf, size_t len);

/* "schedctl: <message>" on SCHED__CTL_ERR, control characters escaped. */
void sched__ctl_error(const char *fmt, ...) SCHED__PRINTF(1, 2);

/* A sched_log_fn: the library's log lines on stderr, except debug chatter. */
void sched__ctl_log_to_stderr(int level, const char *msg, void *data);

/*
 * conform and bench: run schedctl-suite (suite.c) with argv (argv[0] is
 * the command's name), which links CUnit so that schedctl need not.
 * Returns its exit status, or SCHEDCTL_FAIL when it cannot be run.
 */
int sched__ctl_run_suite(int argc, char **argv);

/*
 * Parse the options every config-reading command takes: -c FILE,
 * --config FILE, --config=FILE, -h, --help.  Sets *config (NULL when not
 * given).  Returns -1 to go on, or an exit status: SCHEDCTL_OK after
 * printing usage for --help, SCHEDCTL_USAGE after a usage error.
 */
int sched__ctl_config_options(int argc, char **argv, const char *usage, const char **config);

/*
 * The same options, then the config they name: -1 with *cfg (the caller
 * frees it with sched__config_free) to go on, or an exit status, the
 * config's error printed for SCHEDCTL_FAIL.
 */
int sched__ctl_load_config(int argc, char **argv, const char *usage, struct sched__config **cfg);

/*
 * Run fn(arg) in a child process (in this one on Windows), so that plugin
 * code that crashes or never returns takes only the child down.  fn's
 * return value is sent to the parent in a final "done" record, after
 * what fn printed on SCHED__CTL_OUT/ERR, which the parent then prints.
 * The child runs in its own process group under a keeper process, which
 * ends every process of the probe (on Linux even those that left the
 * group: it is their subreaper) before this returns.
 * Returns fn's value; SCHEDCTL_CRASHED with the signal in *sig;
 * SCHEDCTL_NORESULT with the exit status in *sig when the child ended
 * without sending "done" (it exited, or closed the pipe); or
 * SCHEDCTL_TIMEDOUT when the child ran longer than
 * sched__ctl_probe_timeout() seconds and was killed.  plugin is then the
 * plugin file the child opened last ("" when none).
 */
#define SCHEDCTL_CRASHED (-2)
#define SCHEDCTL_TIMEDOUT (-3)
#define SCHEDCTL_NORESULT (-4)
int sched__ctl_isolated(int (*fn)(void *arg), void *arg, char *plugin, size_t len, int *sig);

/* $SCHEDCTL_PROBE_TIMEOUT, a whole number of seconds from 1 to 86400, or
 * the default when unset. */
#define SCHEDCTL_PROBE_TIMEOUT_DEFAULT 30u
unsigned sched__ctl_probe_timeout(void);
/* 0 when $SCHEDCTL_PROBE_TIMEOUT is unset or valid; else -1 after saying
 * why. */
int sched__ctl_probe_timeout_check(void);
/* "PLUGIN: exited with status N before the probe finished". */
void sched__ctl_report_noresult(const char *plugin, const char *what, int status);

/* "schedctl: PLUGIN: crashed with signal N" (or WHAT crashed, when no
 * plugin was being opened). */
void sched__ctl_report_crash(const char *plugin, const char *what, int sig);
/* "schedctl: PLUGIN: did not return within N s" (or WHAT did not...). */
void sched__ctl_report_timeout(const char *plugin, const char *what);
/* For sched__ctl_isolated's result rc: report a crash or a timeout and
 * return SCHEDCTL_FAIL; any other rc is returned as it is. */
int sched__ctl_report_isolated(int rc, const char *plugin, const char *what, int sig);

#endif
