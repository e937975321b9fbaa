/* SPDX-License-Identifier: MIT */
/*
 * sched/plugin.h - the libsched backend ABI, version 1.1.
 *
 * A backend is a shared object that exports exactly one symbol,
 * SCHED_PLUGIN_ENTRY (sched_plugin_entry_v1).  The host calls it once after
 * dlopen() with its table of services and receives a descriptor.  The plugin
 * calls the host only through that table: it does not link against libsched,
 * so a plugin built today keeps loading into newer hosts.
 *
 * Rules that keep this ABI alive (see sched-plugin(7)):
 *   - the descriptor and every table start with ABI major, ABI minor and
 *     their own size; the host refuses a different major and treats any
 *     field beyond the plugin's size as absent (NULL);
 *   - new fields are only ever appended, and the minor goes up;
 *   - optional ops may be NULL, each with the documented fallback;
 *   - every runnable handed to a backend is, eventually, either run exactly
 *     once (svc->run) or dropped exactly once (svc->drop), never both.
 */
#ifndef SCHED_PLUGIN_H
#define SCHED_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCHED_PLUGIN_ABI_MAJOR 1
#define SCHED_PLUGIN_ABI_MINOR 1

/* The one symbol a plugin exports, and its name as a string for dlsym(). */
#define SCHED_PLUGIN_ENTRY      sched_plugin_entry_v1
#define SCHED_PLUGIN_ENTRY_NAME "sched_plugin_entry_v1"

#if defined(_WIN32)
#define SCHED_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define SCHED_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SCHED_PLUGIN_EXPORT
#endif

/*
 * Return codes shared by the library and plugins: 0 on success, one of
 * these on failure.  sched_strerror() names each one.  Only appended, and
 * never below -999: the codes from -1000 down to INT_MIN are the
 * application's own, for its futures to fail with (sched_future(3)).
 */
enum sched_status {
    SCHED_OK = 0,
    SCHED_EINVAL = -1,      /* an argument is NULL or out of range */
    SCHED_ENOMEM = -2,      /* out of memory; nothing was lost */
    SCHED_ENOENT = -3,      /* not found (file, key, backend, task) */
    SCHED_ECONFIG = -4,     /* the configuration is invalid */
    SCHED_ELOAD = -5,       /* a plugin was refused */
    SCHED_ECLOSED = -6,     /* the host or executor is closed */
    SCHED_ETIMEDOUT = -7,   /* a timeout elapsed first */
    SCHED_ECANCELED = -8,   /* the task was cancelled */
    SCHED_EDEADLK = -9,     /* nothing runnable and nothing can wake the waiter */
    SCHED_EWRONGTHREAD = -10,   /* called from a thread the object is not bound to */
    SCHED_ENOSESSION = -11, /* no current session */
    SCHED_ESESSION = -12,   /* unknown or already ended session */
    SCHED_EDANGLING = -13,  /* undeclared work still running at cleanup */
    SCHED_ECROSS = -14,     /* awaited across requests */
    SCHED_ELIMIT = -15,     /* a configured limit was reached */
    SCHED_ENOTSUP = -16,    /* not supported by this backend */
    SCHED_EHUNG = -17,      /* a request can never complete */
    SCHED_EBACKEND = -18,   /* the backend failed; see the error message */
    SCHED_EAGAIN = -19,     /* a system limit on threads, processes, descriptors
                             * or address space was reached (EAGAIN, EMFILE):
                             * may succeed once resources are freed or the
                             * limit is raised */
    SCHED_ECPU = -20,       /* a request used more CPU time than its limit */
    SCHED_EEMPTY = -21      /* nothing to take yet (an open, empty channel) */
};

/* Infinite timeout for park(). */
#define SCHED_TIMEOUT_NEVER UINT64_MAX

/*
 * Task priorities.  Higher values run first.  SCHED_PRIORITY_MEDIUM is the
 * default.  A backend without a dedicated real-time thread treats REALTIME
 * as HIGH.
 */
typedef enum sched_priority {
    SCHED_PRIORITY_LOW = 0,
    SCHED_PRIORITY_MEDIUM = 1,
    SCHED_PRIORITY_HIGH = 2,
    SCHED_PRIORITY_REALTIME = 3
} sched_priority;

/*
 * A runnable: one scheduled step of a host task.  The host allocates it; a
 * backend that receives one owns it until it calls svc->run or svc->drop.
 * While a backend owns a runnable it may use backend_slot freely (to link it
 * into an intrusive queue, for instance, so scheduling never allocates); the
 * host neither reads nor writes those words until the runnable is given
 * back.  Everything after backend_slot is private to the host.
 */
typedef struct sched_runnable {
    void *backend_slot[2];
} sched_runnable;

/*
 * Scratch space for park()/unpark().  The host zeroes it before the first
 * park() of a blocking call and keeps it alive until every unpark() aimed at
 * it has returned.  A backend may store a futex word or similar here but no
 * resource that needs freeing: there is no "fini" call.
 */
typedef struct sched_parker {
    uint64_t backend_slot[4];
} sched_parker;

/* What the host can tell a backend about a runnable (svc->info). */
typedef struct sched_runnable_info {
    uint32_t size;          /* set by the caller to sizeof(sched_runnable_info) */
    uint32_t priority;      /* sched_priority */
    uint64_t task_id;       /* unique in the process, never 0 */
    uint64_t executor_id;   /* foreground executor's id; 0 for background work */
    uint64_t session_id;    /* session the task belongs to; 0 for none */
    const char *label;      /* NULL when the task has none */
    const char *file;       /* spawn site; NULL when unknown */
    const char *func;
    int line;
} sched_runnable_info;

/* The host object, as a backend sees it: an opaque handle for services. */
typedef struct sched_plugin_host sched_plugin_host;

enum sched_log_level {
    SCHED_LOG_ERROR = 0,
    SCHED_LOG_WARN = 1,
    SCHED_LOG_INFO = 2,
    SCHED_LOG_DEBUG = 3
};

/*
 * Types a backend can declare for its config keys (see config_keys below).
 */
typedef enum sched_config_type {
    SCHED_CONFIG_INT = 1,    /* libconfig int or int64 */
    SCHED_CONFIG_BOOL = 2,
    SCHED_CONFIG_FLOAT = 3,  /* accepts ints too */
    SCHED_CONFIG_STRING = 4
} sched_config_type;

/*
 * One key a backend accepts in its config group.  The host validates the
 * group against this list before create(): an unknown key, a wrong type or
 * an integer outside [min, max] is a config error naming file, line and
 * key, and the backend is never created.
 */
typedef struct sched_config_key {
    const char *name;
    sched_config_type type;
    int64_t min;            /* SCHED_CONFIG_INT only */
    int64_t max;
    const char *doc;        /* one line, shown by "schedctl info" */
} sched_config_key;

/*
 * Services the host offers to a plugin.  Passed to the entry function and
 * again to create(); the table lives as long as the process.
 */
typedef struct sched_host_services {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size;          /* sizeof(sched_host_services) of the host */

    /* Run r now, on the calling thread.  Consumes r. */
    void (*run)(sched_runnable *r);
    /* Give r back without running it (shutdown).  Consumes r; the task's
     * future is dropped and its awaiters see SCHED_ECANCELED. */
    void (*drop)(sched_runnable *r);
    /* Describe r.  out->size must be set.  Safe from any thread while the
     * backend owns r.  Returns 0. */
    int (*info)(const sched_runnable *r, sched_runnable_info *out);

    /* Hand a line to the application's log handler (never printed by the
     * library itself).  Any thread. */
    void (*log)(sched_plugin_host *h, int level, const char *msg);

    /* Read this backend's config group.  Return 0 and set *out when the key
     * is present, SCHED_ENOENT when it is absent (use your default).  Types
     * were checked against config_keys before create(). */
    int (*config_int)(sched_plugin_host *h, const char *key, int64_t *out);
    int (*config_bool)(sched_plugin_host *h, const char *key, int *out);
    int (*config_float)(sched_plugin_host *h, const char *key, double *out);
    /* The string stays valid until destroy() returns. */
    int (*config_string)(sched_plugin_host *h, const char *key, const char **out);
    /* Build a config error for key (file and line are added by the host)
     * and copy it into err; for create() to return SCHED_ECONFIG with. */
    void (*config_error)(sched_plugin_host *h, const char *key, const char *reason,
                         char *err, size_t errlen);

    /* Is the task with this id still live (spawned, not finished, not
     * cancelled)?  Any thread.  Returns 1 or 0. */
    int (*task_is_live)(sched_plugin_host *h, uint64_t task_id);
    /* Write a report of every live task (id, label, priority, spawn site,
     * what it waits on), one per line, into buf; returns the length it
     * needed, like snprintf.  For deadlock and hang reports. */
    size_t (*describe_tasks)(sched_plugin_host *h, char *buf, size_t len);
    /* Process-wide overrides read with secure_getenv: "SCHED_SEED",
     * "SCHED_ITERATIONS", ...  NULL when unset or in a set-uid program. */
    const char *(*getenv)(const char *name);
} sched_host_services;

/* Passed to create(). */
typedef struct sched_backend_env {
    uint32_t size;                       /* sizeof(sched_backend_env) */
    const sched_host_services *svc;
    sched_plugin_host *host;
} sched_backend_env;

/*
 * The Scheduler surface.  "self" is what create() returned.
 *
 * REQUIRED ops (the loader refuses a plugin without them):
 *   create, destroy, schedule, schedule_main, run, stop.
 * OPTIONAL ops and the host's fallback when NULL:
 *   schedule_labeled -> schedule (label and priority ignored)
 *   schedule_after   -> the host's own timer thread, then schedule/schedule_main
 *   now              -> the OS monotonic clock
 *   is_main_thread   -> "is this the thread that opened the host"
 *   park, unpark     -> the host's own futex/condvar parker (both or neither)
 *   num_cpus         -> the OS's count of online CPUs
 *   query            -> no extension interfaces
 *   cancel_after     -> (ABI 1.1) none: a dropped timer's runnable stays
 *                       queued until due, then runs a wake-up nobody waits
 *                       for (a simulated clock still advances to it)
 */
typedef struct sched_backend_ops {
    /* Create a scheduler instance.  Called once, on the thread that opens
     * the host (which becomes the main thread).  On failure return a
     * negative SCHED_E* code and a one-sentence reason in err. */
    int (*create)(const sched_backend_env *env, void **self, char *err, size_t errlen);

    /* Stop every thread, drop (svc->drop) every runnable still queued or
     * pending on a timer, exactly once, and free self.  After it returns no
     * callback of this backend runs.  Called on the main thread. */
    void (*destroy)(void *self);

    /* Queue r for a background thread.  Any thread.  Returns 0 when the
     * backend took r, or a negative code (SCHED_ECLOSED, SCHED_ENOMEM) when
     * it did not, in which case the caller still owns r. */
    int (*schedule)(void *self, sched_runnable *r);

    /* As schedule, with the task's label (may be NULL) and priority. */
    int (*schedule_labeled)(void *self, sched_runnable *r, const char *label,
                            sched_priority prio);

    /* Queue r for the main thread.  Any thread.  Ownership as schedule. */
    int (*schedule_main)(void *self, sched_runnable *r);

    /* Queue r after delay_ns (never earlier), on the main thread when
     * main is non-zero, else in the background.  Any thread. */
    int (*schedule_after)(void *self, sched_runnable *r, uint64_t delay_ns, int main);

    /* Monotonic time in nanoseconds (virtual for simulated backends). */
    uint64_t (*now)(void *self);

    /* Non-zero on the backend's main thread.  Any thread. */
    int (*is_main_thread)(void *self);

    /* Block the calling thread until unpark(p) or timeout_ns elapses
     * (SCHED_TIMEOUT_NEVER: no timeout).  Returns 0 when unparked (spurious
     * returns are allowed: the host re-checks), SCHED_ETIMEDOUT, or
     * SCHED_EDEADLK when the backend can prove nothing will ever unpark p. */
    int (*park)(void *self, sched_parker *p, uint64_t timeout_ns);
    /* Wake the thread parked (or about to park) on p.  Any thread. */
    void (*unpark)(void *self, sched_parker *p);

    unsigned (*num_cpus)(void *self);

    /* Run the main-thread loop on the calling (main) thread until stop().
     * Returns 0, or a negative code. */
    int (*run)(void *self);
    /* Make run() return soon.  Any thread. */
    void (*stop)(void *self);

    /* Extension interfaces: return a table for (iface, version) or NULL.
     * The table lives as long as self.  "sched.test" version 1 is
     * sched_test_iface_v1 (sched/test.h); "sched.pollable" version 1 is
     * sched_pollable_iface_v1 below. */
    const void *(*query)(void *self, const char *iface, uint32_t version);

    /* ---- ABI 1.1 ---- */

    /* Take r back: when r, queued by schedule_after, is still waiting for
     * its delay, remove it and drop it (svc->drop) before returning 0.
     * When r is no longer waiting (it was run, is being run, or was moved
     * to a run queue), change nothing and return SCHED_ENOENT.  Any
     * thread.  r's memory is valid during the call, but r may be one this
     * backend has already given back: find it by the backend's own
     * records (a heap index kept in backend_slot must be checked against
     * the heap), never by trusting backend_slot alone.  A simulated clock
     * must not advance to a timer taken back. */
    int (*cancel_after)(void *self, sched_runnable *r);
} sched_backend_ops;

/* The descriptor the entry function returns.  Static storage in the plugin. */
typedef struct sched_plugin_descriptor {
    uint32_t abi_major;     /* SCHED_PLUGIN_ABI_MAJOR */
    uint32_t abi_minor;     /* SCHED_PLUGIN_ABI_MINOR */
    uint32_t size;          /* sizeof(sched_plugin_descriptor) */
    uint32_t reserved;      /* 0 */
    const char *name;       /* must equal the file's base name */
    const char *description;    /* one line */
    const char *version;    /* the backend's own version string */
    const sched_config_key *config_keys;    /* terminated by {NULL}; may be NULL */
    sched_backend_ops ops;
} sched_plugin_descriptor;

/* The smallest descriptor a v1 host accepts: everything up to and including
 * the last v1.0 op, query.  An ABI 1.0 plugin's descriptor is this size; the
 * ops after it (cancel_after) are absent for it. */
#define SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE \
    (offsetof(sched_plugin_descriptor, ops.query) + sizeof(((sched_plugin_descriptor *)0)->ops.query))

typedef const sched_plugin_descriptor *(*sched_plugin_entry_fn)(const sched_host_services *svc);

/*
 * "sched.pollable" v1: a main-thread queue an application's own event loop
 * can drain.  fd becomes readable when main-thread work is queued; dispatch
 * runs what is queued now and returns how many runnables it ran.
 */
typedef struct sched_pollable_iface_v1 {
    uint32_t size;
    int (*fd)(void *self);
    int (*dispatch)(void *self);
} sched_pollable_iface_v1;

/*
 * "sched.session" v1: the rules a backend imposes on sessions (requests,
 * sched_session(3)).  The host's session layer asks for it once per
 * host; a backend that returns NULL imposes none.  The backend itself
 * enforces max_timers_per_session in schedule_after (by the runnable's
 * session_id, refusing with SCHED_ELIMIT); the host enforces the rest.
 * Fields after max_timers_per_session were appended: the host reads one
 * only when size covers it, and a NULL op is absent.
 */
#define SCHED_SESSION_POLICY_NO_CROSS_AWAIT 0x1u /* awaiting another session's task fails: SCHED_ECROSS */
#define SCHED_SESSION_POLICY_ABORT_HUNG     0x2u /* a session that can never finish is aborted: SCHED_EHUNG */
#define SCHED_SESSION_POLICY_CANCEL_UNDECLARED 0x4u /* undeclared work is cancelled when its request ends */

typedef struct sched_session_policy_iface_v1 {
    uint32_t size;
    uint32_t flags;                     /* SCHED_SESSION_POLICY_* */
    uint64_t wait_until_limit_ns;       /* declared work is cancelled this long after
                                         * its session ends; 0: never */
    uint64_t max_timers_per_session;    /* pending timers per session; 0: no limit */
    uint64_t cpu_limit_ns;              /* CPU time one session's tasks may use (measured
                                         * by the host around their polls); 0: no limit */
    /* Timers the backend holds armed for session_id; for session_id 0,
     * those of no session.  Main thread. */
    uint64_t (*pending_timers)(const struct sched_session_policy_iface_v1 *self,
                               uint64_t session_id);
    /* Register fn (NULL: none), which the backend calls on the main thread,
     * holding no lock of its own, whenever its loop has nothing ready:
     * before moving the clock to the next timer (stalled 0), or when no
     * timer is armed and no wake came from outside (stalled 1).  fn
     * returns non-zero when it made work ready.  For per-session hang
     * detection (SCHED_SESSION_POLICY_ABORT_HUNG). */
    void (*set_idle_hook)(const struct sched_session_policy_iface_v1 *self,
                          int (*fn)(void *arg, int stalled), void *arg);
} sched_session_policy_iface_v1;

#ifdef __cplusplus
}
#endif

#endif
