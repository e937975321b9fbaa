/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_runner.c - the conformance suite's runner:
 * every test in a child process of its own, with its own timeout, and its
 * result printed the moment it ends.
 *
 * A broken backend must fail loudly, not take the suite down with it: a
 * runnable run twice is a crash, a runnable lost is a hang, a stop() that
 * is not sticky is a run() that never returns.  So the parent never opens
 * a host; each test (and the first probe of the backend) runs in a child,
 * and the parent reports PASS, FAIL (with the failed assertions, which the
 * child prints), CRASH signal N, or TIMEOUT, each with the test's name.
 * The run ends with a summary in CUnit's layout, which tests/ci/
 * count-results.sh counts.  The config file naming the backend is the
 * parent's, and the parent removes it, also when it is interrupted.
 *
 * On POSIX systems a child is a fork() of the runner (by way of a keeper,
 * see run_child), so a valgrind run checks the children too.  Windows has
 * no fork(): the child is this program run again with CHILD_ENV naming
 * the test.
 *
 * A test's time limit is SCHED_CONFORMANCE_TIMEOUT_MS (or --timeout),
 * times SCHED_CONFORM_TIMEOUT_SCALE when set (the valgrind pass sets it).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#include "conformance.h"
#include "conformance_int.h"
#include "internal.h"     /* plugin_of_config: the loader's search */
#if !defined(_WIN32)
#include "schedctl/keeper.h"
#endif

/* The environment variables that turn a re-run of this program into the
 * child for one test (Windows), and the one that scales every timeout. */
#define CHILD_ENV "SCHED_CONFORM_CHILD"
#define CONFIG_ENV "SCHED_CONFORM_CONFIG"
#define SCALE_ENV "SCHED_CONFORM_TIMEOUT_SCALE"

/* A test's result, as the parent saw its child end. */
enum outcome { OUT_PASS, OUT_FAIL, OUT_CRASH, OUT_TIMEOUT };

/* ---- the child: one test ------------------------------------------------------ */

/* Run test i alone under CUnit; print each failed assertion to stdout.
 * Returns the child's exit status: 0 when the test passed. */
static int child_run_test(size_t i)
{
    const struct conf_test *t = &conf_tests[i];
    CU_pSuite suite;
    CU_FailureRecord *fr;
    int failed = 0;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    suite = CU_add_suite(conf_backend, NULL, NULL);
    if (!suite || !CU_add_test(suite, t->name, t->fn)) {
        CU_cleanup_registry();
        return 2;
    }
    CU_run_all_tests();
    for (fr = CU_get_failure_list(); fr; fr = fr->pNext) {
        printf("      %s:%u: %s\n", fr->strFileName, fr->uiLineNumber, fr->strCondition);
        failed = 1;
    }
    CU_cleanup_registry();
    fflush(NULL);
    return failed;
}

/* The probe, a child too: can the backend be opened at all? */
static int child_probe(void)
{
    sched_host *h = conf_open_host();
    if (!h)
        return 1;
    printf("conformance of backend %s (%s)\n", conf_backend, sched_host_plugin_path(h));
    sched_host_close(h);
    fflush(NULL);
    return 0;
}

/* What child number i runs: the probe for (size_t)-1, else test i. */
static int child_main(size_t i)
{
    return i == (size_t)-1 ? child_probe() : child_run_test(i);
}

/* ---- timeouts ----------------------------------------------------------------- */

/* Milliseconds a test may take: base_ms (0: the default), scaled by
 * SCHED_CONFORM_TIMEOUT_SCALE (for valgrind). */
static unsigned long timeout_ms(unsigned base_ms)
{
    const char *s = getenv(SCALE_ENV);
    double scale = s && *s ? strtod(s, NULL) : 1.0;
    double ms;
    if (!(scale > 0))
        scale = 1.0;
    ms = (double)(base_ms ? base_ms : SCHED_CONFORMANCE_TIMEOUT_MS) * scale;
    return ms > 86400000.0 ? 86400000ul : (unsigned long)ms;
}

#if !defined(_WIN32)

/* ---- POSIX: fork ---------------------------------------------------------------- */

/* Set while a child runs: its keeper and the runner's end of the keeper's
 * socket, so that an interrupted runner ends the test, with whatever it
 * started, and takes the config file with it. */
static volatile pid_t running_keeper;
static volatile int running_ctl = -1;

static void on_signal(int sig)
{
    if (running_keeper > 0) {
        shutdown(running_ctl, SHUT_WR);
        while (waitpid(running_keeper, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    unlink(conf_config_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void (*fn)(int))
{
    signal(SIGINT, fn);
    signal(SIGTERM, fn);
    signal(SIGHUP, fn);
    signal(SIGPIPE, fn);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for the keeper's word (on ctl) that the child has ended, or
 * limit_ms.  Returns 0, or -1 on timeout.  Sleeping in poll() rather than
 * polling waitpid() leaves the CPU to the child. */
static int wait_end(int ctl, unsigned long limit_ms, struct sched__ctl_end *end)
{
    uint64_t deadline = mono_ms() + limit_ms;
    for (;;) {
        struct pollfd p = { ctl, POLLIN, 0 };
        uint64_t now = mono_ms();
        int n;
        if (now >= deadline)
            return -1;
        n = poll(&p, 1, (int)(deadline - now > 60000 ? 60000 : deadline - now));
        if (n < 0 && errno != EINTR)
            return 0;
        if (n > 0) {
            sched__ctl_keeper_read(ctl, end);
            return 0;
        }
    }
}

/* The first open runs the plugin's own code (constructors, entry,
 * create()): a fault there kills the child with its signal, which names
 * the plugin, even where a sanitizer runtime would turn it into exit 1. */
static void plain_crash_signals(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        signal(sigs[k], SIG_DFL);
}

/* What a child runs, and the runner's signal mask to run it with. */
struct child_start {
    size_t i;
    const sigset_t *mask;
};

static void start_child(void *data)
{
    const struct child_start *c = data;
    catch_signals(SIG_DFL);
    sigprocmask(SIG_SETMASK, c->mask, NULL);
    if (c->i == (size_t)-1)
        plain_crash_signals();
    _exit(child_main(c->i));
}

/* Run child i under a keeper (core/schedctl/keeper.c), in a process group
 * of its own, ended with whatever it started (on Linux even what left
 * that group) when it ends or after limit_ms.  *detail gets the signal or
 * exit status. */
static enum outcome run_child(size_t i, unsigned long limit_ms, int *detail)
{
    struct sched__ctl_end end = { 0, 0 };
    sigset_t block, mask;
    int ctl[2], kstatus = 0, timed_out;
    pid_t keeper;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) != 0) {
        *detail = errno;
        return OUT_CRASH;
    }
    fcntl(ctl[0], F_SETFD, FD_CLOEXEC);
    fcntl(ctl[1], F_SETFD, FD_CLOEXEC);
    /* The signals that end the runner wait until the keeper is known. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    sigprocmask(SIG_BLOCK, &block, &mask);
    fflush(NULL);
    keeper = fork();
    if (keeper < 0) {
        *detail = errno;
        sigprocmask(SIG_SETMASK, &mask, NULL);
        close(ctl[0]);
        close(ctl[1]);
        return OUT_CRASH;
    }
    if (keeper == 0) {
        struct child_start c = { i, &mask };
        close(ctl[0]);
        sched__ctl_keeper(ctl[1], -1, start_child, &c);
    }
    close(ctl[1]);
    running_ctl = ctl[0];
    running_keeper = keeper;
    sigprocmask(SIG_SETMASK, &mask, NULL);
    timed_out = wait_end(ctl[0], limit_ms, &end) != 0;
    /* Whatever the test left running goes with it. */
    shutdown(ctl[0], SHUT_WR);
    if (!timed_out && end.kind == 0)
        sched__ctl_keeper_read(ctl[0], &end);
    while (waitpid(keeper, &kstatus, 0) < 0 && errno == EINTR)
        ;
    sigprocmask(SIG_BLOCK, &block, NULL);
    running_keeper = 0;
    running_ctl = -1;
    sigprocmask(SIG_SETMASK, &mask, NULL);
    close(ctl[0]);
    if (timed_out) {
        *detail = 0;
        return OUT_TIMEOUT;
    }
    if (end.kind == 'F') {
        *detail = end.value;
        return OUT_CRASH;
    }
    /* No word from the keeper: the test killed it, and that is its end. */
    if (end.kind == 0 && WIFSIGNALED(kstatus))
        end.kind = 'S', end.value = WTERMSIG(kstatus);
    else if (end.kind == 0)
        end.kind = 'X', end.value = WIFEXITED(kstatus) ? WEXITSTATUS(kstatus) : -1;
    *detail = end.value;
    if (end.kind == 'S')
        return OUT_CRASH;
    return *detail == 0 ? OUT_PASS : OUT_FAIL;
}

static void describe_crash(int sig, char *buf, size_t len)
{
    snprintf(buf, len, "CRASH signal %d (%s)", sig, strsignal(sig));
}

#else

/* ---- Windows: the program again ----------------------------------------------- */

static void catch_signals(void (*fn)(int))
{
    (void)fn;
}

static void on_signal(int sig)
{
    (void)sig;
}

/* Run this program again with CHILD_ENV = "i", its output into ours,
 * terminated after limit_ms. */
static enum outcome run_child(size_t i, unsigned long limit_ms, int *detail)
{
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    wchar_t exe[4096];
    wchar_t *cmd;
    char val[320];
    DWORD code = 0, w;
    BOOL ok;

    fflush(NULL);
    if (!GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]))
        return OUT_CRASH;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    snprintf(val, sizeof val, "%ld:%s", i == (size_t)-1 ? -1L : (long)i, conf_backend);
    cmd = _wcsdup(GetCommandLineW());
    SetEnvironmentVariableA(CHILD_ENV, val);
    SetEnvironmentVariableA(CONFIG_ENV, conf_config_path);
    ok = cmd && CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA(CHILD_ENV, NULL);
    SetEnvironmentVariableA(CONFIG_ENV, NULL);
    free(cmd);
    if (!ok) {
        *detail = (int)GetLastError();
        return OUT_CRASH;
    }
    w = WaitForSingleObject(pi.hProcess, limit_ms);
    if (w != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, INFINITE);
    }
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    if (w != WAIT_OBJECT_0)
        return OUT_TIMEOUT;
    *detail = (int)code;
    if (code == 0)
        return OUT_PASS;
    /* abort() exits 3; an unhandled exception exits with its code. */
    return code == 3 || code >= 0xC0000000u ? OUT_CRASH : OUT_FAIL;
}

static void describe_crash(int code, char *buf, size_t len)
{
    snprintf(buf, len, "CRASH exit code 0x%lx", (unsigned long)(unsigned)code);
}

#endif

/* ---- the parent ------------------------------------------------------------------ */

/* Is test t selected by opt (every test when opt names none)? */
static int selected(const struct conf_test *t, const struct sched_conformance_options *opt)
{
    if (!opt || opt->nonly == 0)
        return 1;
    for (size_t k = 0; k < opt->nonly; k++) {
        if (strstr(t->name, opt->only[k]))
            return 1;
    }
    return 0;
}

/* A Windows child (CHILD_ENV = "i:backend", the config in CONFIG_ENV):
 * run it and exit.  Returns only in the parent. */
static void child_from_env(void)
{
    const char *c = getenv(CHILD_ENV);
    const char *cfg = getenv(CONFIG_ENV);
    const char *colon;
    long i;
    if (!c || !*c || !cfg || !(colon = strchr(c, ':')))
        return;
    i = strtol(c, NULL, 10);
    conf_backend = colon + 1;
    snprintf(conf_config_path, sizeof conf_config_path, "%s", cfg);
    exit(child_main(i < 0 || (size_t)i >= conf_ntests ? (size_t)-1 : (size_t)i));
}

/* The plugin file conf_config_path selects, found as the loader finds it
 * but without opening it; "" when there is none.  For naming the file
 * when the probe crashed. */
static void plugin_of_config(char *buf, size_t len)
{
    struct sched__config *cfg;
    const char **dirs;
    char *path;
    size_t n;
    buf[0] = '\0';
    if (sched__config_load(conf_config_path, &cfg, NULL) != 0)
        return;
    n = sched__plugin_search_dirs(cfg, &dirs);
    if (dirs && sched__plugin_find(sched__config_backend(cfg), dirs, n, &path, NULL) == 0) {
        snprintf(buf, len, "%s", path);
        free(path);
    }
    free(dirs);
    sched__config_free(cfg);
}

int sched_conformance_run(const char *name, const struct sched_conformance_options *opt, FILE *out)
{
    unsigned base_ms = opt ? opt->timeout_ms : 0;
    size_t i, ran = 0, failed = 0;
    enum outcome o;
    int detail = 0;

    conf_death_child();
    child_from_env();
    conf_backend = name;
    if (conf_write_config(name) != 0) {
        fprintf(out, "conform: cannot write a config file for %s\n", name);
        return -1;
    }
    catch_signals(on_signal);
    o = run_child((size_t)-1, timeout_ms(base_ms), &detail);
    if (o != OUT_PASS) {
        char why[4200] = "";
        if (o == OUT_CRASH) {
            char plugin[4096];
            plugin_of_config(plugin, sizeof plugin);
            describe_crash(detail, why, sizeof why);
#if !defined(_WIN32)
            if (plugin[0])
                snprintf(why, sizeof why, "%s: crashed with signal %d (%s)", plugin, detail,
                         strsignal(detail));
#endif
        }
        else if (o == OUT_TIMEOUT)
            snprintf(why, sizeof why, "TIMEOUT");
        remove(conf_config_path);
        catch_signals(SIG_DFL);
        fprintf(out, "conform: backend %s cannot be opened%s%s\n", name, why[0] ? ": " : "", why);
        return -1;
    }
    for (i = 0; i < conf_ntests; i++) {
        const struct conf_test *t = &conf_tests[i];
        unsigned long limit = timeout_ms(base_ms);
        char what[96];
        if (!selected(t, opt))
            continue;
        ran++;
        o = run_child(i, limit, &detail);
        switch (o) {
        case OUT_PASS:
            snprintf(what, sizeof what, "PASS");
            break;
        case OUT_FAIL:
            snprintf(what, sizeof what, "FAIL");
            break;
        case OUT_CRASH:
            describe_crash(detail, what, sizeof what);
            break;
        case OUT_TIMEOUT:
            snprintf(what, sizeof what, "TIMEOUT after %lu.%03lu s", limit / 1000, limit % 1000);
            break;
        }
        if (o != OUT_PASS)
            failed++;
        fprintf(out, "%s  %s\n", what, t->name);
        fflush(out);
    }
    remove(conf_config_path);
    catch_signals(SIG_DFL);
    fprintf(out, "%s: %zu of %zu tests failed\n", name, failed, ran);
    /* CUnit's summary layout: tests/ci/count-results.sh reads the
     * passed and failed columns of the "tests" row. */
    fprintf(out, "\nRun Summary:    Type  Total    Ran Passed Failed Inactive\n");
    fprintf(out, "              suites  %5d  %5d    n/a  %5d  %7d\n", 1, 1, failed ? 1 : 0, 0);
    fprintf(out, "               tests  %5zu  %5zu  %5zu  %5zu  %7zu\n", conf_ntests, ran,
            ran - failed, failed, conf_ntests - ran);
    fflush(out);
    return (int)failed;
}

int sched_conformance_main(int argc, char **argv, const struct sched_conformance_options *opt)
{
    int i, bad = 0;
    if (argc < 1) {
        fprintf(stderr, "usage: schedctl conform BACKEND...\n");
        return 2;
    }
    for (i = 0; i < argc; i++) {
        if (sched_conformance_run(argv[i], opt, stdout) != 0)
            bad = 1;
    }
    return bad;
}
