/* SPDX-License-Identifier: MIT */
/*
 * core/platform_posix.c - platform.h on POSIX systems (Linux first).
 *
 * Every POSIX call the core makes is here; errors are translated to
 * SCHED_E* codes at this boundary.
 */
#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#endif

#include "sched/plugin.h"
#include "platform.h"

#ifndef SCHED_SYSCONFDIR
#define SCHED_SYSCONFDIR "/etc"
#endif

/* ---- mutexes and condition variables ---------------------------------- */

/* Failures of these calls mean memory corruption or a misuse the caller
 * cannot recover from; they are asserted, not reported. */

void sched__mutex_init(sched__mutex *m)
{
    int rc = pthread_mutex_init(m, NULL);
    assert(rc == 0);
    (void)rc;
}

void sched__mutex_destroy(sched__mutex *m)
{
    int rc = pthread_mutex_destroy(m);
    assert(rc == 0);
    (void)rc;
}

void sched__mutex_lock(sched__mutex *m)
{
    int rc = pthread_mutex_lock(m);
    assert(rc == 0);
    (void)rc;
}

void sched__mutex_unlock(sched__mutex *m)
{
    int rc = pthread_mutex_unlock(m);
    assert(rc == 0);
    (void)rc;
}

/* Condition variables wait on CLOCK_MONOTONIC so a wall-clock change never
 * stretches or cuts a timeout. */
void sched__cond_init(sched__cond *c)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    assert(rc == 0);
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    assert(rc == 0);
    rc = pthread_cond_init(c, &attr);
    assert(rc == 0);
    pthread_condattr_destroy(&attr);
    (void)rc;
}

void sched__cond_destroy(sched__cond *c)
{
    int rc = pthread_cond_destroy(c);
    assert(rc == 0);
    (void)rc;
}

void sched__cond_wait(sched__cond *c, sched__mutex *m)
{
    int rc = pthread_cond_wait(c, m);
    assert(rc == 0);
    (void)rc;
}

static struct timespec ns_to_timespec(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

int sched__cond_timedwait(sched__cond *c, sched__mutex *m, uint64_t ns)
{
    if (ns == SCHED_TIMEOUT_NEVER) {
        sched__cond_wait(c, m);
        return 0;
    }
    uint64_t now = sched__mono_ns();
    /* Saturate instead of wrapping for very long timeouts. */
    uint64_t deadline = (ns > UINT64_MAX - now) ? UINT64_MAX - 1 : now + ns;
    struct timespec ts = ns_to_timespec(deadline);
    int rc = pthread_cond_timedwait(c, m, &ts);
    assert(rc == 0 || rc == ETIMEDOUT);
    return rc == ETIMEDOUT ? SCHED_ETIMEDOUT : 0;
}

void sched__cond_signal(sched__cond *c)
{
    pthread_cond_signal(c);
}

void sched__cond_broadcast(sched__cond *c)
{
    pthread_cond_broadcast(c);
}

/* ---- threads ------------------------------------------------------------ */

struct thread_start {
    void (*fn)(void *);
    void *arg;
};

static void *thread_trampoline(void *p)
{
    struct thread_start st = *(struct thread_start *)p;
    free(p);
    st.fn(st.arg);
    return NULL;
}

/* Start fn(arg) on a new thread.  0, SCHED_ENOMEM, SCHED_EAGAIN when a
 * limit (RLIMIT_NPROC, the address space) refuses another thread, or
 * SCHED_EBACKEND. */
int sched__thread_start(sched__thread *t, void (*fn)(void *), void *arg)
{
    struct thread_start *st = malloc(sizeof *st);
    if (st == NULL)
        return SCHED_ENOMEM;
    st->fn = fn;
    st->arg = arg;
    int rc = pthread_create(t, NULL, thread_trampoline, st);
    if (rc != 0) {
        free(st);
        return rc == ENOMEM ? SCHED_ENOMEM : rc == EAGAIN ? SCHED_EAGAIN : SCHED_EBACKEND;
    }
    return 0;
}

void sched__thread_join(sched__thread t)
{
    int rc = pthread_join(t, NULL);
    assert(rc == 0);
    (void)rc;
}

sched__thread_id sched__thread_self(void)
{
    return pthread_self();
}

int sched__thread_equal(sched__thread_id a, sched__thread_id b)
{
    return pthread_equal(a, b) != 0;
}

void sched__thread_describe(sched__thread_id t, char *buf, size_t len)
{
    char name[32] = "";
#if defined(__GLIBC__)
    if (pthread_getname_np(t, name, sizeof name) != 0)
        name[0] = '\0';
#endif
    if (name[0] != '\0')
        snprintf(buf, len, "thread %#lx (%s)", (unsigned long)t, name);
    else
        snprintf(buf, len, "thread %#lx", (unsigned long)t);
}

/* ---- futex words -------------------------------------------------------- */

#ifdef __linux__
static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

int sched__word_wait(uint32_t *addr, uint32_t expected, uint64_t ns)
{
    struct timespec ts;
    const struct timespec *tsp = NULL;
    if (ns != SCHED_TIMEOUT_NEVER) {
        ts = ns_to_timespec(ns);
        tsp = &ts;
    }
    if (futex(addr, FUTEX_WAIT_PRIVATE, expected, tsp) == -1 && errno == ETIMEDOUT)
        return SCHED_ETIMEDOUT;
    return 0;
}

void sched__word_wake_one(uint32_t *addr)
{
    futex(addr, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void sched__word_wake_all(uint32_t *addr)
{
    futex(addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}
#else
#error "sched__word_wait needs a futex equivalent on this system"
#endif

/* ---- time and CPUs ------------------------------------------------------ */

uint64_t sched__mono_ns(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
    assert(rc == 0);
    (void)rc;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sched__thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counted in the child by an atfork handler registered at the first call
 * (the first host open), so a host can tell it was inherited. */
static atomic_uint forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void forks_child(void)
{
    atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
}

static void forks_watch(void)
{
    pthread_atfork(NULL, NULL, forks_child);
}

unsigned sched__forks(void)
{
    pthread_once(&forks_once, forks_watch);
    return atomic_load_explicit(&forks, memory_order_relaxed);
}

unsigned sched__num_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

/* ---- dynamic loading ---------------------------------------------------- */

/* RTLD_LOCAL keeps one plugin's symbols from resolving another's;
 * RTLD_NOW makes a missing symbol a load error instead of a crash later. */
void *sched__dl_open(const char *path, char *err, size_t errlen)
{
    dlerror();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why != NULL ? why : "unknown dlopen error");
    }
    return lib;
}

void *sched__dl_sym(void *lib, const char *name)
{
    return dlsym(lib, name);
}

void sched__dl_close(void *lib)
{
    dlclose(lib);
}

/* ---- files -------------------------------------------------------------- */

FILE *sched__fopen(const char *path, const char *mode)
{
    return fopen(path, mode);
}

FILE *sched__temp_file(const char *stem, char *path, size_t len)
{
    const char *dir = sched__secure_getenv("TMPDIR");
    if (dir == NULL || dir[0] != '/')
        dir = "/tmp";
    int n = snprintf(path, len, "%s/%s-XXXXXX", dir, stem);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
    }
    return f;
}

int sched__file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sched__path_is_absolute(const char *path)
{
    return path != NULL && path[0] == '/';
}

char *sched__absolute_dir(const char *dir)
{
    struct stat st;
    char *r = realpath(dir, NULL);
    if (r != NULL && (stat(r, &st) != 0 || !S_ISDIR(st.st_mode))) {
        free(r);
        errno = ENOTDIR;
        return NULL;
    }
    return r;
}

/* Who may own a trusted file or directory: root or the effective user;
 * in a set-gid program that is not also set-uid the effective user is
 * the caller, whose files would run with the group's privileges, so only
 * root. */
static int only_root(void)
{
    return sched__privileged() && geteuid() == getuid() && geteuid() != 0;
}

static int owner_trusted(uid_t uid)
{
    return uid == 0 || (uid == geteuid() && !only_root());
}

/* Why st (the file or directory `what`, e.g. "its directory /x") cannot be
 * trusted, into err; 0 when it can.  own_dir: st is the trusted file's
 * own directory, where a sticky bit does not help (anyone may create the
 * file there first). */
static int untrusted(const struct stat *st, const char *what, int own_dir, char *err, size_t errlen)
{
    if (!owner_trusted(st->st_uid)) {
        if (only_root())
            snprintf(err, errlen, "%s is owned by uid %lu, not by root (a set-gid program trusts only root's files)",
                     what, (unsigned long)st->st_uid);
        else
            snprintf(err, errlen, "%s is owned by uid %lu, not by root or the effective uid %lu", what,
                     (unsigned long)st->st_uid, (unsigned long)geteuid());
        return SCHED_ELOAD;
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return 0;
    if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)) {
        if (!own_dir)
            return 0;
        snprintf(err, errlen,
                 "%s is writable by others (the sticky bit keeps others from replacing files, not from "
                 "creating them)", what);
        return SCHED_ELOAD;
    }
    snprintf(err, errlen, "%s is writable by group or others", what);
    return SCHED_ELOAD;
}

/*
 * The ownership rule of sched.conf(5), as OpenSSH and sudo check paths:
 * resolve symlinks, then the file and every directory from it up to "/"
 * must be owned by root or the effective uid and not be writable by group
 * or others; a sticky directory may be writable by others only as an
 * ancestor, never as the file's own directory.  Anything else could have
 * been planted or swapped by another user.
 */
int sched__trusted_path(const char *path, char **real, char *err, size_t errlen)
{
    *real = NULL;
    char *r = realpath(path, NULL);
    if (r == NULL) {
        if (errno == ENOMEM)
            return SCHED_ENOMEM;
        snprintf(err, errlen, "the file cannot be examined (%s)", strerror(errno));
        return SCHED_ELOAD;
    }
    const char *what = "the file";
    struct stat st;
    if (lstat(r, &st) != 0) {
        snprintf(err, errlen, "%s cannot be examined (%s)", what, strerror(errno));
        free(r);
        return SCHED_ELOAD;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", what);
        free(r);
        return SCHED_ELOAD;
    }
    /* From / down, so that the refusal names the highest directory that
     * lets someone else in: the one to fix. */
    struct stat fst = st;
    char *dir = strdup(r);
    if (dir == NULL) {
        free(r);
        return SCHED_ENOMEM;
    }
    char *own_end = strrchr(dir, '/');
    int rc = 0;
    for (char *end = dir; rc == 0 && end != NULL && end <= own_end; end = strchr(end + 1, '/')) {
        char saved = end == dir ? dir[1] : *end;
        if (end == dir)
            dir[1] = '\0';
        else
            *end = '\0';
        if (lstat(dir, &st) != 0) {
            snprintf(err, errlen, "the directory %s cannot be examined (%s)", dir, strerror(errno));
            rc = SCHED_ELOAD;
        } else {
            char dwhat[PATH_MAX + 64];
            snprintf(dwhat, sizeof dwhat, end == own_end ? "its directory %s" : "the directory %s above it",
                     dir);
            rc = untrusted(&st, dwhat, end == own_end, err, errlen);
        }
        if (end == dir)
            dir[1] = saved;
        else
            *end = saved;
    }
    free(dir);
    if (rc == 0)
        rc = untrusted(&fst, what, 0, err, errlen);
    if (rc != 0 && strcmp(r, path) != 0) {
        /* The reason is about the resolved path: say which that is. */
        char *why = strdup(err);
        if (why != NULL)
            snprintf(err, errlen, "it resolves to %s, and %s", r, why);
        free(why);
    }
    if (rc != 0) {
        free(r);
        return rc;
    }
    *real = r;
    return 0;
}

int sched__dir_list(const char *dir, void (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return SCHED_ENOENT;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fn(e->d_name, arg);
    }
    closedir(d);
    return 0;
}

/* ---- environment -------------------------------------------------------- */

int sched__privileged(void)
{
#ifdef __linux__
    return getauxval(AT_SECURE) != 0;
#else
    return getuid() != geteuid() || getgid() != getegid();
#endif
}

int sched__caller_can_read(const char *path)
{
    return access(path, R_OK) == 0;
}

const char *sched__secure_getenv(const char *name)
{
#ifdef HAVE_SECURE_GETENV
    return secure_getenv(name);
#else
    if (getuid() != geteuid() || getgid() != getegid())
        return NULL;
    return getenv(name);
#endif
}

static char *join2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

char *sched__user_config_path(void)
{
    const char *xdg = sched__secure_getenv("XDG_CONFIG_HOME");
    /* The XDG spec ignores relative values. */
    if (xdg == NULL || xdg[0] != '/')
        return NULL;
    return join2(xdg, "/sched/sched.conf");
}

char *sched__system_config_path(void)
{
    return join2(SCHED_SYSCONFDIR, "/sched.conf");
}

const char *sched__builtin_plugin_dir(void)
{
    return SCHED_PLUGINDIR;
}

/* Open without blocking (a FIFO would block in open() until a writer
 * came), and decide from the descriptor, so that what is checked is what
 * is read. */
int sched__read_file(const char *path, size_t max, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return SCHED__ENOTREG;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
        close(fd);
        return SCHED__EFBIG;
    }
    /* One byte more than it said, to notice a file that grew. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        return ENOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            if (cap > max) {
                free(buf);
                close(fd);
                return SCHED__EFBIG;
            }
            size_t ncap = cap * 2 < max + 1 ? cap * 2 : max + 1;
            char *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                free(buf);
                close(fd);
                return ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
    }
    close(fd);
    if (n > max) {
        free(buf);
        return SCHED__EFBIG;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
