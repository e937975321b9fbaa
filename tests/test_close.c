/* SPDX-License-Identifier: MIT */
/*
 * tests/test_close.c - sched_host_close drops every pending task exactly
 * once, and resumes none, on every backend built here, through the public
 * API only.
 *
 * Each task awaits a one-hour sched_timer and counts what it does after
 * the await; its drop counts itself.  The host is closed while the tasks
 * are still queued (a threaded backend's workers race the close to their
 * first poll), once every task has reached its await, or with some of
 * each.  A task whose body ran on past the await during the close (its
 * timer refused with SCHED_ECLOSED) is the bug this guards against.
 */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "sched/sched.h"
#include "sched/test.h"
#include "tb_conf.h"

#define NTASKS 48
#define ROUNDS 60

struct ev {
    atomic_int first_polls;     /* reached the await */
    atomic_int resumed;         /* ran the code after the await */
    atomic_int drops;
};

static struct ev evs[2 * NTASKS];
static atomic_int reached;

struct sleeper {
    sched_coro co;
    struct ev *ev;
};

static int sleeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sleeper *st = (struct sleeper *)f;
    SCHED_ASYNC_BEGIN(st);
    atomic_fetch_add(&st->ev->first_polls, 1);
    atomic_fetch_add(&reached, 1);
    SCHED_AWAIT(st, sched_timer(sched_context_host(cx), UINT64_C(3600000000000)), NULL);
    atomic_fetch_add(&st->ev->resumed, 1);
    SCHED_RETURN(st, out, (sched_value){ .i = st->co.rc });
    SCHED_ASYNC_END(st);
}

static void sleeper_drop(sched_future *f)
{
    atomic_fetch_add(&((struct sleeper *)f)->ev->drops, 1);
    sched_coro_drop_default(f);
}

static const sched_future_ops sleeper_ops = { sleeper_poll, sleeper_drop };

static void spawn_sleepers(sched_executor *ex, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct sleeper *st = (struct sleeper *)sched_coro_new(sizeof *st, &sleeper_ops);
        CU_ASSERT_PTR_NOT_NULL_FATAL(st);
        st->ev = &evs[i];
        CU_ASSERT_EQUAL(sched_spawn(ex, &st->co.base, NULL), 0);
    }
}

/* Let every task spawned so far reach its await. */
static void settle(sched_host *h, int n)
{
    sched_test *t = sched_as_test(h);
    if (t != NULL) {
        sched_test_run_until_parked(t);
        return;
    }
    while (atomic_load(&reached) < n)
        sched_yield();
}

/*
 * mode 0: close with every task just spawned; 1: once all wait on their
 * timers; 2: half waiting, half just spawned.
 */
static void one_round(const char *config, int mode)
{
    sched_host *h = open_host(config);
    sched_executor *ex = NULL;
    int n = mode == 2 ? 2 * NTASKS : NTASKS;

    memset(evs, 0, sizeof evs);
    atomic_store(&reached, 0);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    spawn_sleepers(ex, 0, NTASKS);
    if (mode >= 1)
        settle(h, NTASKS);
    if (mode == 2)
        spawn_sleepers(ex, NTASKS, NTASKS);
    sched_executor_free(ex);
    sched_host_close(h);

    int resumed = 0, bad_drops = 0;
    for (int i = 0; i < n; i++) {
        resumed += atomic_load(&evs[i].resumed);
        bad_drops += atomic_load(&evs[i].drops) != 1;
        if (mode == 1 || (mode == 2 && i < NTASKS))
            CU_ASSERT_EQUAL(atomic_load(&evs[i].first_polls), 1);
    }
    CU_ASSERT_EQUAL(resumed, 0);
    CU_ASSERT_EQUAL(bad_drops, 0);
    if (resumed || bad_drops)
        fprintf(stderr, "%s mode %d: %d of %d resumed during the close, %d not dropped once\n",
                config, mode, resumed, n, bad_drops);
}

static void rounds(const char *config)
{
    for (int r = 0; r < ROUNDS; r++)
        one_round(config, r % 3);
}

static const char *conf_linux, *conf_mac, *conf_test, *conf_cf;

static void test_linux_close_drops_sleepers_unresumed(void)
{
    rounds(conf_linux);
}

#if SCHED_TEST_MAC
static void test_mac_close_drops_sleepers_unresumed(void)
{
    rounds(conf_mac);
}
#endif

static void test_test_close_drops_sleepers_unresumed(void)
{
    rounds(conf_test);
}

static void test_cloudflare_sim_close_drops_sleepers_unresumed(void)
{
    rounds(conf_cf);
}

int main(void)
{
    conf_linux = conf("backend = \"linux\";\nlinux: { threads = 2; };\n");
    conf_mac = conf("backend = \"mac\";\n");
    conf_test = conf("backend = \"test\";\n");
    conf_cf = conf("backend = \"cloudflare-sim\";\n");
    (void)conf_mac;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return CU_get_error();
    CU_pSuite s = CU_add_suite("close", NULL, NULL);
    CU_add_test(s, "linux: close drops sleepers, resumes none",
                test_linux_close_drops_sleepers_unresumed);
#if SCHED_TEST_MAC
    CU_add_test(s, "mac: close drops sleepers, resumes none",
                test_mac_close_drops_sleepers_unresumed);
#endif
    CU_add_test(s, "test: close drops sleepers, resumes none",
                test_test_close_drops_sleepers_unresumed);
    CU_add_test(s, "cloudflare-sim: close drops sleepers, resumes none",
                test_cloudflare_sim_close_drops_sleepers_unresumed);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    conf_unlink_all();
    return failed ? 1 : 0;
}
