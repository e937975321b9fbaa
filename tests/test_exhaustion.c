/* SPDX-License-Identifier: MIT */
/*
 * tests/test_exhaustion.c - running out of threads: a child process lowers
 * a resource limit, opens a host and runs a small workload (tasks at every
 * priority, timers, a foreground task).  Every backend must then either
 * fail to open with SCHED_EAGAIN and a sentence naming the system's reason,
 * or open and finish the workload: never hang, never crash, never report
 * SCHED_ENOMEM for what the system called EAGAIN.
 *
 * Built twice: test_nproc (RLIMIT_NPROC, "ulimit -u") and test_rlimit_as
 * (RLIMIT_AS, "ulimit -v").  RLIMIT_NPROC counts every process and thread
 * of the real user and is not enforced for root, so as root the child
 * first becomes a user id no process uses (the kernel needs no passwd
 * entry for it); otherwise it keeps the caller's.  RLIMIT_AS cannot be
 * tested under ASan, TSan or valgrind, which need address space of their
 * own at any moment: that program skips there, saying so.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/sched.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* A child that neither fails nor finishes within this long has hung. */
enum { HANG_SECONDS = 60, NTASKS = 24 };

static int failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

static sched_value one(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 1 };
}

/* The workload; 0 when every task finished with its value. */
static int workload(sched_host *h)
{
    sched_executor *ex = NULL;
    sched_foreground_executor *fx = NULL;
    sched_future *futs[NTASKS];
    sched_task *t = NULL;
    sched_value v = { 0 };
    int rc;

    if ((rc = sched_executor_new(h, &ex)) != 0)
        return rc;
    for (int i = 0; i < NTASKS; i++) {
        sched_future *f = i % 2 ? sched_timer(h, 1000000) : sched_future_fn(one, NULL);
        rc = sched_spawn_priority(ex, f, (sched_priority)(i % 3), &t);
        if (rc != 0)
            return rc;
        futs[i] = sched_task_join(t);
    }
    rc = sched_block(ex, sched_all(futs, NTASKS), &v, NULL);
    free(v.ptr);
    if (rc == 0 && (rc = sched_foreground_executor_new(h, &fx)) == 0) {
        rc = sched_foreground_spawn(fx, sched_future_fn(one, NULL), &t);
        if (rc == 0)
            rc = sched_foreground_block(fx, sched_task_join(t), &v, NULL);
        if (rc == 0 && v.i != 1)
            rc = SCHED_EINVAL;
        sched_foreground_executor_free(fx);
    }
    sched_executor_free(ex);
    return rc;
}

/* ---- the child ------------------------------------------------------------ */

struct outcome {
    int open_rc;
    int work_rc;
    char msg[1024];
};

#ifdef SCHED_TEST_NPROC
static int limit_nproc(rlim_t n)
{
    struct rlimit rl = { n, n };
    return setrlimit(RLIMIT_NPROC, &rl);
}

#else
/* The address space now, from /proc/self/status, in bytes; 0 if unknown. */
static rlim_t address_space_now(void)
{
    char line[256];
    unsigned long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
            break;
    fclose(f);
    return (rlim_t)kb * 1024;
}

/* Room for the config, the plugin and the heap, but not for one more
 * thread's default stack (margin is a megabyte less than one). */
static int limit_as(rlim_t margin)
{
    rlim_t now = address_space_now();
    struct rlimit rl;
    if (now == 0)
        return -1;
    rl.rlim_cur = rl.rlim_max = now + margin;
    return setrlimit(RLIMIT_AS, &rl);
}
#endif

static int limit_none(rlim_t unused)
{
    (void)unused;
    return 0;
}

static void run_child(const char *config, uid_t uid, int (*limit)(rlim_t), rlim_t n, int fd)
{
    struct outcome o;
    sched_host *h = NULL;
    sched_error *err = NULL;

    memset(&o, 0, sizeof o);
    alarm(HANG_SECONDS);
    if (uid != (uid_t)-1 && (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
        _exit(90);
    if (limit(n) != 0)
        _exit(91);
    o.open_rc = sched_host_open(&h, config, &err);
    snprintf(o.msg, sizeof o.msg, "%s", sched_error_message(err));
    sched_error_free(err);
    if (o.open_rc == 0) {
        o.work_rc = workload(h);
        sched_host_close(h);
    }
    if (write(fd, &o, sizeof o) != (ssize_t)sizeof o)
        _exit(92);
    _exit(0);
}

/* ---- the parent ------------------------------------------------------------ */

/* Run one child; returns its wait status and fills *o (open_rc 1 when the
 * child reported nothing). */
static int run(const char *config, uid_t uid, int (*limit)(rlim_t), rlim_t n, struct outcome *o)
{
    int fds[2], status = -1;
    size_t got = 0;
    ssize_t r;
    pid_t pid;

    memset(o, 0, sizeof *o);
    o->open_rc = 1;
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        run_child(config, uid, limit, n, fds[1]);
    }
    close(fds[1]);
    while (got < sizeof *o && (r = read(fds[0], (char *)o + got, sizeof *o - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    if (got != sizeof *o)
        o->open_rc = 1;
    o->msg[sizeof o->msg - 1] = '\0';
    waitpid(pid, &status, 0);
    return status;
}

#ifdef SCHED_TEST_NPROC
static int uid_in_use(uid_t uid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int used = 0;
    if (!d)
        return 1;
    while (!used && (e = readdir(d))) {
        char path[300], line[256];
        unsigned real;
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Uid: %u", &real) == 1) {
                used = real == (unsigned)uid;
                break;
            }
        fclose(f);
    }
    closedir(d);
    return used;
}

/* A user id no process has, different for concurrent runs of this test. */
static uid_t unused_uid(void)
{
    for (unsigned i = 0; i < 4000; i++) {
        uid_t u = (uid_t)(61000 + ((unsigned)getpid() + i) % 4000);
        if (!uid_in_use(u))
            return u;
    }
    return (uid_t)-1;
}
#endif

static int write_config(char *path, const char *backend)
{
    char text[128];
    int fd = mkstemp(path), len;
    if (fd < 0)
        return -1;
    len = snprintf(text, sizeof text, "backend = \"%s\";\n%s", backend,
                   strcmp(backend, "linux") == 0 ? "linux: { threads = 2; };\n" : "");
    if (write(fd, text, (size_t)len) != len || fchmod(fd, 0644) != 0) {
        close(fd);
        return -1;
    }
    return close(fd);
}

/* The child ended by itself (not by the hang alarm or a crash). */
static int clean_exit(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void describe(const char *backend, const char *what, int status, const struct outcome *o)
{
    printf("%s, %s: %s (open %s, workload %s)%s%s\n", backend, what,
           WIFSIGNALED(status) ? (WTERMSIG(status) == SIGALRM ? "HUNG" : "crashed")
                               : clean_exit(status) ? "returned" : "child failed",
           sched_strerror(o->open_rc), sched_strerror(o->work_rc), o->msg[0] ? ": " : "", o->msg);
}

#ifdef SCHED_TEST_NPROC
static void check_backend(const char *backend, unsigned must_fail_up_to, const char *reason)
{
    char config[] = "/tmp/sched-test-nproc-XXXXXX";
    uid_t uid = getuid() == 0 ? unused_uid() : (uid_t)-1;
    struct outcome o;
    int status;

    if (getuid() == 0 && uid == (uid_t)-1) {
        printf("SKIP: no unused user id to run the child as\n");
        exit(77);
    }
    if (write_config(config, backend) != 0) {
        perror("config");
        exit(99);
    }
    for (rlim_t n = 1; n <= 12; n++) {
        char what[32];
        snprintf(what, sizeof what, "ulimit -u %lu", (unsigned long)n);
        status = run(config, uid, limit_nproc, n, &o);
        describe(backend, what, status, &o);
        CHECK(clean_exit(status), "%s: %s must return, not hang or crash", backend, what);
        if (n <= must_fail_up_to) {
            CHECK(o.open_rc == SCHED_EAGAIN, "%s: %s must fail to open with SCHED_EAGAIN",
                  backend, what);
            CHECK(strstr(o.msg, "Resource temporarily unavailable") != NULL,
                  "%s: the error must say why", backend);
            CHECK(strstr(o.msg, reason) != NULL, "%s: the error must say \"%s\"", backend,
                  reason);
        } else {
            CHECK(o.open_rc == SCHED_EAGAIN || (o.open_rc == 0 && o.work_rc == 0),
                  "%s: %s must fail with SCHED_EAGAIN or finish its work", backend, what);
        }
    }
    /* A limit the backend fits in (as root, for a user with no other
     * process; otherwise the caller's own limit, unchanged). */
    status = run(config, uid, uid == (uid_t)-1 ? limit_none : limit_nproc, 256, &o);
    describe(backend, "a generous limit", status, &o);
    CHECK(clean_exit(status) && o.open_rc == 0 && o.work_rc == 0,
          "%s: with room for its threads the workload must finish", backend);
    unlink(config);
}

int main(void)
{
    if (getuid() != 0)
        printf("not root: the child keeps user %u, whose other processes count too\n",
               (unsigned)getuid());
    /* linux with threads = 2 needs 3 threads besides the main one. */
    check_backend("linux", 3, "cannot start");
#ifdef SCHED_TEST_MAC
    /* mac needs 3 * CPUs + 1 >= 4 besides the main one. */
    check_backend("mac", 4, "libdispatch may need");
#endif
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
#else
static void check_backend(const char *backend, rlim_t margin, const char *reason)
{
    char config[] = "/tmp/sched-test-as-XXXXXX";
    struct outcome o;
    int status;

    if (write_config(config, backend) != 0) {
        perror("config");
        exit(99);
    }
    status = run(config, (uid_t)-1, limit_as, margin, &o);
    describe(backend, "no address space for a thread stack", status, &o);
    CHECK(clean_exit(status), "%s must return, not hang or crash", backend);
    CHECK(o.open_rc == SCHED_EAGAIN, "%s must fail to open with SCHED_EAGAIN", backend);
    CHECK(strstr(o.msg, "Resource temporarily unavailable") != NULL,
          "%s: the error must say why", backend);
    CHECK(strstr(o.msg, reason) != NULL, "%s: the error must say \"%s\"", backend, reason);
    status = run(config, (uid_t)-1, limit_none, 0, &o);
    describe(backend, "no limit", status, &o);
    CHECK(clean_exit(status) && o.open_rc == 0 && o.work_rc == 0,
          "%s: without the limit the workload must finish", backend);
    unlink(config);
}

int main(void)
{
    pthread_attr_t attr;
    size_t stack = 0;
    const char *preload = getenv("LD_PRELOAD");

#ifdef UNDER_SANITIZER
    printf("SKIP: the sanitizer's runtime needs address space of its own, so RLIMIT_AS "
           "would fail it before the library\n");
    return 77;
#endif
    if (preload && strstr(preload, "vgpreload")) {
        printf("SKIP: valgrind needs address space of its own, so RLIMIT_AS would fail it "
               "before the library\n");
        return 77;
    }
    if (pthread_attr_init(&attr) != 0 || pthread_attr_getstacksize(&attr, &stack) != 0
        || stack < 4u * 1024 * 1024) {
        printf("SKIP: the default thread stack (%zu bytes) is too small to tell apart from "
               "the library's other allocations\n", stack);
        return 77;
    }
    pthread_attr_destroy(&attr);
    check_backend("linux", (rlim_t)stack - 1024 * 1024, "cannot start");
#ifdef SCHED_TEST_MAC
    check_backend("mac", (rlim_t)stack - 1024 * 1024, "libdispatch may need");
#endif
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
#endif
