/* SPDX-License-Identifier: MIT */
/*
 * core/platform.h - the only place core/ touches the operating system.
 *
 * Two implementations: platform_posix.c and platform_win32.c.  The rest of
 * core/ is shared and calls nothing OS-specific directly.
 */
#ifndef SCHED_PLATFORM_H
#define SCHED_PLATFORM_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Per OS: plugin file suffix; directory separator; separator of the
 * directories in SCHED_PLUGIN_PATH; how "schedctl info" names the origin
 * of the per-user config file. */
#if defined(_WIN32)
#include <windows.h>
typedef SRWLOCK sched__mutex;
typedef CONDITION_VARIABLE sched__cond;
typedef HANDLE sched__thread;
typedef DWORD sched__thread_id;
#define SCHED__PLUGIN_SUFFIX ".dll"
#define SCHED__PATH_SEP '\\'
#define SCHED__PATH_LIST_SEP ';'
#define SCHED__USER_CONFIG_SOURCE "%APPDATA%"
#else
#include <pthread.h>
typedef pthread_mutex_t sched__mutex;
typedef pthread_cond_t sched__cond;
typedef pthread_t sched__thread;
typedef pthread_t sched__thread_id;
#define SCHED__PLUGIN_SUFFIX ".so"
#define SCHED__PATH_SEP '/'
#define SCHED__PATH_LIST_SEP ':'
#define SCHED__USER_CONFIG_SOURCE "$XDG_CONFIG_HOME"
#endif

/* Mutexes and condition variables.  Initialisation cannot fail. */
void sched__mutex_init(sched__mutex *m);
void sched__mutex_destroy(sched__mutex *m);
void sched__mutex_lock(sched__mutex *m);
void sched__mutex_unlock(sched__mutex *m);
void sched__cond_init(sched__cond *c);
void sched__cond_destroy(sched__cond *c);
void sched__cond_wait(sched__cond *c, sched__mutex *m);
/* Wait at most ns; returns 0 when signalled (or spuriously), SCHED_ETIMEDOUT. */
int sched__cond_timedwait(sched__cond *c, sched__mutex *m, uint64_t ns);
void sched__cond_signal(sched__cond *c);
void sched__cond_broadcast(sched__cond *c);

/* Threads. */
int sched__thread_start(sched__thread *t, void (*fn)(void *), void *arg);
void sched__thread_join(sched__thread t);
sched__thread_id sched__thread_self(void);
int sched__thread_equal(sched__thread_id a, sched__thread_id b);
/* "thread 1234 (name)" for abort messages; never fails. */
void sched__thread_describe(sched__thread_id t, char *buf, size_t len);

/* Wait on / wake a 32-bit word (futex, WaitOnAddress).  wait returns when
 * *addr != expected, when woken (or spuriously), or after ns
 * (SCHED_TIMEOUT_NEVER: never), with 0 or SCHED_ETIMEDOUT. */
int sched__word_wait(uint32_t *addr, uint32_t expected, uint64_t ns);
void sched__word_wake_one(uint32_t *addr);
void sched__word_wake_all(uint32_t *addr);

/* Monotonic clock, nanoseconds. */
uint64_t sched__mono_ns(void);
/* CPU time the calling thread has used, nanoseconds (0 if unknown). */
uint64_t sched__thread_cpu_ns(void);
/* Online CPUs, at least 1. */
unsigned sched__num_cpus(void);
/* Forks this process has made since the first call (a child sees one more
 * than its parent did at the fork); always 0 where there is no fork. */
unsigned sched__forks(void);

/* Dynamic loading.  sched__dl_open writes the system's reason into err on
 * failure and returns NULL. */
void *sched__dl_open(const char *path, char *err, size_t errlen);
void *sched__dl_sym(void *lib, const char *name);
void sched__dl_close(void *lib);

/* fopen() of a UTF-8 path (on Windows, _wfopen: fopen would read the path
 * in the ANSI code page).  NULL with errno set on failure. */
FILE *sched__fopen(const char *path, const char *mode);
/* Does path exist as a regular file?  1 or 0. */
int sched__file_exists(const char *path);
/* Read a whole regular file into a malloc'd, NUL-terminated buffer
 * (*len bytes before the NUL), refusing anything else without blocking: a
 * FIFO, device or directory is never read.  0; SCHED__ENOTREG; SCHED__EFBIG
 * when it holds more than max bytes; or an errno value (ENOENT, EACCES,
 * ENOMEM, ...). */
#define SCHED__ENOTREG (-1)
#define SCHED__EFBIG (-2)
int sched__read_file(const char *path, size_t max, char **text, size_t *len);
/* A new temporary file named after stem ("sched-conform-linux"), created
 * exclusively with a name nobody could guess (mkstemp; on Windows
 * GetTempFileName), open for writing; its path, which the caller removes,
 * into path.  NULL with errno set on failure. */
FILE *sched__temp_file(const char *stem, char *path, size_t len);
/* Is path absolute?  1 or 0. */
int sched__path_is_absolute(const char *path);
/* An existing directory as an absolute path (malloc'd), symlinks
 * resolved; NULL with errno set when it cannot be resolved. */
char *sched__absolute_dir(const char *dir);
/* The ownership rule of sched.conf(5) on a file to load or read with
 * this process's privileges (a plugin; an @include'd file in a set-uid
 * program): the file and every directory above it, symlinks resolved,
 * owned by root or the effective user (only root in a set-gid program
 * that is not set-uid) and not writable by group or others (a sticky
 * directory only as an ancestor).  0 with *real, the
 * resolved path to open (malloc'd); SCHED_ELOAD with the reason, naming
 * the offending file or directory, in err; or SCHED_ENOMEM. */
int sched__trusted_path(const char *path, char **real, char *err, size_t errlen);
/* Call fn for each file name in dir (not "." or "..").  0 or SCHED_ENOENT. */
int sched__dir_list(const char *dir, void (*fn)(const char *name, void *arg), void *arg);

/* Is this a set-uid or set-gid process (AT_SECURE)?  1 or 0; 0 on Windows. */
int sched__privileged(void);
/* Could the real user and group, the caller of a set-uid or set-gid
 * program, read path themselves (access(2))?  1 or 0; 1 on Windows. */
int sched__caller_can_read(const char *path);
/* secure_getenv (NULL in set-uid/set-gid programs), or getenv on Windows. */
const char *sched__secure_getenv(const char *name);
/* The per-user config file ($XDG_CONFIG_HOME/sched/sched.conf, or
 * %APPDATA%\sched\sched.conf) and the system one ($(sysconfdir)/sched.conf
 * or %PROGRAMDATA%\sched\sched.conf), as malloc'd strings; NULL when the
 * environment does not give one. */
char *sched__user_config_path(void);
char *sched__system_config_path(void);
/* The built-in plugin directory: $(plugindir) as configured; on Windows
 * <the directory of libsched's DLL or the program>\..\lib\sched-<ABI major>, so an
 * installed tree can be moved.  Static storage; never NULL. */
const char *sched__builtin_plugin_dir(void);

#endif
