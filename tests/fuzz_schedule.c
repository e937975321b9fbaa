/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz_schedule.c - a fuzz target that explores schedules instead of
 * inputs: every scheduling decision of the test backend is read from the
 * fuzzer's bytes (sched_test_set_decisions), so coverage guidance steers
 * toward new interleavings.  The workload is three producers and one
 * consumer on a bounded channel; whatever the schedule, every value must
 * arrive exactly once and each producer's values in the order sent.  A
 * violation aborts, which is how a fuzzer learns of it.
 *
 * Built two ways:
 *   - as an ordinary program (make check): with file arguments it replays
 *     each; without, it replays tests/fuzz-corpus/ and 500 inputs drawn
 *     from a fixed generator, and checks that different bytes really gave
 *     different schedules;
 *   - with -DSCHED_LIBFUZZER and clang's -fsanitize=fuzzer (configure
 *     --enable-libfuzzer), where libFuzzer supplies main().
 * Either way it runs with SCHED_BACKEND=test unless the environment says
 * otherwise.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/sched.h>
#include <sched/test.h>

#define PRODUCERS 3
#define VALUES 5

struct shared {
    sched_channel *ch;
    int producers_left;
};

struct producer {
    sched_coro co;
    struct shared *sh;
    sched_test *t;
    int id, i;
    sched_value v;
};

static int producer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct producer *p = (struct producer *)f;
    SCHED_ASYNC_BEGIN(p);
    for (p->i = 0; p->i < VALUES; p->i++) {
        SCHED_AWAIT(p, sched_test_random_delay(p->t), &p->v);
        SCHED_AWAIT(p, sched_channel_send(p->sh->ch, (sched_value){ .i = p->id * 100 + p->i }),
                    &p->v);
        if (p->co.rc != 0)
            abort();    /* the channel closed before every producer was done */
    }
    if (--p->sh->producers_left == 0)
        sched_channel_close(p->sh->ch);
    SCHED_RETURN(p, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(p);
}

struct consumer {
    sched_coro co;
    struct shared *sh;
    int next[PRODUCERS];
    int got;
    sched_value v;
};

static int consumer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct consumer *c = (struct consumer *)f;
    SCHED_ASYNC_BEGIN(c);
    for (;;) {
        SCHED_AWAIT(c, sched_channel_recv(c->sh->ch), &c->v);
        if (c->co.rc != 0)
            break;
        int who = (int)(c->v.i / 100), seq = (int)(c->v.i % 100);
        if (who < 0 || who >= PRODUCERS || seq != c->next[who])
            abort();    /* lost, duplicated or reordered */
        c->next[who]++;
        c->got++;
    }
    SCHED_RETURN(c, out, (sched_value){ .i = c->got });
    SCHED_ASYNC_END(c);
}

static const sched_future_ops producer_ops = { producer_poll, sched_coro_drop_default };
static const sched_future_ops consumer_ops = { consumer_poll, sched_coro_drop_default };

/* Run the workload under the schedule data describes; its history hash. */
static uint64_t run_one(const uint8_t *data, size_t size)
{
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, NULL, &err) != 0) {
        fprintf(stderr, "fuzz_schedule: %s\n", sched_error_message(err));
        exit(2);
    }
    sched_test *t = sched_as_test(host);
    if (t == NULL || sched_test_set_decisions(t, data, size) != 0) {
        fprintf(stderr, "fuzz_schedule: needs the test backend (SCHED_BACKEND=test)\n");
        exit(2);
    }
    struct shared sh = { NULL, PRODUCERS };
    sched_executor *ex;
    sched_foreground_executor *fx;
    if (sched_channel_new(2, &sh.ch) || sched_executor_new(host, &ex)
        || sched_foreground_executor_new(host, &fx))
        abort();
    struct consumer *c = (struct consumer *)sched_coro_new(sizeof *c, &consumer_ops);
    c->sh = &sh;
    sched_task *ct;
    sched_foreground_spawn_labeled(fx, &c->co.base, "consumer", &ct);
    for (int i = 0; i < PRODUCERS; i++) {
        struct producer *p = (struct producer *)sched_coro_new(sizeof *p, &producer_ops);
        p->sh = &sh;
        p->t = t;
        p->id = i;
        sched_executor_spawn_at(ex, &p->co.base, "producer", (sched_priority)i, SCHED_HERE, NULL);
    }
    while (sched_test_run_until_parked(t) || sched_test_advance_clock_to_next_timer(t))
        ;
    if (!sched_task_is_finished(ct))
        abort();    /* the consumer never saw the channel close */
    sched_value got;
    if (sched_foreground_block(fx, sched_task_join(ct), &got, NULL) != 0
        || got.i != PRODUCERS * VALUES)
        abort();
    uint64_t hash = sched_test_history_hash(t);
    sched_foreground_executor_free(fx);
    sched_executor_free(ex);
    sched_host_close(host);
    sched_channel_free(sh.ch);
    return hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setenv("SCHED_BACKEND", "test", 0);
    run_one(data, size);
    return 0;
}

#ifndef SCHED_LIBFUZZER
static uint64_t hashes[1024];
static size_t nhashes;

static void replay(const uint8_t *data, size_t size)
{
    uint64_t h = run_one(data, size);
    for (size_t i = 0; i < nhashes; i++)
        if (hashes[i] == h)
            return;
    if (nhashes < sizeof hashes / sizeof hashes[0])
        hashes[nhashes++] = h;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    replay(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    setenv("SCHED_BACKEND", "test", 0);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (replay_file(argv[i]))
                return 1;
        printf("fuzz_schedule: %d inputs replayed, %zu distinct schedules\n", argc - 1, nhashes);
        return 0;
    }
    const char *top = getenv("SCHED_TOP_SRCDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz-corpus", top ? top : ".");
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return 1;
    }
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (replay_file(path)) {
            closedir(d);
            return 1;
        }
        files++;
    }
    closedir(d);
    /* Inputs of every length from a fixed generator (xorshift64). */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    uint8_t buf[512];
    for (int i = 0; i < 500; i++) {
        size_t n = (size_t)i % sizeof buf;
        for (size_t j = 0; j < n; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[j] = (uint8_t)x;
        }
        replay(buf, n);
    }
    printf("fuzz_schedule: %d corpus files and 500 generated inputs, %zu distinct schedules\n",
           files, nhashes);
    if (files == 0 || nhashes < 10) {
        fprintf(stderr, "fuzz_schedule: the bytes did not steer the schedule\n");
        return 1;
    }
    return 0;
}
#endif
