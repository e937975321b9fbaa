/* SPDX-License-Identifier: MIT */
/*
 * tests/install/ownership.c - a small program that hands the library what
 * it owns, the way a real one does, built against the installed headers
 * (installcheck, under valgrind when it is there) and by make check:
 *   - heap blocks given to function tasks that own them
 *     (sched_future_try_fn with a drop function), some of them cancelled
 *     before or while they run, one failing with a message of its own;
 *   - a channel of heap strings that owns its values, received in part,
 *     then closed and freed with strings still in it;
 *   - foreground work still queued when the host closes.
 * Every block and string is counted when allocated and when freed: the
 * program fails if any is freed twice or not at all.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>

#define NBLOCKS 16
#define BLOCK_SIZE 4096
#define CORRUPT 7
#define APP_ECORRUPT (-1001)

static atomic_int live;         /* blocks and strings allocated, not yet freed */

struct block {
    unsigned index;
    sched_channel *out;
    unsigned char data[BLOCK_SIZE];
};

static struct block *block_new(unsigned index, sched_channel *out)
{
    struct block *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->index = index;
    b->out = out;
    for (size_t i = 0; i < BLOCK_SIZE; i++)
        b->data[i] = (unsigned char)(i * 31 + index);
    atomic_fetch_add(&live, 1);
    return b;
}

static void block_free(void *arg)
{
    atomic_fetch_sub(&live, 1);
    free(arg);
}

static char *string_new(const char *fmt, unsigned index, unsigned sum)
{
    int n = snprintf(NULL, 0, fmt, index, sum);
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    snprintf(s, (size_t)n + 1, fmt, index, sum);
    atomic_fetch_add(&live, 1);
    return s;
}

static void string_free(char *s)
{
    if (s)
        atomic_fetch_sub(&live, 1);
    free(s);
}

/* The channel's drop function: a string nobody received. */
static void drop_string(sched_value v, void *userdata)
{
    (void)userdata;
    string_free(v.ptr);
}

/* A function task: owns its block from the call on, whatever it returns. */
static int checksum_block(void *arg, sched_context *cx, sched_value *out)
{
    struct block *b = arg;
    unsigned index = b->index;
    unsigned sum = 0;
    char *line;
    int rc;

    for (size_t i = 0; i < BLOCK_SIZE; i++)
        sum = sum * 33 + b->data[i];
    if (index == CORRUPT) {
        block_free(b);
        return sched_context_fail(cx, APP_ECORRUPT, "block %u: checksum mismatch", index);
    }
    line = string_new("block %u: %08x", index, sum);
    rc = line ? sched_channel_try_send(b->out, (sched_value){ .ptr = line }) : SCHED_ENOMEM;
    block_free(b);
    if (rc != 0) {
        string_free(line);      /* a refused send leaves the string ours */
        return sched_context_fail(cx, rc, "block %u: no room for its line", index);
    }
    out->u = sum;
    return 0;
}

static sched_value forgotten(void *arg)
{
    block_free(arg);
    return (sched_value){ .u = 0 };
}

static int run(sched_host *host)
{
    sched_executor *ex = NULL;
    sched_foreground_executor *fx = NULL;
    sched_channel *out = NULL;
    sched_task *tasks[NBLOCKS];
    sched_value v;
    int failures = 0, corrupt_seen = 0, received = 0;

    if (sched_executor_new(host, &ex) != 0 || sched_foreground_executor_new(host, &fx) != 0
        || sched_channel_new_with_drop(NBLOCKS, drop_string, NULL, &out) != 0)
        return 1;

    for (unsigned i = 0; i < NBLOCKS; i++) {
        struct block *b = block_new(i, out);
        if (!b)
            return 1;
        /* On failure the future (and so the block) was released already. */
        if (sched_spawn(ex, sched_future_try_fn(checksum_block, b, block_free), &tasks[i]) != 0)
            return 1;
    }
    /* Changed our mind about the last four: cancelled before or while
     * they run, each block is freed once, by the task or by its drop. */
    for (size_t i = NBLOCKS - 4; i < NBLOCKS; i++)
        sched_task_cancel(tasks[i]);

    for (size_t i = 0; i < NBLOCKS; i++) {
        sched_error *err = NULL;
        int rc = sched_block(ex, sched_task_join(tasks[i]), &v, &err);
        if (rc == APP_ECORRUPT && strcmp(sched_error_message(err), "block 7: checksum mismatch") == 0)
            corrupt_seen = 1;
        else if (rc != 0 && rc != SCHED_ECANCELED) {
            fprintf(stderr, "block %u: %s\n", (unsigned)i, sched_error_message(err));
            failures++;
        }
        sched_error_free(err);
    }

    /* Take three lines, then stop: the rest stay in the channel, which
     * frees them when it goes. */
    while (received < 3 && sched_channel_try_recv(out, &v) == 0) {
        string_free(v.ptr);
        received++;
    }
    sched_channel_close(out);
    sched_channel_free(out);

    /* Foreground work nobody ran: freed when the host closes. */
    for (unsigned i = 0; i < 4; i++) {
        struct block *b = block_new(100 + i, NULL);
        if (b)
            sched_foreground_spawn(fx, sched_future_fn_with_drop(forgotten, b, block_free), NULL);
    }

    sched_foreground_executor_free(fx);
    sched_executor_free(ex);
    if (!corrupt_seen) {
        fprintf(stderr, "the corrupt block's failure did not reach its joiner\n");
        failures++;
    }
    if (received != 3) {
        fprintf(stderr, "received %d lines, wanted 3\n", received);
        failures++;
    }
    return failures != 0;
}

int main(void)
{
    sched_host *host;
    sched_error *err = NULL;
    int rc;

    if (sched_host_open(&host, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", sched_error_message(err));
        sched_error_free(err);
        return 1;
    }
    rc = run(host);
    printf("%s: ", sched_host_backend_name(host));
    sched_host_close(host);
    if (atomic_load(&live) != 0) {
        printf("%d blocks or strings not freed\n", atomic_load(&live));
        return 1;
    }
    printf("%s\n", rc ? "failed" : "every block and line freed once");
    return rc;
}
