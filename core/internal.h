/* SPDX-License-Identifier: MIT */
/*
 * core/internal.h - what the files of core/ share with each other.
 *
 * Internal names are sched__*; nothing here is exported from libsched.so
 * (the version script exports sched_* only).  The files of core/ are in
 * layers (core/README: the list, and the one rule that a file includes
 * and calls only its own layer and those below); this header holds
 * declarations only, and every layer may include it.  A name belongs to
 * the layer of the file that defines it.  Each module keeps its own
 * state behind an opaque pointer in struct sched_host, so a module's
 * layout changes touch only its own file.
 */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"
#include "sched/test.h"
#include "platform.h"
#include "hooks.h"

struct sched__config;      /* config.c */
struct sched__tasks;       /* task.c: the registry of live tasks */
struct sched__timers;      /* timer.c: the fallback timer thread */
struct sched__sessions;    /* session.c */

struct sched__foreign;       /* test_foreign.c */
struct sched_test {         /* test.c: the sched_as_test() handle */
    const sched_test_iface_v1 *iface;
    void *self;
    struct sched__foreign *foreign;     /* test_foreign.c; NULL: not watched */
};

enum { SCHED__SESSIONS_MADE = 1, SCHED__SPAWNS_WATCHED = 2 };

struct sched_host {
    /* loader.c */
    void *lib;                              /* sched__dl_open handle */
    const sched_plugin_descriptor *desc;
    sched_backend_ops ops;                  /* ops beyond desc->size are NULL */
    void *backend;                          /* what ops.create returned */
    char *plugin_path;

    /* hooks.h: what the layers above the task core registered with it at
     * open; read on every spawn, next to ops. */
    struct sched__hooks hooks;

    /* config.c */
    struct sched__config *cfg;

    /* host.c.  The host's memory outlives sched_host_close while an
     * executor, a foreground executor or a blocked call's waker still
     * refers to it (refs), so that what they do after the close finds a
     * closed host instead of freed memory. */
    sched__thread_id main_thread;
    atomic_int closed;
    unsigned forks;                         /* sched__forks() at open: other in a forked child */

    struct sched__tasks *tasks;             /* task.c */
    struct sched__timers *timers;           /* timer.c; NULL until first used */
    struct sched__sessions *sessions;       /* session.c; NULL until first used */
    /* Non-zero: a spawn takes the slow path's checks.  SCHED__SESSIONS_MADE
     * (session.c) once sessions is set, SCHED__SPAWNS_WATCHED (test_foreign.c)
     * at open when a test layer hears of every spawn; never cleared.  One
     * word, so the detached spawn's fast path tests both with one load. */
    atomic_int sessions_made;
    struct sched_test test;                 /* test.c; iface NULL when absent */

    /* host.c: 1 until closed, +1 per holder.  Apart from the fields every
     * spawn reads (closed, ops): each sched_block changes it twice. */
    char refs_apart[64];
    _Atomic uint32_t refs;
};

/* hostref.c: a reference that keeps the host's memory (not its backend)
 * alive past sched_host_close; the last unref frees it (after
 * hooks.host_free).  Any thread. */
void sched__host_ref(sched_host *host);
void sched__host_unref(sched_host *host);

/* The services table every plugin receives (services.c). */
extern const sched_host_services sched__services;

/* printf-style checking of our own formatting functions.  They format
 * with the C library's vsnprintf, which on mingw-w64 (built with
 * __USE_MINGW_ANSI_STDIO through _GNU_SOURCE) is the C99 one, not
 * msvcrt's: check against GNU's rules there, or %zu is refused. */
#if defined(__MINGW32__)
#define SCHED__PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define SCHED__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SCHED__PRINTF(fmt, args)
#endif

/* error.c: build an error; err may be NULL.  Returns code. */
int sched__error_set(sched_error **err, int code, const char *fmt, ...) SCHED__PRINTF(3, 4);
/* log.c: hand a line to the application's log handler. */
void sched__log(int level, const char *fmt, ...) SCHED__PRINTF(2, 3);

/* misuse.c: the documented abort for a misuse no return code can report.
 * Prints "libsched: fatal: FUNC: <sentence>" to stderr and aborts. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void sched__misuse(const char *func, const char *fmt, ...) SCHED__PRINTF(2, 3);
/* Debug mode (libsched(7)): non-zero when freed handles are poisoned and
 * misuse is checked.  sched__release frees a handle's memory (size bytes),
 * poisoned and quarantined in debug mode.  A freed handle's 32-bit words
 * then read SCHED__POISON32, which no live state word can equal. */
extern atomic_int sched__debug_mode;    /* -1 until read: sched__debug_read */
int sched__debug_read(void);
/* Inline: it guards every handle check, on the spawn path too. */
static inline int sched__debug(void)
{
    int on = atomic_load_explicit(&sched__debug_mode, memory_order_relaxed);
    return on >= 0 ? on : sched__debug_read();
}
void sched__release(void *p, size_t size);
#define SCHED__POISON_BYTE 0xde
#define SCHED__POISON32 0xdedededeu

/* config_scan.c: what libconfig 1.5 does not check, checked on the text of
 * every file of a configuration before libconfig parses it. */
#define SCHED__CONFIG_MAX_BYTES (1024 * 1024)
#define SCHED__CONFIG_MAX_SETTINGS 4096
#define SCHED__CONFIG_MAX_NESTING 64
/* One @include of a scanned file: the bytes [start, end) of the file's
 * text it takes (from the start of its line to the closing quote) and
 * the file it read, an index into the scan's files. */
struct sched__scan_include {
    size_t start, end;
    size_t file;
};
struct sched__scan_file {
    char *path;             /* as it was read */
    char *text;             /* NUL-terminated */
    size_t len;
    size_t skip;            /* a byte-order mark before the text */
    size_t from;            /* index of the including file; the main one: itself */
    int from_line;
    struct sched__scan_include *includes;   /* in the order of the text */
    size_t nincludes;
};
struct sched__config_scan {
    /* The file to read for @include "path" in the file including, as a
     * malloc'd string; NULL with the reason in why, or with why empty
     * when out of memory. */
    char *(*include_path)(void *arg, const char *including, const char *path, char *why,
                          size_t len);
    void *arg;
    size_t bytes;           /* read so far, every file */
    size_t settings;        /* counted so far, every file */
    struct sched__scan_file *files;
    size_t nfiles;
};
void sched__config_scan_init(struct sched__config_scan *sc,
                             char *(*include_path)(void *, const char *, const char *, char *, size_t),
                             void *arg);
int sched__config_scan(struct sched__config_scan *sc, const char *path, const char **text,
                       sched_error **err);
void sched__config_scan_context(const struct sched__config_scan *sc, const char *file, int line,
                                char *buf, size_t len);
void sched__config_scan_free(struct sched__config_scan *sc);

/* config_include.c: @include resolved against the including file's
 * directory, and the scanned files spliced into one text for libconfig
 * with a map from its lines back to each file's own. */
struct sched__config_lines;
char *sched__include_resolve(const char *including, const char *path);
int sched__include_expand(const struct sched__config_scan *sc, char **text,
                          struct sched__config_lines **lines);
void sched__include_locate(const struct sched__config_lines *lines, int line, const char **file,
                           int *orig);
void sched__include_lines_free(struct sched__config_lines *lines);
#ifdef LIBCONFIG_VER_MAJOR
void sched__include_relocate(const struct sched__config_lines *lines, config_setting_t *root);
#endif

/* config.c: the effective configuration of sched.conf(5). */
int sched__backend_name_valid(const char *name);
/* The longest backend name: it is a file's base name (NAME_MAX). */
#define SCHED__BACKEND_NAME_MAX 255
int sched__config_load(const char *path, struct sched__config **out, sched_error **err);
void sched__config_free(struct sched__config *cfg);
/* The file read, or "(built-in)"; and how it was chosen. */
const char *sched__config_file(const struct sched__config *cfg);
const char *sched__config_source(const struct sched__config *cfg);
const char *sched__config_backend(const struct sched__config *cfg);
/* "file:line" or "$SCHED_BACKEND". */
const char *sched__config_backend_origin(const struct sched__config *cfg);
/* "file:line" of the fallback list, or NULL when there is none. */
const char *sched__config_fallback_origin(const struct sched__config *cfg);
size_t sched__config_fallbacks(const struct sched__config *cfg, const char *const **names);
/* plugin_path (or $SCHED_PLUGIN_PATH), without the built-in directory. */
size_t sched__config_plugin_dirs(const struct sched__config *cfg, const char *const **dirs);
/* Non-zero when SCHED_NOSYSTEM=1: ignore the system-wide config file and
 * the built-in plugin directory (a run that depends on nothing installed,
 * as the test suite's must). */
int sched__nosystem(void);
/* The environment as the backend sees it: the real one, and PCT's k while
 * sched_test_run_seeds learns it (test_seeds.c). */
const char *sched__test_getenv(const char *name);
int sched__config_validate_group(const struct sched__config *cfg, const char *backend,
                                 const sched_config_key *keys, sched_error **err);
int sched__config_get(const struct sched__config *cfg, const char *backend, const char *key,
                      sched_config_type type, void *out);
void sched__config_key_error(const struct sched__config *cfg, const char *backend,
                             const char *key, const char *reason, char *buf, size_t len);
typedef void (*sched__config_visit_fn)(const char *name, const char *value, const char *origin,
                                       void *arg);
void sched__config_each(const struct sched__config *cfg, sched__config_visit_fn fn, void *arg);

/* loader.c: finding, checking and loading plugin files. */
struct sched__plugin {
    void *lib;
    const sched_plugin_descriptor *desc;
    sched_backend_ops ops;                  /* ops beyond desc->size are NULL */
    char *path;
};
/* The directories searched, in order: the config's, then the built-in one.
 * A malloc'd array of borrowed strings; free() the array. */
size_t sched__plugin_search_dirs(const struct sched__config *cfg, const char ***dirs);
/* Call fn once per backend name found along dirs (first file wins). */
void sched__plugin_each(const char *const *dirs, size_t ndirs,
                        void (*fn)(const char *name, const char *path, void *arg), void *arg);
int sched__plugin_find(const char *name, const char *const *dirs, size_t ndirs, char **path,
                       sched_error **err);
/* Open and check one plugin file (not created), handing it svc (NULL: the
 * library's own services).  On failure p is zeroed. */
int sched__plugin_open(const char *path, const sched_host_services *svc,
                       struct sched__plugin *p, sched_error **err);
void sched__plugin_close(struct sched__plugin *p);
/* Call fn(path) before each plugin file is opened; for schedctl. */
void sched__loader_trace(void (*fn)(const char *path));
/* Load and create host->cfg's backend (or a listed fallback) into host. */
int sched__loader_open(sched_host *host, const sched_host_services *svc, sched_error **err);
/* After ops.destroy: unload the plugin. */
void sched__loader_unload(sched_host *host);

/* task.c: the task core's share of the host's life. */
int sched__tasks_init(sched_host *host);
/* After the backend is destroyed: drop every remaining live task's future
 * exactly once and free what nothing else references. */
void sched__tasks_close(sched_host *host);
/* task_run.c: the services behind svc->run, svc->drop, svc->info. */
void sched__runnable_run(sched_runnable *r);
void sched__runnable_drop(sched_runnable *r);
int sched__runnable_info(const sched_runnable *r, sched_runnable_info *out);
int sched__task_is_live(sched_host *host, uint64_t task_id);
size_t sched__describe_tasks(sched_host *host, char *buf, size_t len);

/* timer.c: the host's fallback for backends without schedule_after. */
int sched__timer_schedule(sched_host *host, sched_runnable *r, uint64_t delay_ns, int main);
/* Take r back if it still waits there, and drop it.  0, or SCHED_ENOENT. */
int sched__timer_cancel(sched_host *host, sched_runnable *r);
void sched__timers_close(sched_host *host);
/* Free them, after sched__timers_close and after sched__tasks_close has
 * dropped every task (a timer future's drop may still take its wake-up
 * back from them). */
void sched__timers_free(sched_host *host);

/* test_seeds.c: task ids of a history replaced by their ordinals. */
void sched__test_ordinals(const sched_test_step *steps, size_t n, uint64_t *out);

/* block.c: fill in the blocking layer's hooks (hooks.h): the main
 * thread's kick and a blocked thread's waker.  At host open. */
void sched__block_hooks(struct sched__hooks *hooks);

/* test_foreign.c: the test layer's hook (hooks.h) that hears of wakers
 * used on threads the backend does not run, installed once the backend
 * exists when it offers the foreign_activity op (0, or SCHED_ENOMEM);
 * and freeing what it recorded, once the task core is closed. */
int sched__test_hooks(sched_host *host);
void sched__test_close(sched_host *host);

/* session.c */
void sched__sessions_close(sched_host *host);
/* Fill in the session layer's hooks (hooks.h): the session a spawn or a
 * timer joins, and the check of an await across sessions.  At host open. */
void sched__session_hooks(struct sched__hooks *hooks);
/* The session of what runs now: the session being polled or entered on
 * the main thread, 0 on any other thread or outside sessions.  The task
 * core learns it through hooks.spawn_session, once per spawn, before the
 * task is first scheduled; keeps the id in the task and reports it to the
 * backend as sched_runnable_info.session_id.  Any thread. */
uint64_t sched__session_current(sched_host *host);
/* Whether the task being polled may use an I/O object (what: "a
 * oneshot", "a channel") that belongs to owner: SCHED_ECROSS when the
 * backend forbids it and they differ, the sentence logged and kept for
 * the error of sched_session_block (and copied into *err when err is not
 * NULL).  Channels learn it through hooks.io_check.  Main thread; any
 * other thread gets 0. */
int sched__session_check_io(sched_host *host, uint64_t owner, const char *what,
                            sched_error **err);
/* task_waker.c: the session and host of the task a waker wakes; 0 (and *host
 * NULL) for a blocked thread's waker or a task of no session. */
uint64_t sched__waker_session(sched_waker *w, sched_host **host);

#endif
