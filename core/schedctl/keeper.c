/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/keeper.c - ending every process a probe started.
 *
 * The probe child (probe.c) runs in a process group of its own, but
 * plugin code can leave it: a daemon's double fork and setsid() puts a
 * process in a session and group of its own, whose parent is gone, out of
 * reach of any kill of the child's group.  So the child runs under a
 * keeper, a child of schedctl that on Linux is a child subreaper (prctl
 * PR_SET_CHILD_SUBREAPER): every process of the probe whose parent ends
 * becomes the keeper's child, however it detached.  When the probe ends
 * the keeper kills the child's group, then every child it has, and reaps
 * them, until none is left.  Its children are the probe's and nothing
 * else, which is why the keeper is a process of its own: schedctl's other
 * children, and the subreaper setting of whatever calls the probe, are
 * not touched.  Elsewhere, or without /proc to find its children by, the
 * keeper has the child's group to kill and no more.
 *
 * The keeper hears the end of the probe as the end of a socket whose
 * other end schedctl holds, so that a schedctl killed outright ends the
 * probe too; on that socket it reports how the child ended.  The child
 * closes its copy, so what the plugin starts cannot write there.  The
 * conformance runner keeps each test's child the same way.
 */
#include "config.h"

#if !defined(_WIN32)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <dirent.h>
#include <sys/prctl.h>
#endif

#include "keeper.h"

int sched__ctl_keeper_read(int ctl, struct sched__ctl_end *end)
{
    char *p = (char *)end;
    size_t got = 0;
    while (got < sizeof *end) {
        ssize_t n = read(ctl, p + got, sizeof *end - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            end->kind = 0;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void send_end(int ctl, int kind, int value)
{
    struct sched__ctl_end m = { kind, value };
    while (write(ctl, &m, sizeof m) < 0 && errno == EINTR)
        ;
}

/* The child's end from a wait status. */
static void send_status(int ctl, int status)
{
    if (WIFSIGNALED(status))
        send_end(ctl, 'S', WTERMSIG(status));
    else
        send_end(ctl, 'X', WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* SIGCHLD wakes the keeper's poll() through this pipe. */
static int sigchld_pipe[2] = { -1, -1 };

static void on_sigchld(int sig)
{
    int saved = errno;
    ssize_t w = write(sigchld_pipe[1], "", 1);
    (void)w;
    (void)sig;
    errno = saved;
}

#if defined(__linux__)
/*
 * Call fn(pid, data) for each child of this single-threaded process, from
 * /proc: its thread's children file, or, where the kernel has none, every
 * process whose parent it is.  How many there were, or -1 when /proc
 * cannot say.  A child that ends meanwhile may be missed: callers loop.
 */
static int each_child(void (*fn)(pid_t pid, void *data), void *data)
{
    long self = (long)getpid();
    char path[64];
    int n = 0;
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", self, self);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
            fn((pid_t)pid, data);
            n++;
        }
        fclose(f);
        return n;
    }
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end, stat[512];
        long pid = strtol(e->d_name, &end, 10), ppid;
        if (pid <= 0 || *end != '\0')
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t k = read(fd, stat, sizeof stat - 1);
        close(fd);
        if (k <= 0)
            continue;
        stat[k] = '\0';
        /* "pid (comm) state ppid ...", comm being anything. */
        char *rp = strrchr(stat, ')'), state;
        if (rp != NULL && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == self) {
            fn((pid_t)pid, data);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void ignore_child(pid_t pid, void *data)
{
    (void)pid;
    (void)data;
}

/* A process of the probe that came to the keeper and ended before the
 * probe did: reaped now, not at the end, so that a plugin hopping from
 * process to process does not fill the process table with zombies.  The
 * probe child itself (*data) is left for the end. */
static void reap_other(pid_t pid, void *data)
{
    if (pid != *(pid_t *)data)
        waitpid(pid, NULL, WNOHANG);
}

/* SIGKILL to a child, counting those that could be sent it: one running
 * a set-user-ID program may not be signalled, and is not waited for. */
static void kill_child(pid_t pid, void *data)
{
    if (kill(pid, SIGKILL) == 0)
        ++*(int *)data;
}
#endif

/* A SIGCHLD: the child ended (it is left a zombie, so that its pid and
 * group cannot be taken by another process before the end kills them),
 * or another process of the probe did. */
static void on_wakeup(int ctl, pid_t child, int reaper, int *sent)
{
    char drain[64];
    while (read(sigchld_pipe[0], drain, sizeof drain) > 0)
        ;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (!*sent && waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == child) {
        send_end(ctl, si.si_code == CLD_EXITED ? 'X' : 'S', si.si_status);
        *sent = 1;
    }
#if defined(__linux__)
    if (reaper)
        each_child(reap_other, &child);
#else
    (void)reaper;
#endif
}

/*
 * The end of the probe: kill the child's group (the child is not reaped
 * before this, so the group's id is still the probe's) and the child;
 * then, as a subreaper, every child there is, and reap them, over and
 * over until none is left, for a process killed while it forks may leave
 * a new child, which comes to the keeper once its parent is gone.  The
 * child's end is sent unless it was (*sent).
 */
static void end_all(int ctl, pid_t child, int reaper, int *sent)
{
    kill(-child, SIGKILL);
    kill(child, SIGKILL);
    for (;;) {
        int status, flags = 0;
#if defined(__linux__)
        int killed = 0;
        /* None found that could be killed: reap what has ended, and stop. */
        if (reaper && (each_child(kill_child, &killed) < 0 || killed == 0))
            flags = WNOHANG;
#endif
        pid_t w = waitpid(reaper ? -1 : child, &status, flags);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        if (w == child && !*sent) {
            send_status(ctl, status);
            *sent = 1;
        }
        if (!reaper)
            break;
    }
}

void sched__ctl_keeper(int ctl, int close_fd, void (*child_fn)(void *data), void *data)
{
    /* The terminal's signals are schedctl's to act on, by ending the
     * probe through ctl: a Ctrl-C that reaches the keeper too (it is in
     * schedctl's group) must not leave the probe unkept. */
    static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
#define NIGNORED (sizeof ignored / sizeof ignored[0])
    struct sigaction ign, chld, saved[NIGNORED], saved_chld;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    for (size_t i = 0; i < NIGNORED; i++)
        sigaction(ignored[i], &ign, &saved[i]);
    if (pipe(sigchld_pipe) != 0) {
        send_end(ctl, 'F', errno);
        _exit(0);
    }
    for (int i = 0; i < 2; i++) {
        fcntl(sigchld_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(sigchld_pipe[i], F_SETFL, O_NONBLOCK);
    }
    memset(&chld, 0, sizeof chld);
    chld.sa_handler = on_sigchld;
    chld.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigemptyset(&chld.sa_mask);
    sigaction(SIGCHLD, &chld, &saved_chld);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    int reaper = 0;
#if defined(__linux__)
    /* Not without /proc: the orphans it brings could not be found. */
    reaper = each_child(ignore_child, NULL) >= 0 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    pid_t child = fork();
    if (child < 0) {
        send_end(ctl, 'F', errno);
        _exit(0);
    }
    if (child == 0) {
        close(ctl);
        close(sigchld_pipe[0]);
        close(sigchld_pipe[1]);
        /* Its own group, so that what the plugin starts in it ends with
         * the probe even where the keeper finds nothing else. */
        setpgid(0, 0);
        sigaction(SIGCHLD, &saved_chld, NULL);
        for (size_t i = 0; i < NIGNORED; i++)
            sigaction(ignored[i], &saved[i], NULL);
        child_fn(data);
        _exit(1);
    }
    setpgid(child, child);  /* whichever of the two runs first */
    if (close_fd >= 0)
        close(close_fd);
    int sent = 0;
    for (;;) {
        struct pollfd p[2] = { { ctl, POLLIN, 0 }, { sigchld_pipe[0], POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents != 0)
            on_wakeup(ctl, child, reaper, &sent);
        if (p[0].revents != 0) {
            char c;
            ssize_t n = read(ctl, &c, 1);
            if (n == 0 || (n < 0 && errno != EINTR))
                break;
        }
    }
    end_all(ctl, child, reaper, &sent);
    _exit(0);
}
#endif
