/* SPDX-License-Identifier: MIT */
/*
 * sched/sched.h - libsched: one scheduler interface, many backends.
 *
 * The host loads the backend a config file names (sched.conf(5)) and owns
 * the task machinery: futures, wakers, tasks, executors, timers, block.
 * Every function that can fail returns 0 or a negative SCHED_E* code
 * (sched/plugin.h); sched_strerror() names it.  The library never prints
 * and never exits, except for the documented aborts of libsched(7): a
 * foreground executor used from a thread it is not bound to, a host closed
 * off its main thread, a waker used off a simulated backend's thread after
 * the test ended.
 *
 * See libsched(7) for the overview.
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include <sched/plugin.h>   /* sched_priority, status codes */
#include <sched/version.h>  /* SCHED_VERSION_*, SCHED_CHECK_VERSION */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors and logging ------------------------------------------------ */

/* A failure explained in one sentence; created by the library, freed by the
 * caller with sched_error_free().  Out-parameters of type sched_error ** may
 * be NULL when the caller does not want the sentence. */
typedef struct sched_error sched_error;

int sched_error_code(const sched_error *err);
const char *sched_error_message(const sched_error *err);
void sched_error_free(sched_error *err);

/* A static, never-NULL name for a code: sched_strerror(SCHED_ENOENT). */
const char *sched_strerror(int code);

/* The version of the library the program runs with ("0.1.0"), which may be
 * newer than SCHED_VERSION_STRING, the one it was compiled against. */
const char *sched_version(void);

/* Where the library's log lines go (fallbacks taken, backend notices).
 * Process-wide; NULL discards (the default).  The handler may be called
 * from any thread. */
typedef void (*sched_log_fn)(int level, const char *msg, void *userdata);
void sched_log_set_handler(sched_log_fn fn, void *userdata);

/* ---- the host ---------------------------------------------------------- */

typedef struct sched_host sched_host;

/*
 * Open a host: read the config (config_path, or NULL for the lookup order of
 * sched.conf(5)), load its backend and create it.  The calling thread
 * becomes the host's main thread.  On failure returns a negative code, sets
 * *out to NULL and, when err is not NULL, *err to a sentence naming the
 * file, line and setting, or the plugin path and the reason.
 */
int sched_host_open(sched_host **out, const char *config_path, sched_error **err);

/*
 * Close the host on its main thread (from another thread it aborts, see
 * sched_host_open(3)): every task still pending has its future dropped
 * exactly once, every task is freed, the backend is destroyed and
 * unloaded.  No callback runs after this returns.  A spawn while it runs
 * (from a future's drop, say) fails with SCHED_ECLOSED.  The host's memory
 * lives on while an executor, a foreground executor or a blocked call's
 * waker still refers to it: calls through them (and on the host) then
 * return SCHED_ECLOSED, NULL or nothing.  Task handles, wakers, channels
 * and oneshots may be used and freed afterwards.  sched_host_open(3)
 * lists every call that is safe after the close.
 */
void sched_host_close(sched_host *host);

const char *sched_host_backend_name(const sched_host *host);
/* Path of the loaded plugin file and of the config actually read
 * ("(built-in)" for the compiled-in default). */
const char *sched_host_plugin_path(const sched_host *host);
const char *sched_host_config_path(const sched_host *host);

/* Run the main-thread loop until sched_host_stop().  Main thread only. */
int sched_host_run(sched_host *host);
/* Make sched_host_run() return.  Any thread. */
void sched_host_stop(sched_host *host);

/*
 * Main-loop integration for applications with their own event loop (GTK,
 * libuv, epoll): *fd becomes readable when main-thread work is queued;
 * sched_host_dispatch() runs what is queued and returns how many ran (or a
 * negative code).  SCHED_ENOTSUP when the backend has no pollable queue.
 */
int sched_host_poll_fd(sched_host *host, int *fd);
int sched_host_dispatch(sched_host *host);

/*
 * A backend's own extension interface: its table for (iface, version) in
 * *table and, in *self, the backend instance every function of the table
 * takes as its first argument.  0; SCHED_ENOENT when the backend offers
 * no such interface (both set to NULL); SCHED_EINVAL for a NULL argument.
 * The table and self live until sched_host_close.  See sched_host_query(3).
 */
int sched_host_query(sched_host *host, const char *iface, uint32_t version,
                     const void **table, void **self);

/* The backend's monotonic clock in ns and its CPU count; with a NULL (or
 * closed) host, the operating system's. */
uint64_t sched_host_now(sched_host *host);
unsigned sched_host_num_cpus(sched_host *host);
int sched_host_is_main_thread(sched_host *host);

/* ---- futures ------------------------------------------------------------ */

/* The value a future produces.  A pointer it carries is owned by whoever
 * receives it. */
typedef union sched_value {
    void *ptr;
    int64_t i;
    uint64_t u;
    double d;
} sched_value;

/* poll() returns SCHED_PENDING, 0 (ready: *out is set), or a negative code
 * (ready, failed: SCHED_ECANCELED, SCHED_ETIMEDOUT, ...).  Any negative int
 * reaches whoever blocks on, joins or awaits the future unchanged; codes
 * from -1000 down to INT_MIN are free for the application's own use. */
#define SCHED_PENDING 1

typedef struct sched_context sched_context;   /* passed to poll */
typedef struct sched_waker sched_waker;
typedef struct sched_future sched_future;

typedef struct sched_future_ops {
    /* Make progress.  Returning SCHED_PENDING without having arranged a
     * wake-up (a waker cloned from cx and stored somewhere that will wake
     * it) means the future is never polled again. */
    int (*poll)(sched_future *self, sched_context *cx, sched_value *out);
    /* Release the future.  Called exactly once, whether or not it completed. */
    void (*drop)(sched_future *self);
} sched_future_ops;

/* Every future begins with this.  A future is owned by exactly one holder,
 * which polls it and eventually drops it. */
struct sched_future {
    const sched_future_ops *ops;
};

int sched_future_poll(sched_future *f, sched_context *cx, sched_value *out);
void sched_future_drop(sched_future *f);

/* The waker of the task being polled; borrowed, valid during poll only. */
sched_waker *sched_context_waker(sched_context *cx);
/* Say what the polled task now waits on, for deadlock and hang reports
 * ("timer due at 5000000 ns", "channel 0x..").  reason must outlive the
 * wait (a literal, or storage in the future). */
void sched_context_set_wait_reason(sched_context *cx, const char *reason);
/* The host of the task being polled. */
sched_host *sched_context_host(sched_context *cx);

/*
 * Fail with a message of one's own: records the formatted sentence for a
 * failure with code (negative) and returns code, so that a poll (or a
 * sched_try_fn) ends with
 *     return sched_context_fail(cx, APP_EBADBLOCK, "block %zu: %s", i, why);
 * The message is kept only if the poll returns that very code; it then
 * travels with the failure: to whoever joins the task (and on, when the
 * joiner fails with the same code), into sched_block's error as its
 * sentence, and into the log when the task was detached and nobody can
 * join it.  A later call in the same poll replaces it (its arguments may
 * quote the old one).  Out of memory, the code goes on without a message.
 * Returns SCHED_EINVAL, recording nothing, when code is not negative.
 */
int sched_context_fail(sched_context *cx, int code, const char *fmt, ...)
#if defined(__MINGW32__)
    __attribute__((format(gnu_printf, 3, 4)))   /* the library formats with C99's rules */
#elif defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The message recorded in this poll so far (by sched_context_fail, or by
 * a join whose task failed with one), or NULL.  Valid until the next
 * sched_context_fail on cx or the end of the poll. */
const char *sched_context_fail_message(sched_context *cx);

/* Wakers: clone to keep, wake from any thread, drop when done. */
sched_waker *sched_waker_clone(sched_waker *w);
void sched_waker_wake(sched_waker *w);          /* wake and drop */
void sched_waker_wake_by_ref(sched_waker *w);   /* wake, keep */
void sched_waker_drop(sched_waker *w);

/* ---- ready-made futures -------------------------------------------------- */

/* Runs fn(arg) once when polled; its return value is the output.  arg is
 * borrowed: nothing releases it if fn never runs. */
typedef sched_value (*sched_fn)(void *arg);
sched_future *sched_future_fn(sched_fn fn, void *arg);

/* Releases what a function's argument owns when the function never runs. */
typedef void (*sched_drop_fn)(void *arg);

/*
 * As sched_future_fn, but the future owns arg: if it is dropped before fn
 * was called (its task cancelled or freed unfinished, a spawn refused, the
 * host closed with the task still queued), drop(arg) is called, exactly
 * once.  Once fn has been called, arg is fn's and drop is never called.
 * drop may be NULL.  Returns NULL when fn is NULL or out of memory, having
 * called drop(arg) already.
 */
sched_future *sched_future_fn_with_drop(sched_fn fn, void *arg, sched_drop_fn drop);

/*
 * A function that can fail: returns 0 with *out set, or a negative code the
 * future fails with (a positive return fails it with SCHED_EINVAL).  cx is
 * the context of the poll that calls it (for sched_context_host() and
 * sched_context_fail()).  sched_future_try_fn owns arg as
 * sched_future_fn_with_drop does.
 */
typedef int (*sched_try_fn)(void *arg, sched_context *cx, sched_value *out);
sched_future *sched_future_try_fn(sched_try_fn fn, void *arg, sched_drop_fn drop);
/* Ready at once with v. */
sched_future *sched_future_ready(sched_value v);
/* Ready after ns nanoseconds of the host's clock, never earlier. */
sched_future *sched_timer(sched_host *host, uint64_t ns);
/* Yields once (pending, woken at once), then ready. */
sched_future *sched_yield_now(void);

/* all-of: ready when every future is; out->ptr is a malloc'd array of n
 * sched_value, in order, that the receiver frees.  Fails with the first
 * failure (dropping the rest).  Takes ownership of the n futures (not of
 * the array futs, which is copied). */
sched_future *sched_all(sched_future *const *futs, size_t n);
/* any-of: ready with the value of the first future to finish; its index is
 * stored in *winner (which must outlive the future; may be NULL).  The
 * other futures are dropped.  Takes ownership as sched_all.  In both, each
 * future has a waker of its own and is polled again only once it was
 * woken (sched_future_fn(3)). */
sched_future *sched_any(sched_future *const *futs, size_t n, size_t *winner);

/* Oneshot: one value from one sender to one receiver. */
typedef struct sched_oneshot sched_oneshot;
int sched_oneshot_new(sched_oneshot **out);
/* Send v; the receiver's future becomes ready.  Consumes the sender side.
 * SCHED_ECLOSED when the receiver is gone. */
int sched_oneshot_send(sched_oneshot *o, sched_value v);
/* The receiving future; consumes the receiver side.  Fails with
 * SCHED_ECLOSED when the sender side is freed without sending. */
sched_future *sched_oneshot_recv(sched_oneshot *o);
/* Drop the sender side without sending. */
void sched_oneshot_close(sched_oneshot *o);

/*
 * Channel: bounded multi-producer, single-consumer queue of values.  A
 * channel made by sched_channel_new never releases a value: values are
 * plain data, or their senders keep track.  One made with a drop function
 * owns what it holds: a value queued and never received is released with
 * drop(v, userdata) when the last reference to the channel goes (values
 * left in a closed channel can still be received until then), and so is
 * the value of a send future that fails or is dropped without sending.
 * drop runs on whichever thread lets go, with no lock held, exactly once
 * per value; it must not use the channel.
 */
typedef struct sched_channel sched_channel;
typedef void (*sched_value_drop_fn)(sched_value v, void *userdata);
int sched_channel_new(size_t capacity, sched_channel **out);
int sched_channel_new_with_drop(size_t capacity, sched_value_drop_fn drop, void *userdata,
                                sched_channel **out);
/* Non-blocking send: 0 (the channel has v), or SCHED_ELIMIT when full,
 * SCHED_ECLOSED when closed, SCHED_EINVAL for a NULL channel: v is then
 * still the caller's, never dropped. */
int sched_channel_try_send(sched_channel *ch, sched_value v);
/* A future that sends v, waiting for room; it owns v until it has sent
 * (see above).  NULL when out of memory, having dropped v. */
sched_future *sched_channel_send(sched_channel *ch, sched_value v);
/* A future for the next value, which becomes the receiver's; fails with
 * SCHED_ECLOSED once closed and drained. */
sched_future *sched_channel_recv(sched_channel *ch);
/* Non-blocking receive, by the channel's one consumer: 0 with *out set
 * (the value is the caller's), SCHED_EEMPTY when open and empty,
 * SCHED_ECLOSED when closed and drained, SCHED_EINVAL for NULL. */
int sched_channel_try_recv(sched_channel *ch, sched_value *out);
void sched_channel_close(sched_channel *ch);
void sched_channel_free(sched_channel *ch);

/* ---- spawn sites ------------------------------------------------------- */

typedef struct sched_site {
    const char *file;
    const char *func;
    int line;
} sched_site;

#if defined(__GNUC__)
#define SCHED_HERE \
    (__extension__({ static const sched_site sched__site = { __FILE__, __func__, __LINE__ }; &sched__site; }))
#else
#define SCHED_HERE ((const sched_site *)0)
#endif

/* As sched_future_poll; when f is pending inside a task's poll, site (a
 * SCHED_HERE) is noted as where the task waits, for reports, unless an
 * await nested inside f noted its own.  SCHED_AWAIT calls it. */
int sched_future_poll_at(sched_future *f, sched_context *cx, sched_value *out,
                         const sched_site *site);

/* ---- tasks -------------------------------------------------------------- */

typedef struct sched_task sched_task;

uint64_t sched_task_id(const sched_task *t);
const char *sched_task_label(const sched_task *t);
const sched_site *sched_task_site(const sched_task *t);
int sched_task_is_finished(const sched_task *t);
/* Let the task run on with nothing to join; frees the handle. */
void sched_task_detach(sched_task *t);
/* Cancel: the future is dropped exactly once and never polled again.
 * Awaiting the task afterwards fails with SCHED_ECANCELED.  The handle
 * stays valid until freed. */
void sched_task_cancel(sched_task *t);
/* Free the handle; a task neither detached nor finished is cancelled. */
void sched_task_free(sched_task *t);
/* A future for the task's result; consumes the handle. */
sched_future *sched_task_join(sched_task *t);

/* ---- executors ---------------------------------------------------------- */

typedef struct sched_executor sched_executor;
typedef struct sched_foreground_executor sched_foreground_executor;

/* A background executor: spawns from any thread onto the backend's pool. */
int sched_executor_new(sched_host *host, sched_executor **out);
void sched_executor_free(sched_executor *ex);
sched_host *sched_executor_host(sched_executor *ex);

/*
 * Spawn fut.  Always takes ownership of fut (dropped on failure).  When
 * out is NULL the task is detached.  label may be NULL; site is
 * SCHED_HERE.  Returns 0, SCHED_EINVAL, SCHED_ECLOSED or SCHED_ENOMEM.
 */
int sched_executor_spawn_at(sched_executor *ex, sched_future *fut, const char *label,
                            sched_priority prio, const sched_site *site, sched_task **out);

#define sched_spawn(ex, fut, out) \
    sched_executor_spawn_at((ex), (fut), NULL, SCHED_PRIORITY_MEDIUM, SCHED_HERE, (out))
#define sched_spawn_labeled(ex, fut, label, out) \
    sched_executor_spawn_at((ex), (fut), (label), SCHED_PRIORITY_MEDIUM, SCHED_HERE, (out))
#define sched_spawn_priority(ex, fut, prio, out) \
    sched_executor_spawn_at((ex), (fut), NULL, (prio), SCHED_HERE, (out))

/*
 * Block the calling thread until fut is ready; consumes fut.  Returns 0
 * with *out set (out may be NULL), the future's own negative code, or
 * SCHED_EDEADLK when the backend proves nothing can wake it (the error
 * sentence, when err is given, lists the pending tasks).
 */
int sched_block(sched_executor *ex, sched_future *fut, sched_value *out, sched_error **err);
/*
 * As sched_block, giving up after ns.  When the time runs out it returns
 * SCHED_ETIMEDOUT with *fut still live: block on it again or drop it.  On
 * any other return, and when the future itself failed with
 * SCHED_ETIMEDOUT, *fut has been dropped and is NULL.
 * ns = 0 polls the future once and neither runs other work nor waits.
 */
int sched_block_with_timeout(sched_executor *ex, sched_future **fut, uint64_t ns,
                             sched_value *out, sched_error **err);

/*
 * A foreground executor, bound to the host's main thread, which must be the
 * calling thread (else SCHED_EWRONGTHREAD).  Its tasks are only ever polled
 * there.  Any call from another thread, and any attempt by a backend to run
 * one of its tasks on another thread, aborts the process with a message
 * naming the calling thread, the owning thread and the task's spawn site.
 */
int sched_foreground_executor_new(sched_host *host, sched_foreground_executor **out);
void sched_foreground_executor_free(sched_foreground_executor *fx);
sched_host *sched_foreground_executor_host(sched_foreground_executor *fx);
uint64_t sched_foreground_executor_id(const sched_foreground_executor *fx);

int sched_foreground_spawn_at(sched_foreground_executor *fx, sched_future *fut,
                              const char *label, const sched_site *site, sched_task **out);

#define sched_foreground_spawn(fx, fut, out) \
    sched_foreground_spawn_at((fx), (fut), NULL, SCHED_HERE, (out))
#define sched_foreground_spawn_labeled(fx, fut, label, out) \
    sched_foreground_spawn_at((fx), (fut), (label), SCHED_HERE, (out))

/* Block on the main thread, running the executor's tasks while waiting.
 * site is SCHED_HERE (the macro supplies it): called off the main thread,
 * the abort names the caller's site. */
int sched_foreground_block_at(sched_foreground_executor *fx, sched_future *fut,
                              sched_value *out, sched_error **err, const sched_site *site);
int sched_foreground_block(sched_foreground_executor *fx, sched_future *fut,
                           sched_value *out, sched_error **err);
#define sched_foreground_block(fx, fut, out, err) \
    sched_foreground_block_at((fx), (fut), (out), (err), SCHED_HERE)

/* ---- async functions as stackless coroutines ----------------------------
 *
 * An async function is a future whose state struct begins with sched_coro
 * and whose poll body is bracketed by SCHED_ASYNC_BEGIN / SCHED_ASYNC_END.
 * Locals that live across an await belong in the state struct.  The poll
 * function's context parameter must be named cx.
 *
 *   struct add_later { sched_coro co; sched_host *h; sched_value v; };
 *
 *   static int add_later_poll(sched_future *f, sched_context *cx, sched_value *out)
 *   {
 *       struct add_later *st = (struct add_later *)f;
 *       SCHED_ASYNC_BEGIN(st);
 *       SCHED_AWAIT(st, sched_timer(st->h, 1000000), &st->v);
 *       SCHED_RETURN(st, out, (sched_value){ .i = 42 });
 *       SCHED_ASYNC_END(st);
 *   }
 *
 * SCHED_AWAIT stores the awaited future's status in st->co.rc (0, or the
 * negative code it failed with) and continues; SCHED_TRY_AWAIT returns that
 * failure from the coroutine instead.  sched_coro_new() allocates the state
 * and sched_coro_drop_default() frees it (dropping any future in flight).
 */
typedef struct sched_coro {
    sched_future base;
    int pc;
    int rc;
    sched_future *awaiting;
} sched_coro;

/* Allocate a zeroed coroutine of `size` bytes (>= sizeof(sched_coro)) whose
 * ops are ops; NULL when out of memory. */
sched_future *sched_coro_new(size_t size, const sched_future_ops *ops);
/* Drop for coroutines that own nothing but their state: drops the future
 * being awaited, if any, and frees the state. */
void sched_coro_drop_default(sched_future *f);

#define SCHED_ASYNC_BEGIN(st) switch ((st)->co.pc) { case 0:

#define SCHED_AWAIT(st, fut_expr, outp)                                       \
    do {                                                                      \
        (st)->co.awaiting = (fut_expr);                                       \
        (st)->co.pc = __LINE__; /* FALLTHROUGH */                             \
    case __LINE__:                                                            \
        (st)->co.rc = sched_future_poll_at((st)->co.awaiting, cx, (outp), SCHED_HERE); \
        if ((st)->co.rc == SCHED_PENDING) return SCHED_PENDING;               \
        sched_future_drop((st)->co.awaiting);                                 \
        (st)->co.awaiting = NULL;                                             \
    } while (0)

#define SCHED_TRY_AWAIT(st, fut_expr, outp)                                   \
    do {                                                                      \
        SCHED_AWAIT(st, fut_expr, outp);                                      \
        if ((st)->co.rc < 0) { (st)->co.pc = -1; return (st)->co.rc; }        \
    } while (0)

#define SCHED_RETURN(st, outp, value)                                         \
    do { (st)->co.pc = -1; *(outp) = (value); return 0; } while (0)

#define SCHED_FAIL(st, code)                                                  \
    do { (st)->co.pc = -1; return (code); } while (0)

#define SCHED_ASYNC_END(st) } (st)->co.pc = -1; return SCHED_EINVAL

#ifdef __cplusplus
}
#endif

#endif
