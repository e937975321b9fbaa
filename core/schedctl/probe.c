/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/probe.c - running plugin code where its crash cannot take
 * schedctl down.
 *
 * A plugin's constructors, entry function and create() are its own code,
 * and list, check and conform exist to diagnose broken plugins.  They run
 * that code in a child process, as GStreamer's registry scanner does, and
 * report a child killed by a signal as "PATH: crashed with signal N",
 * PATH being the plugin file the child opened last (the loader reports
 * each one through sched__loader_trace).  A child that has not finished
 * after SCHEDCTL_PROBE_TIMEOUT seconds (default 30) is killed and
 * reported as "PATH: did not return within N s": a plugin that loops must
 * not hang the tool meant to diagnose it.  Windows has no fork(): there
 * the work runs in this process, with no time limit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "schedctl.h"

#if !defined(_WIN32)
static int trace_fd = -1;

/* In the child: each path, NUL-terminated, to the parent. */
static void trace_to_parent(const char *path)
{
    size_t n = strlen(path) + 1;
    while (n > 0) {
        ssize_t w = write(trace_fd, path, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        path += w;
        n -= (size_t)w;
    }
}

/* In the child: die of a crash's own signal, without a core file, even
 * where a sanitizer runtime installed handlers that would exit instead. */
static void default_crash_signals(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read the child's trace to its end, keeping the last path.  0 at the end
 * of the trace (the child exited, or at least closed it), -1 when
 * timeout_s seconds passed first.
 */
static int read_trace(int fd, char *last, size_t len, unsigned timeout_s)
{
    char cur[4096], buf[4096];
    size_t used = 0;
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    last[0] = '\0';
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = { fd, POLLIN, 0 };
        int ready = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (ready < 0 && errno != EINTR)
            return 0;
        if (ready <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\0') {
                cur[used] = '\0';
                snprintf(last, len, "%s", cur);
                used = 0;
            } else if (used + 1 < sizeof cur) {
                cur[used++] = buf[i];
            }
        }
    }
}
#endif

unsigned sched__ctl_probe_timeout(void)
{
    const char *v = getenv("SCHEDCTL_PROBE_TIMEOUT");
    char *end;
    unsigned long n;
    if (v == NULL || v[0] == '\0')
        return SCHEDCTL_PROBE_TIMEOUT_DEFAULT;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > 86400 || v[0] == '-')
        return SCHEDCTL_PROBE_TIMEOUT_DEFAULT;
    return (unsigned)n;
}

int sched__ctl_isolated(int (*fn)(void *arg), void *arg, char *plugin, size_t len, int *sig)
{
    plugin[0] = '\0';
    *sig = 0;
#if defined(_WIN32)
    (void)len;
    return fn(arg);
#else
    int fds[2];
    if (pipe(fds) != 0) {
        sched__ctl_error("cannot create a pipe to a child process: %s", strerror(errno));
        return SCHEDCTL_FAIL;
    }
    /* Not for what the child runs in turn (the conformance death test). */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sched__ctl_error("cannot start a child process: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return SCHEDCTL_FAIL;
    }
    if (pid == 0) {
        close(fds[0]);
        trace_fd = fds[1];
        default_crash_signals();
        sched__loader_trace(trace_to_parent);
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc);
    }
    close(fds[1]);
    int timed_out = read_trace(fds[0], plugin, len, sched__ctl_probe_timeout()) != 0;
    close(fds[0]);
    int status;
    if (timed_out) {
        /* Something the child started may hold the trace open after the
         * child itself exited: only a child still running has timed out. */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return SCHEDCTL_TIMEDOUT;
        }
        if (w < 0) {
            sched__ctl_error("cannot wait for a child process: %s", strerror(errno));
            return SCHEDCTL_FAIL;
        }
    } else {
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                sched__ctl_error("cannot wait for a child process: %s", strerror(errno));
                return SCHEDCTL_FAIL;
            }
        }
    }
    if (WIFSIGNALED(status)) {
        *sig = WTERMSIG(status);
        return SCHEDCTL_CRASHED;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : SCHEDCTL_FAIL;
#endif
}

void sched__ctl_report_crash(const char *plugin, const char *what, int sig)
{
    if (plugin[0] != '\0')
        sched__ctl_error("%s: crashed with signal %d", plugin, sig);
    else
        sched__ctl_error("%s crashed with signal %d", what, sig);
}

void sched__ctl_report_timeout(const char *plugin, const char *what)
{
    if (plugin[0] != '\0')
        sched__ctl_error("%s: did not return within %u s", plugin, sched__ctl_probe_timeout());
    else
        sched__ctl_error("%s did not return within %u s", what, sched__ctl_probe_timeout());
}

int sched__ctl_report_isolated(int rc, const char *plugin, const char *what, int sig)
{
    if (rc == SCHEDCTL_CRASHED)
        sched__ctl_report_crash(plugin, what, sig);
    else if (rc == SCHEDCTL_TIMEDOUT)
        sched__ctl_report_timeout(plugin, what);
    else
        return rc;
    return SCHEDCTL_FAIL;
}
