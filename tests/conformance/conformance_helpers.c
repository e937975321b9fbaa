/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_helpers.c - the conformance suite's
 * helpers: the config file that names the backend under test, the host
 * opened on it, and the probe future that stays pending and counts what
 * happens to it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "conformance_int.h"

const char *conf_backend;
char conf_config_path[1024];

int conf_write_config(const char *name)
{
    char stem[300];
    FILE *f;
    /* An unpredictable name, created exclusively: a file someone planted
     * in the temporary directory under the old, guessable name would
     * have been written through (or read back). */
    snprintf(stem, sizeof stem, "sched-conform-%s", name);
    f = conf_temp_file(stem, conf_config_path, sizeof conf_config_path);
    if (!f)
        return -1;
    fprintf(f, "# written by the libsched conformance suite\nbackend = \"%s\";\n", name);
    return fclose(f);
}

/* msg with the generated config's path replaced: the temporary file is
 * gone by the time anyone reads the message, and its name helps no one. */
static void without_config_path(const char *msg, char *buf, size_t len)
{
    size_t lp = strlen(conf_config_path), used = 0;
    const char *hit;
    buf[0] = '\0';
    while (lp > 0 && (hit = strstr(msg, conf_config_path)) != NULL) {
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%.*s(the generated config)",
                                 (int)(hit - msg), msg);
        msg = hit + lp;
    }
    if (used < len)
        snprintf(buf + used, len - used, "%s", msg);
}

sched_host *conf_open_host(void)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&h, conf_config_path, &err);
    if (rc != 0) {
        char msg[4096];
        without_config_path(err ? sched_error_message(err) : sched_strerror(rc), msg, sizeof msg);
        fprintf(stderr, "conformance: cannot open backend %s: %s\n", conf_backend, msg);
        sched_error_free(err);
    }
    return h;
}

int conf_simulated(sched_host *h)
{
    return sched_as_test(h) != NULL;
}

void conf_allow_parking(sched_host *h)
{
    sched_test *t = sched_as_test(h);
    if (t != NULL)
        sched_test_allow_parking(t);
}

sched_value conf_add_one(void *arg)
{
    return (sched_value){ .i = (int64_t)(intptr_t)arg + 1 };
}

/* ---- the probe ------------------------------------------------------------- */

sched_future *conf_probe_polled(struct probe_stats *st)
{
    if (sched_oneshot_new(&st->polled) != 0)
        return NULL;
    return sched_oneshot_recv(st->polled);
}

sched_future *conf_probe_dropped(struct probe_stats *st)
{
    if (sched_oneshot_new(&st->dropped) != 0)
        return NULL;
    return sched_oneshot_recv(st->dropped);
}

struct probe {
    sched_future base;
    struct probe_stats *st;
    int keep;
};

static int probe_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct probe *p = (struct probe *)f;
    (void)out;
    if (atomic_fetch_add(&p->st->polls, 1) == 0 && p->st->polled)
        sched_oneshot_send(p->st->polled, (sched_value){ .u = 1 });
    if (p->keep) {
        sched_waker *old = atomic_exchange(&p->st->waker, sched_waker_clone(sched_context_waker(cx)));
        sched_waker_drop(old);
    }
    sched_context_set_wait_reason(cx, "a probe that never completes");
    return SCHED_PENDING;
}

static void probe_drop(sched_future *f)
{
    struct probe *p = (struct probe *)f;
    if (atomic_fetch_add(&p->st->drops, 1) == 0 && p->st->dropped)
        sched_oneshot_send(p->st->dropped, (sched_value){ .u = 1 });
    free(p);
}

static const sched_future_ops probe_ops = { probe_poll, probe_drop };

sched_future *conf_probe_new(struct probe_stats *st, int keep)
{
    struct probe *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->base.ops = &probe_ops;
    p->st = st;
    p->keep = keep;
    return &p->base;
}
