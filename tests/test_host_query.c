/* SPDX-License-Identifier: MIT */
/*
 * tests/test_host_query.c - sched_host_query(3) as a client uses it,
 * through the public headers only: a third party's interface on the
 * "extras" fixture backend (tests/plugins/extras.h), the test backend's
 * "sched.test" that sched_as_test() wraps, and the refusals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>
#include <sched/test.h>

#include "plugins/extras.h"

static char conf[1024];

/* A host on a config naming backend. */
static sched_host *open_backend(const char *backend)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    FILE *f;

    snprintf(conf, sizeof conf, "%s/sched-query-%ld.conf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    f = fopen(conf, "w");
    if (!f)
        return NULL;
    fprintf(f, "backend = \"%s\";\n", backend);
    fclose(f);
    if (sched_host_open(&h, conf, &err) != 0)
        fprintf(stderr, "cannot open %s: %s\n", backend, sched_error_message(err));
    sched_error_free(err);
    remove(conf);
    return h;
}

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 0 };
}

static void test_a_backends_own_interface_is_reached_with_its_self(void)
{
    sched_host *h = open_backend("extras");
    sched_executor *ex = NULL;
    const acme_stats_iface_v1 *stats = NULL;
    const void *table = NULL;
    void *self = NULL;
    sched_task *t = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(sched_host_query(h, EXTRAS_IFACE_NAME, 1, &table, &self), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    CU_ASSERT_PTR_NOT_NULL_FATAL(self);
    stats = table;
    CU_ASSERT(stats->size >= sizeof *stats);
    CU_ASSERT_STRING_EQUAL(stats->whoami(self), "extras");
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(nothing, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), 0);
    CU_ASSERT(stats->ran(self) >= 1);
    /* It is not a simulated backend. */
    CU_ASSERT_PTR_NULL(sched_as_test(h));
    sched_executor_free(ex);
    sched_host_close(h);
}

static void test_an_interface_not_offered_is_enoent(void)
{
    sched_host *h = open_backend("extras");
    const void *table = (const void *)1;
    void *self = (void *)1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(sched_host_query(h, EXTRAS_IFACE_NAME, 2, &table, &self), SCHED_ENOENT);
    CU_ASSERT_PTR_NULL(table);
    CU_ASSERT_PTR_NULL(self);
    CU_ASSERT_EQUAL(sched_host_query(h, "sched.test", 1, &table, &self), SCHED_ENOENT);
    CU_ASSERT_PTR_NULL(table);
    sched_host_close(h);
}

static void test_bad_arguments_are_einval(void)
{
    sched_host *h = open_backend("extras");
    const void *table;
    void *self;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(sched_host_query(NULL, EXTRAS_IFACE_NAME, 1, &table, &self), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_host_query(h, NULL, 1, &table, &self), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_host_query(h, EXTRAS_IFACE_NAME, 1, NULL, &self), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(self);
    CU_ASSERT_EQUAL(sched_host_query(h, EXTRAS_IFACE_NAME, 1, &table, NULL), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(table);
    sched_host_close(h);
}

/* sched_as_test() is the same query: its controls drive the backend the
 * query names. */
static void test_sched_as_test_is_the_sched_test_query(void)
{
    sched_host *h = open_backend("test");
    const sched_test_iface_v1 *iface = NULL;
    const void *table = NULL;
    void *self = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(sched_host_query(h, "sched.test", 1, &table, &self), 0);
    iface = table;
    CU_ASSERT_PTR_NOT_NULL_FATAL(iface);
    CU_ASSERT_PTR_NOT_NULL(sched_as_test(h));
    CU_ASSERT_EQUAL(iface->seed(self), sched_test_seed(sched_as_test(h)));
    sched_host_close(h);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    /* The extras fixture's directory, before the build tree's plugins. */
    const char *top = getenv("SCHED_TOP_BUILDDIR"), *path = getenv("SCHED_PLUGIN_PATH");
    char dirs[8192];
    if (!top) {
        fprintf(stderr, "run through make check\n");
        return 2;
    }
    snprintf(dirs, sizeof dirs, "%s/tests/plugins/extras/.libs%s%s", top, path ? ":" : "", path ? path : "");
    setenv("SCHED_PLUGIN_PATH", dirs, 1);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("host_query", NULL, NULL);
    CU_add_test(s, "a backend's own interface is reached with its self",
                test_a_backends_own_interface_is_reached_with_its_self);
    CU_add_test(s, "an interface not offered is SCHED_ENOENT", test_an_interface_not_offered_is_enoent);
    CU_add_test(s, "bad arguments are SCHED_EINVAL", test_bad_arguments_are_einval);
    CU_add_test(s, "sched_as_test is the sched.test query", test_sched_as_test_is_the_sched_test_query);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
