/* SPDX-License-Identifier: MIT */
/*
 * core/channel.c - handing values between tasks: a oneshot (one value, one
 * sender, one receiver; lock-free) and a bounded multi-producer,
 * single-consumer channel (a ring under a mutex, reference-counted so that
 * futures made from it may outlive sched_channel_free).
 *
 * A channel made with a drop function owns the values it holds and those
 * its send futures carry: whatever is never received is released with it
 * exactly once, when the last reference goes or a send future is dropped
 * without having sent.  A refused try_send leaves the value the caller's.
 */
#include "config.h"

#include <stdlib.h>

#include "task.h"

/* Complete what w's task awaits: on a backend with per-request rules its
 * continuation is dropped when its request is over (sessions decide). */
static void wake_waiter(sched_waker *w, const char *what)
{
    sched_host *host;
    uint64_t target = sched__waker_session(w, &host);
    if (target == 0 || host->hooks.wake_ok == NULL || host->hooks.wake_ok(host, target, what))
        sched_waker_wake(w);
    else
        sched_waker_drop(w);
}

/* May the task being polled use an object of session owner?  0, or the
 * code its use fails with (sessions decide). */
static int io_check(sched_context *cx, uint64_t owner, const char *what)
{
    sched_host *host = sched_context_host(cx);
    if (host == NULL || owner == 0 || host->hooks.io_check == NULL)
        return 0;
    return host->hooks.io_check(host, owner, what, NULL);
}

/* ---- oneshot ----------------------------------------------------------- */

/* OS_SENT or OS_CLOSED: the sender is done (the receiver may complete);
 * the two *_GONE bits count the sides still holding the oneshot.  The
 * sender sets its done bit and wakes the receiver *before* it lets go, so
 * that once OS_SENDER_GONE is visible it touches the oneshot no more: the
 * receiver may free it at any moment after that. */
#define OS_SENT          0x1u
#define OS_SENDER_GONE   0x2u
#define OS_RECEIVER_GONE 0x4u
#define OS_CLOSED        0x8u
#define OS_DONE          (OS_SENT | OS_CLOSED)

struct sched_oneshot {
    _Atomic uint32_t state;
    _Atomic(sched_waker *) waker;
    sched_value value;
    uint64_t session;           /* the request it was made in, or 0 */
};

struct oneshot_recv {
    sched_future base;
    sched_oneshot *o;
};

int sched_oneshot_new(sched_oneshot **out)
{
    sched_oneshot *o;
    if (!out)
        return SCHED_EINVAL;
    o = malloc(sizeof *o);
    *out = o;
    if (!o)
        return SCHED_ENOMEM;
    atomic_init(&o->state, 0);
    atomic_init(&o->waker, NULL);
    o->value.u = 0;
    o->session = sched__running_session();
    return 0;
}

/* Let go of one side; the second side to go frees the oneshot. */
static void oneshot_release(sched_oneshot *o, uint32_t side)
{
    uint32_t other = side == OS_SENDER_GONE ? OS_RECEIVER_GONE : OS_SENDER_GONE;
    uint32_t s = atomic_fetch_or_explicit(&o->state, side, memory_order_acq_rel);
    if (s & other) {
        sched_waker *w = atomic_exchange_explicit(&o->waker, NULL, memory_order_acq_rel);
        if (w)
            sched_waker_drop(w);
        free(o);
    }
}

/* The sender's last act: mark it done (with a value or without), wake a
 * waiting receiver, then let go.  A receiver that stores its waker after
 * our exchange sees the done bit on its re-check (the exchanges on
 * o->waker are ordered), so no wake is lost. */
static void oneshot_finish(sched_oneshot *o, uint32_t done)
{
    sched_waker *w;
    atomic_fetch_or_explicit(&o->state, done, memory_order_acq_rel);
    w = atomic_exchange_explicit(&o->waker, NULL, memory_order_acq_rel);
    if (w)
        wake_waiter(w, "a oneshot");
    oneshot_release(o, OS_SENDER_GONE);
}

int sched_oneshot_send(sched_oneshot *o, sched_value v)
{
    uint32_t s;
    if (!o)
        return SCHED_EINVAL;
    s = atomic_load_explicit(&o->state, memory_order_acquire);
    if (s & OS_RECEIVER_GONE) {
        oneshot_release(o, OS_SENDER_GONE);
        return SCHED_ECLOSED;
    }
    o->value = v;
    oneshot_finish(o, OS_SENT);
    return 0;
}

void sched_oneshot_close(sched_oneshot *o)
{
    if (o)
        oneshot_finish(o, OS_CLOSED);
}

static int oneshot_result(sched_oneshot *o, uint32_t s, sched_value *out)
{
    if (s & OS_SENT) {
        *out = o->value;
        return 0;
    }
    return SCHED_ECLOSED;
}

static int oneshot_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    sched_oneshot *o = ((struct oneshot_recv *)f)->o;
    uint32_t s = atomic_load_explicit(&o->state, memory_order_acquire);
    sched_waker *w;
    int rc = io_check(cx, o->session, "a oneshot");

    if (rc != 0)
        return rc;
    if (s & OS_DONE)
        return oneshot_result(o, s, out);
    w = atomic_exchange_explicit(&o->waker, sched_waker_clone(sched_context_waker(cx)),
                                 memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    s = atomic_load_explicit(&o->state, memory_order_acquire);
    if (s & OS_DONE)
        return oneshot_result(o, s, out);
    sched_context_set_wait_reason(cx, "a oneshot");
    return SCHED_PENDING;
}

static void oneshot_drop(sched_future *f)
{
    struct oneshot_recv *r = (struct oneshot_recv *)f;
    /* Take back our waker now: a send after this must not wake (or keep
     * alive) a task that no longer waits. */
    sched_waker *w = atomic_exchange_explicit(&r->o->waker, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    oneshot_release(r->o, OS_RECEIVER_GONE);
    free(r);
}

static const sched_future_ops oneshot_ops = { oneshot_poll, oneshot_drop };

sched_future *sched_oneshot_recv(sched_oneshot *o)
{
    struct oneshot_recv *r;
    if (!o)
        return NULL;
    r = malloc(sizeof *r);
    if (!r) {
        oneshot_release(o, OS_RECEIVER_GONE);
        return NULL;
    }
    r->base.ops = &oneshot_ops;
    r->o = o;
    return &r->base;
}

/* ---- channel ----------------------------------------------------------- */

struct send_wait {
    struct send_wait *next, *prev;
    sched_waker *waker;
};

struct sched_channel {
    sched__mutex lock;
    _Atomic uint32_t refs;      /* the owner, plus one per future */
    int closed;
    size_t cap, head, len;
    sched_waker *recv_waker;
    struct send_wait *senders;  /* send futures waiting for room */
    sched_value *ring;
    uint64_t session;           /* the request it was made in, or 0 */
    sched_value_drop_fn drop;   /* releases values nobody received, or NULL */
    void *drop_userdata;
};

int sched_channel_new(size_t capacity, sched_channel **out)
{
    return sched_channel_new_with_drop(capacity, NULL, NULL, out);
}

int sched_channel_new_with_drop(size_t capacity, sched_value_drop_fn drop, void *userdata,
                                sched_channel **out)
{
    sched_channel *ch;
    if (!out)
        return SCHED_EINVAL;
    *out = NULL;
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(sched_value) / 2)
        return SCHED_EINVAL;
    ch = calloc(1, sizeof *ch);
    if (!ch)
        return SCHED_ENOMEM;
    ch->ring = malloc(capacity * sizeof(sched_value));
    if (!ch->ring) {
        free(ch);
        return SCHED_ENOMEM;
    }
    sched__mutex_init(&ch->lock);
    atomic_init(&ch->refs, 1);
    ch->cap = capacity;
    ch->session = sched__running_session();
    ch->drop = drop;
    ch->drop_userdata = userdata;
    *out = ch;
    return 0;
}

static void drop_value(sched_channel *ch, sched_value v)
{
    if (ch->drop)
        ch->drop(v, ch->drop_userdata);
}

/* The last reference releases what is still queued: nobody can receive
 * it any more. */
static void channel_unref(sched_channel *ch)
{
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) == 1) {
        for (; ch->len; ch->len--, ch->head = (ch->head + 1) % ch->cap)
            drop_value(ch, ch->ring[ch->head]);
        sched_waker_drop(ch->recv_waker);
        sched__mutex_destroy(&ch->lock);
        free(ch->ring);
        free(ch);
    }
}

/* Push v; the caller holds the lock and has checked for room.  Returns the
 * receiver's waker to wake once the lock is released. */
static sched_waker *push_locked(sched_channel *ch, sched_value v)
{
    sched_waker *w = ch->recv_waker;
    ch->ring[(ch->head + ch->len) % ch->cap] = v;
    ch->len++;
    ch->recv_waker = NULL;
    return w;
}

int sched_channel_try_send(sched_channel *ch, sched_value v)
{
    sched_waker *w = NULL;
    int rc = 0;
    if (!ch)
        return SCHED_EINVAL;
    sched__mutex_lock(&ch->lock);
    if (ch->closed)
        rc = SCHED_ECLOSED;
    else if (ch->len == ch->cap)
        rc = SCHED_ELIMIT;
    else
        w = push_locked(ch, v);
    sched__mutex_unlock(&ch->lock);
    if (w)
        wake_waiter(w, "a channel");
    return rc;
}

/*
 * Close ch and wake everyone waiting on it.  The wakes happen with the lock
 * released: a wake that cannot queue its task (the host is closing) drops
 * the task's future on the spot, and that future may be a send on this
 * very channel, whose drop takes the lock.  Closed, ch takes no new
 * waiting senders, so taking their wakers a batch at a time ends.
 */
void sched_channel_close(sched_channel *ch)
{
    enum { BATCH = 16 };
    sched_waker *w[BATCH];
    size_t n, i;
    int first = 1;
    if (!ch)
        return;
    do {
        struct send_wait *sw;
        n = 0;
        sched__mutex_lock(&ch->lock);
        if (first) {
            ch->closed = 1;
            if (ch->recv_waker)
                w[n++] = ch->recv_waker;
            ch->recv_waker = NULL;
            first = 0;
        }
        for (sw = ch->senders; sw && n < BATCH; sw = sw->next) {
            if (sw->waker) {
                w[n++] = sw->waker;
                sw->waker = NULL;
            }
        }
        sched__mutex_unlock(&ch->lock);
        for (i = 0; i < n; i++)
            sched_waker_wake(w[i]);
    } while (n == BATCH);
}

void sched_channel_free(sched_channel *ch)
{
    if (!ch)
        return;
    sched_channel_close(ch);
    channel_unref(ch);
}

struct channel_send {
    sched_future base;
    sched_channel *ch;
    sched_value v;              /* ours to release until sent */
    struct send_wait wait;
    int waiting;                /* wait is linked into ch->senders */
    int sent;
};

static void unlink_sender(sched_channel *ch, struct channel_send *s)
{
    if (!s->waiting)
        return;
    if (s->wait.prev)
        s->wait.prev->next = s->wait.next;
    else
        ch->senders = s->wait.next;
    if (s->wait.next)
        s->wait.next->prev = s->wait.prev;
    s->waiting = 0;
}

/* Room for one more: the waker of the oldest sender not yet woken (senders
 * are pushed at the head, so the oldest is nearest the tail). */
static sched_waker *take_sender_locked(sched_channel *ch)
{
    struct send_wait *sw, *pick = NULL;
    sched_waker *w;
    for (sw = ch->senders; sw; sw = sw->next)
        if (sw->waker)
            pick = sw;
    if (!pick)
        return NULL;
    w = pick->waker;
    pick->waker = NULL;
    return w;
}

static int send_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct channel_send *s = (struct channel_send *)f;
    sched_channel *ch = s->ch;
    sched_waker *w = NULL, *old = NULL;
    int rc = io_check(cx, ch->session, "a channel");

    if (rc != 0)
        return rc;
    rc = SCHED_PENDING;
    sched__mutex_lock(&ch->lock);
    if (ch->closed) {
        rc = SCHED_ECLOSED;
        unlink_sender(ch, s);
    } else if (ch->len < ch->cap) {
        w = push_locked(ch, s->v);
        s->sent = 1;
        unlink_sender(ch, s);
        out->u = 0;
        rc = 0;
    } else {
        old = s->wait.waker;
        s->wait.waker = sched_waker_clone(sched_context_waker(cx));
        if (!s->waiting) {
            s->wait.prev = NULL;
            s->wait.next = ch->senders;
            if (ch->senders)
                ch->senders->prev = &s->wait;
            ch->senders = &s->wait;
            s->waiting = 1;
        }
    }
    sched__mutex_unlock(&ch->lock);
    sched_waker_drop(old);
    if (w)
        wake_waiter(w, "a channel");
    if (rc == SCHED_PENDING)
        sched_context_set_wait_reason(cx, "room in a channel");
    return rc;
}

static void send_drop(sched_future *f)
{
    struct channel_send *s = (struct channel_send *)f;
    sched_waker *w;
    sched_waker *pass = NULL;
    sched__mutex_lock(&s->ch->lock);
    /* Woken for room it will not use: pass the wake on. */
    if (s->waiting && !s->wait.waker && s->ch->len < s->ch->cap) {
        unlink_sender(s->ch, s);
        pass = take_sender_locked(s->ch);
    }
    unlink_sender(s->ch, s);
    w = s->wait.waker;
    s->wait.waker = NULL;
    sched__mutex_unlock(&s->ch->lock);
    sched_waker_drop(w);
    if (pass)
        sched_waker_wake(pass);
    if (!s->sent)
        drop_value(s->ch, s->v);
    channel_unref(s->ch);
    free(s);
}

static const sched_future_ops send_ops = { send_poll, send_drop };

sched_future *sched_channel_send(sched_channel *ch, sched_value v)
{
    struct channel_send *s;
    if (!ch)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        drop_value(ch, v);
        return NULL;
    }
    s->base.ops = &send_ops;
    s->ch = ch;
    s->v = v;
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return &s->base;
}

struct channel_recv {
    sched_future base;
    sched_channel *ch;
};

/* Take the oldest value; the caller holds the lock and has checked there
 * is one.  Returns the waker of a sender to give the room to, to wake once
 * the lock is released. */
static sched_waker *pop_locked(sched_channel *ch, sched_value *out)
{
    *out = ch->ring[ch->head];
    ch->head = (ch->head + 1) % ch->cap;
    ch->len--;
    return take_sender_locked(ch);
}

int sched_channel_try_recv(sched_channel *ch, sched_value *out)
{
    sched_waker *w = NULL;
    int rc = 0;
    if (!ch || !out)
        return SCHED_EINVAL;
    sched__mutex_lock(&ch->lock);
    if (ch->len)
        w = pop_locked(ch, out);
    else
        rc = ch->closed ? SCHED_ECLOSED : SCHED_EEMPTY;
    sched__mutex_unlock(&ch->lock);
    if (w)
        sched_waker_wake(w);
    return rc;
}

static int recv_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    sched_channel *ch = ((struct channel_recv *)f)->ch;
    sched_waker *w = NULL, *old = NULL;
    int rc = io_check(cx, ch->session, "a channel");

    if (rc != 0)
        return rc;
    rc = SCHED_PENDING;
    sched__mutex_lock(&ch->lock);
    if (ch->len) {
        old = ch->recv_waker;       /* no longer waiting */
        ch->recv_waker = NULL;
        w = pop_locked(ch, out);
        rc = 0;
    } else if (ch->closed) {
        rc = SCHED_ECLOSED;
    } else {
        old = ch->recv_waker;
        ch->recv_waker = sched_waker_clone(sched_context_waker(cx));
    }
    sched__mutex_unlock(&ch->lock);
    sched_waker_drop(old);
    if (w)
        wake_waiter(w, "a channel");
    if (rc == SCHED_PENDING)
        sched_context_set_wait_reason(cx, "a value on a channel");
    return rc;
}

static void recv_drop(sched_future *f)
{
    struct channel_recv *r = (struct channel_recv *)f;
    sched_waker *w;
    /* Single consumer: the waker the channel holds is ours. */
    sched__mutex_lock(&r->ch->lock);
    w = r->ch->recv_waker;
    r->ch->recv_waker = NULL;
    sched__mutex_unlock(&r->ch->lock);
    sched_waker_drop(w);
    channel_unref(r->ch);
    free(r);
}

static const sched_future_ops recv_ops = { recv_poll, recv_drop };

sched_future *sched_channel_recv(sched_channel *ch)
{
    struct channel_recv *r;
    if (!ch)
        return NULL;
    r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->base.ops = &recv_ops;
    r->ch = ch;
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return &r->base;
}
