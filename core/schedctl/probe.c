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
 * not hang the tool meant to diagnose it.  A child that ends without
 * sending its whole result ("done", see below) is reported as "PATH:
 * exited with status N before the probe finished".  The child runs in
 * its own process group with fd 0, 1 and 2 on /dev/null.
 *
 * It runs under a keeper process (keeper.c), which ends every
 * process of the probe, on Linux even those that left the child's group
 * and session, when the probe ends.  A Ctrl-C (or a SIGTERM or SIGHUP) to
 * schedctl would not reach the child, whose group is not the terminal's:
 * while a probe runs, schedctl ends the probe on those signals and then
 * dies of the same signal itself.  Windows has no fork(): there the work
 * runs in this process, with no time limit.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "schedctl.h"

#if !defined(_WIN32)
/*
 * The child talks to the parent in records on one pipe: a type byte, a
 * 32-bit length and that many bytes.  'P' is a plugin path the loader
 * opened, 'O' and 'E' what the child printed on SCHED__CTL_OUT and
 * SCHED__CTL_ERR, and 'D' (fn's return value, as an int) comes last.  A
 * child that ends without "done" - it exited from plugin code, or closed
 * the pipe - is a failure, never a silent success.
 */
static int trace_fd = -1;

static void put_all(const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(trace_fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void send_record(char type, const void *p, size_t n)
{
    uint32_t len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    char head[5];
    head[0] = type;
    memcpy(head + 1, &len, 4);
    put_all(head, 5);
    put_all(p, len);
}

/* In the child: each path to the parent. */
static void trace_to_parent(const char *path)
{
    send_record('P', path, strlen(path));
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

/* In the child: run fn with its output captured and the plugin's fd 0, 1
 * and 2 on /dev/null, then send the output and "done". */
static void run_child(int (*fn)(void *arg), void *arg)
{
    char *out = NULL, *err = NULL;
    size_t nout = 0, nerr = 0;
    default_crash_signals();
    sched__ctl_out = open_memstream(&out, &nout);
    sched__ctl_err = open_memstream(&err, &nerr);
    int null = open("/dev/null", O_RDWR);
    if (sched__ctl_out == NULL || sched__ctl_err == NULL || null < 0)
        _exit(SCHEDCTL_FAIL);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2)
        close(null);
    sched__loader_trace(trace_to_parent);
    int rc = fn(arg);
    fclose(sched__ctl_out);
    fclose(sched__ctl_err);
    send_record('O', out, nout);
    send_record('E', err, nerr);
    send_record('D', &rc, sizeof rc);
    _exit(0);
}

/* What the probe child is to run, and the signals as schedctl had them. */
struct child_args {
    int (*fn)(void *arg);
    void *arg;
    int trace_w;
    const struct sigaction *old;
    const sigset_t *mask;
};

/*
 * While a probe runs, the keeper's pid and schedctl's end of its socket,
 * for the handler of the signals that end schedctl: the child is in a
 * group of its own, so the terminal's SIGINT does not reach it, and
 * killing schedctl alone would leave a hanging plugin running until the
 * keeper noticed.
 */
static volatile sig_atomic_t probe_keeper;
static volatile sig_atomic_t probe_ctl = -1;
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP };
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

/* End the probe, wait until the keeper has killed and reaped all of it,
 * then die of sig as if this process had never caught it, so that the
 * shell sees the signal. */
static void on_forwarded(int sig)
{
    pid_t pid = (pid_t)probe_keeper;
    if (pid > 0) {
        shutdown((int)probe_ctl, SHUT_WR);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Catch the forwarded signals, except those ignored (a background job of
 * a script ignores SIGINT, and stays so), saving what was there in old. */
static void catch_forwarded(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_forwarded;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaddset(&sa.sa_mask, forwarded[i]);
    for (size_t i = 0; i < NFORWARDED; i++) {
        sigaction(forwarded[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN)
            sigaction(forwarded[i], &sa, NULL);
    }
}

static void restore_forwarded(const struct sigaction *old)
{
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded[i], &old[i], NULL);
}

/* In the probe child, under the keeper. */
static void probe_child(void *data)
{
    struct child_args *a = data;
    restore_forwarded(a->old);
    sigprocmask(SIG_SETMASK, a->mask, NULL);
    trace_fd = a->trace_w;
    run_child(a->fn, a->arg);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the parent has read of the child's records. */
struct result {
    char *buf;
    size_t used, cap, parsed;
    size_t out, nout, err, nerr;    /* offsets into buf */
    int done, rc;
};

/* Take in the complete records read so far; the last path into plugin. */
static void parse(struct result *r, char *plugin, size_t len)
{
    while (!r->done && r->used - r->parsed >= 5) {
        uint32_t n;
        memcpy(&n, r->buf + r->parsed + 1, 4);
        if (r->used - r->parsed - 5 < n)
            return;
        char type = r->buf[r->parsed];
        size_t at = r->parsed + 5;
        if (type == 'P') {
            size_t k = n < len - 1 ? n : len - 1;
            memcpy(plugin, r->buf + at, k);
            plugin[k] = '\0';
        } else if (type == 'O') {
            r->out = at;
            r->nout = n;
        } else if (type == 'E') {
            r->err = at;
            r->nerr = n;
        } else if (type == 'D' && n == sizeof r->rc) {
            memcpy(&r->rc, r->buf + at, sizeof r->rc);
            r->done = 1;
        }
        r->parsed = at + n;
    }
}

/* Up to 64 MiB from the child: more is not a result. */
#define RESULT_MAX ((size_t)64 << 20)

/*
 * Read the child's records until "done", the end of the pipe, the child's
 * end (something it started may hold the pipe open) as the keeper reports
 * it in *end, or timeout_s seconds.  0, or -1 when the time ran out first.
 */
static int read_result(int fd, int ctl, struct result *r, char *plugin, size_t len,
                       unsigned timeout_s, struct sched__ctl_end *end)
{
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    int keeper_gone = 0;
    while (!r->done) {
        int ended = end->kind != 0 || keeper_gone;
        int64_t left = deadline - now_ms();
        if (left <= 0 && !ended)
            return -1;
        struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { ctl, POLLIN, 0 } };
        int ready = poll(pfd, ended ? 1 : 2, ended ? 0 : (int)left);
        if (ready < 0 && errno != EINTR)
            return 0;
        if (ready == 0) {
            if (ended)
                return 0;   /* ended, and nothing more to read */
            continue;
        }
        if (ready < 0)
            continue;
        if (!ended && pfd[1].revents != 0 && sched__ctl_keeper_read(ctl, end) != 0)
            keeper_gone = 1;
        if (pfd[0].revents == 0)
            continue;
        if (r->cap - r->used < 4096) {
            size_t cap = r->cap == 0 ? 8192 : r->cap * 2;
            char *b = cap <= RESULT_MAX ? realloc(r->buf, cap) : NULL;
            if (b == NULL)
                return 0;
            r->buf = b;
            r->cap = cap;
        }
        ssize_t n = read(fd, r->buf + r->used, r->cap - r->used);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        r->used += (size_t)n;
        parse(r, plugin, len);
    }
    return 0;
}
#endif

unsigned sched__ctl_probe_timeout(void)
{
    const char *v = getenv("SCHEDCTL_PROBE_TIMEOUT");
    char *end;
    unsigned long n;
    if (v == NULL || v[0] < '0' || v[0] > '9')
        return SCHEDCTL_PROBE_TIMEOUT_DEFAULT;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > 86400)
        return SCHEDCTL_PROBE_TIMEOUT_DEFAULT;
    return (unsigned)n;
}

int sched__ctl_probe_timeout_check(void)
{
    const char *v = getenv("SCHEDCTL_PROBE_TIMEOUT");
    if (v == NULL)
        return 0;
    char *end;
    errno = 0;
    unsigned long n = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
    if (n >= 1 && n <= 86400 && errno == 0 && *end == '\0')
        return 0;
    char shown[64];
    sched__ctl_error("SCHEDCTL_PROBE_TIMEOUT=\"%s\" is invalid: use a whole number of seconds from 1 to 86400",
                     sched__ctl_esc(v, shown, sizeof shown));
    return -1;
}

int sched__ctl_isolated(int (*fn)(void *arg), void *arg, char *plugin, size_t len, int *sig)
{
    plugin[0] = '\0';
    *sig = 0;
#if defined(_WIN32)
    (void)len;
    return fn(arg);
#else
    int fds[2], ctl[2];
    if (pipe(fds) != 0) {
        sched__ctl_error("cannot create a pipe to a child process: %s", strerror(errno));
        return SCHEDCTL_FAIL;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) != 0) {
        sched__ctl_error("cannot create a socket to a child process: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return SCHEDCTL_FAIL;
    }
    /* Not for what the child runs in turn (the conformance death test). */
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(ctl[i], F_SETFD, FD_CLOEXEC);
    }
    /* The forwarded signals wait until the keeper is known. */
    sigset_t block, mask;
    sigemptyset(&block);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaddset(&block, forwarded[i]);
    sigprocmask(SIG_BLOCK, &block, &mask);
    struct sigaction old[NFORWARDED];
    catch_forwarded(old);
    fflush(NULL);
    pid_t keeper = fork();
    if (keeper < 0) {
        sched__ctl_error("cannot start a child process: %s", strerror(errno));
        restore_forwarded(old);
        sigprocmask(SIG_SETMASK, &mask, NULL);
        close(fds[0]);
        close(fds[1]);
        close(ctl[0]);
        close(ctl[1]);
        return SCHEDCTL_FAIL;
    }
    if (keeper == 0) {
        struct child_args a = { fn, arg, fds[1], old, &mask };
        close(fds[0]);
        close(ctl[0]);
        sched__ctl_keeper(ctl[1], fds[1], probe_child, &a);
    }
    probe_ctl = ctl[0];
    probe_keeper = keeper;
    sigprocmask(SIG_SETMASK, &mask, NULL);
    close(fds[1]);
    close(ctl[1]);
    struct result r;
    memset(&r, 0, sizeof r);
    struct sched__ctl_end end = { 0, 0 };
    int timed_out = read_result(fds[0], ctl[0], &r, plugin, len, sched__ctl_probe_timeout(), &end) != 0;
    close(fds[0]);
    struct pollfd pfd = { ctl[0], POLLIN, 0 };
    if (timed_out && poll(&pfd, 1, 0) == 1 && sched__ctl_keeper_read(ctl[0], &end) == 0)
        timed_out = 0;  /* it ended just then */
    /* The probe is over: the keeper ends every process of it and reaps
     * them, reporting the child's end if it had not yet. */
    shutdown(ctl[0], SHUT_WR);
    if (end.kind == 0)
        sched__ctl_keeper_read(ctl[0], &end);
    int kstatus = 0;
    pid_t wrc;
    while ((wrc = waitpid(keeper, &kstatus, 0)) < 0 && errno == EINTR)
        ;
    int werr = errno;
    sigprocmask(SIG_BLOCK, &block, NULL);
    probe_keeper = 0;
    probe_ctl = -1;
    restore_forwarded(old);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    close(ctl[0]);
    if (wrc < 0) {
        sched__ctl_error("cannot wait for a child process: %s", strerror(werr));
        free(r.buf);
        return SCHEDCTL_FAIL;
    }
    if (end.kind == 'F') {
        sched__ctl_error("cannot start a child process: %s", strerror(end.value));
        free(r.buf);
        return SCHEDCTL_FAIL;
    }
    /* No word from the keeper: plugin code killed it, and its end is
     * the probe's. */
    if (end.kind == 0 && WIFSIGNALED(kstatus))
        end.kind = 'S', end.value = WTERMSIG(kstatus);
    else if (end.kind == 0)
        end.kind = 'X', end.value = WIFEXITED(kstatus) ? WEXITSTATUS(kstatus) : -1;
    int rc;
    if (r.done) {
        fwrite(r.buf + r.out, 1, r.nout, stdout);
        fwrite(r.buf + r.err, 1, r.nerr, stderr);
        rc = r.rc;
    } else if (timed_out) {
        rc = SCHEDCTL_TIMEDOUT;
    } else if (end.kind == 'S') {
        *sig = end.value;
        rc = SCHEDCTL_CRASHED;
    } else {
        *sig = end.value;
        rc = SCHEDCTL_NORESULT;
    }
    free(r.buf);
    return rc;
#endif
}

void sched__ctl_report_crash(const char *plugin, const char *what, int sig)
{
    if (plugin[0] != '\0')
        sched__ctl_error("%s: crashed with signal %d", plugin, sig);
    else
        sched__ctl_error("%s crashed with signal %d", what, sig);
}

void sched__ctl_report_noresult(const char *plugin, const char *what, int status)
{
    if (plugin[0] != '\0')
        sched__ctl_error("%s: exited with status %d before the probe finished", plugin, status);
    else
        sched__ctl_error("%s exited with status %d before the probe finished", what, status);
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
    else if (rc == SCHEDCTL_NORESULT)
        sched__ctl_report_noresult(plugin, what, sig);
    else
        return rc;
    return SCHEDCTL_FAIL;
}
