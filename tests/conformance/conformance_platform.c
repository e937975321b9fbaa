/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_platform.c - threads, a temporary file
 * and a sleep for the conformance suite and the benchmarks, on POSIX and
 * on Windows (see conformance_platform.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conformance_platform.h"

#if defined(_WIN32)

struct start {
    void (*fn)(void *);
    void *arg;
};

static DWORD WINAPI trampoline(LPVOID p)
{
    struct start s = *(struct start *)p;
    free(p);
    s.fn(s.arg);
    return 0;
}

int conf_thread_start(conf_thread *t, void (*fn)(void *), void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (s == NULL)
        return -1;
    s->fn = fn;
    s->arg = arg;
    *t = CreateThread(NULL, 0, trampoline, s, 0, NULL);
    if (*t == NULL) {
        free(s);
        return -1;
    }
    return 0;
}

void conf_thread_join(conf_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

FILE *conf_temp_file(const char *stem, char *path, size_t len)
{
    wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1], prefix[4];
    /* GetTempFileName takes three characters of prefix and creates the
     * file itself, with a name that did not exist. */
    for (int i = 0; i < 3; i++)
        prefix[i] = stem[i] ? (wchar_t)(unsigned char)stem[i] : L's';
    prefix[3] = 0;
    if (!GetTempPathW(MAX_PATH + 1, dir) || !GetTempFileNameW(dir, prefix, 0, name)) {
        errno = EACCES;
        return NULL;
    }
    int n = WideCharToMultiByte(CP_UTF8, 0, name, -1, path, (int)len, NULL, NULL);
    if (n <= 0) {
        DeleteFileW(name);
        errno = ENAMETOOLONG;
        return NULL;
    }
    FILE *f = _wfopen(name, L"w");
    if (f == NULL)
        DeleteFileW(name);
    return f;
}

void conf_sleep_ns(uint64_t ns)
{
    Sleep((DWORD)((ns + 999999) / 1000000));
}

#else

#include <time.h>
#include <unistd.h>

struct start {
    void (*fn)(void *);
    void *arg;
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    s.fn(s.arg);
    return NULL;
}

int conf_thread_start(conf_thread *t, void (*fn)(void *), void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (s == NULL)
        return -1;
    s->fn = fn;
    s->arg = arg;
    if (pthread_create(t, NULL, trampoline, s) != 0) {
        free(s);
        return -1;
    }
    return 0;
}

void conf_thread_join(conf_thread t)
{
    pthread_join(t, NULL);
}

FILE *conf_temp_file(const char *stem, char *path, size_t len)
{
#if defined(HAVE_SECURE_GETENV)
    const char *dir = secure_getenv("TMPDIR");
#else
    const char *dir = getenv("TMPDIR");
#endif
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

void conf_sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

#endif
