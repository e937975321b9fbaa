/* SPDX-License-Identifier: MIT */
/*
 * tests/test_host.c - opening and closing a host end to end: config,
 * loader, the services table a backend sees, fallbacks, and the host's
 * fallbacks for optional ops.  Uses the fixture backends in
 * tests/plugins/ and the real linux backend.
 */
#include "config.h"

#include "foundation_util.h"
#include "internal.h"

/* What tests/plugins/valid.c read through the config services. */
struct fixture_config {
    int64_t answer;
    int flag;
    double ratio;
    char name[64];
    int found;
};

static char *dir;
static char conf[4200];
static char expected[32768];
static char logged[32768];

static int setup(void)
{
    dir = util_tempdir();
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    return 0;
}

static int teardown(void)
{
    util_rmdir(dir);
    return 0;
}

static void capture_log(int level, const char *msg, void *data)
{
    (void)data;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%d %s\n", level, msg);
}

/* Write a config whose plugin_path is the fixture directory (plus the
 * build tree's real plugins), with `body` after it. */
static void write_conf(const char *body)
{
    char text[16384];
    snprintf(text, sizeof text, "plugin_path = [ \"%s\", \"%s/plugins/linux/.libs\" ];\n%s",
             util_fixture_dir(), getenv("SCHED_TOP_BUILDDIR"), body);
    util_write(conf, text);
    unsetenv("SCHED_PLUGIN_PATH");
    unsetenv("SCHED_BACKEND");
    unsetenv("SCHED_CONFIG");
}

static sched_host *open_ok(void)
{
    sched_host *host = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&host, conf, &err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected: %s\n", sched_error_message(err));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(err);
    return host;
}

static void test_open_reports_backend_plugin_and_config(void)
{
    write_conf("backend = \"valid\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    CU_ASSERT_STRING_EQUAL(sched_host_backend_name(host), "valid");
    CU_ASSERT_STRING_EQUAL(sched_host_plugin_path(host), util_fixture("valid"));
    CU_ASSERT_STRING_EQUAL(sched_host_config_path(host), conf);
    sched_host_close(host);
}

static void test_backend_reads_its_group_through_the_services(void)
{
    write_conf("backend = \"valid\";\n"
               "valid: { answer = 42; flag = true; ratio = 0.5; name = \"n1\"; };\n"
               "linux: { threads = 3; };\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    const struct fixture_config *seen = host->ops.query(host->backend, "fixture.config", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    CU_ASSERT_EQUAL(seen->found, 15);
    CU_ASSERT_EQUAL(seen->answer, 42);
    CU_ASSERT_EQUAL(seen->flag, 1);
    CU_ASSERT_DOUBLE_EQUAL(seen->ratio, 0.5, 1e-12);
    CU_ASSERT_STRING_EQUAL(seen->name, "n1");
    sched_host_close(host);

    /* Absent keys read as absent: the backend uses its defaults. */
    write_conf("backend = \"valid\";\n");
    host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    seen = host->ops.query(host->backend, "fixture.config", 1);
    CU_ASSERT_EQUAL(seen->found, 0);
    sched_host_close(host);
}

static void test_backend_config_error_names_file_line_and_key(void)
{
    write_conf("backend = \"valid\";\n\nvalid: {\n  veto = 1;\n};\n");
    sched_host *host = (sched_host *)1;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(host);
    snprintf(expected, sizeof expected,
             "backend \"valid\" (%s) failed to start: %s:5: setting \"valid.veto\": is vetoed by the backend",
             util_fixture("valid"), conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static void test_undeclared_key_refuses_before_create(void)
{
    write_conf("backend = \"valid\";\nvalid: { answr = 1; };\n");
    sched_host *host;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected,
             "%s:3: unknown setting \"valid.answr\" (the valid backend accepts: answer, flag, ratio, name, veto)",
             conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static void test_linux_threads_out_of_range_is_a_config_error(void)
{
    write_conf("backend = \"linux\";\n\nlinux: {\n    threads = -4;\n};\n");
    sched_host *host;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "%s:5: setting \"linux.threads\" is -4, outside [0, 1024]", conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);

    write_conf("backend = \"linux\";\nlinux: { threads = \"many\"; };\n");
    err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "%s:3: setting \"linux.threads\" must be an integer", conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static void test_unknown_backend_is_not_found(void)
{
    write_conf("backend = \"nosuch\";\n");
    sched_host *host;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ENOENT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    snprintf(expected, sizeof expected, "backend \"nosuch\" (set at %s:2) not found: searched %s/nosuch.so, ",
             conf, util_fixture_dir());
    CU_ASSERT_EQUAL(strncmp(sched_error_message(err), expected, strlen(expected)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "available backends: abi2, "));
    sched_error_free(err);
}

static void test_fallback_is_used_and_logged(void)
{
    write_conf("backend = \"createfail\";\nfallback = [ \"valid\" ];\n");
    char createfail[4200];
    snprintf(createfail, sizeof createfail, "%s", util_fixture("createfail"));
    logged[0] = '\0';
    sched_log_set_handler(capture_log, NULL);
    sched_host *host = open_ok();
    sched_log_set_handler(NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    CU_ASSERT_STRING_EQUAL(sched_host_backend_name(host), "valid");
    snprintf(expected, sizeof expected,
             "1 backend \"createfail\" (%s) failed to start: no worker threads could be started; "
             "falling back to backend \"valid\"\n"
             "2 valid: created\n"
             "2 using fallback backend \"valid\" (%s)\n",
             createfail, util_fixture("valid"));
    if (strcmp(logged, expected) != 0)
        fprintf(stderr, "\n  expected: %s\n  got:      %s\n", expected, logged);
    CU_ASSERT_STRING_EQUAL(logged, expected);
    sched_host_close(host);
}

static void test_sched_backend_env_selects_the_backend(void)
{
    write_conf("backend = \"linux\";\n");
    setenv("SCHED_BACKEND", "valid", 1);
    sched_host *host = open_ok();
    unsetenv("SCHED_BACKEND");
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    CU_ASSERT_STRING_EQUAL(sched_host_backend_name(host), "valid");
    sched_host_close(host);
}

static void test_bad_config_fails_open_and_loses_nothing(void)
{
    write_conf("backend = \"valid\";\nbogus = 1;\n");
    sched_host *host = (sched_host *)1;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(host);
    snprintf(expected, sizeof expected, "%s:3: unknown setting \"bogus\"", conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
    /* No error object wanted: the code alone. */
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, NULL), SCHED_ECONFIG);
    CU_ASSERT_EQUAL(sched_host_open(NULL, conf, NULL), SCHED_EINVAL);
}

static void test_optional_ops_fall_back_to_the_host(void)
{
    write_conf("backend = \"valid\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    /* valid has no now, num_cpus, is_main_thread or pollable queue. */
    uint64_t a = sched_host_now(host);
    uint64_t b = sched__mono_ns();
    CU_ASSERT(b >= a);
    CU_ASSERT_EQUAL(sched_host_num_cpus(host), sched__num_cpus());
    CU_ASSERT_TRUE(sched_host_is_main_thread(host));
    int fd = -1;
    CU_ASSERT_EQUAL(sched_host_poll_fd(host, &fd), SCHED_ENOTSUP);
    CU_ASSERT_EQUAL(fd, -1);
    CU_ASSERT_EQUAL(sched_host_dispatch(host), SCHED_ENOTSUP);
    sched_host_close(host);
}

/* Without a host: the operating system's clock and CPU count, what the
 * conformance suite and the benchmarks time real work with. */
static void test_now_and_num_cpus_without_a_host_are_the_os_ones(void)
{
    uint64_t a = sched__mono_ns();
    uint64_t b = sched_host_now(NULL);
    uint64_t c = sched__mono_ns();
    CU_ASSERT(a <= b && b <= c);
    CU_ASSERT_EQUAL(sched_host_num_cpus(NULL), sched__num_cpus());
}

static void run_off_main(void *arg)
{
    sched_host *host = arg;
    CU_ASSERT_FALSE(sched_host_is_main_thread(host));
    CU_ASSERT_EQUAL(sched_host_run(host), SCHED_EWRONGTHREAD);
    CU_ASSERT_EQUAL(sched_host_dispatch(host), SCHED_EWRONGTHREAD);
}

static void test_main_loop_belongs_to_the_opening_thread(void)
{
    write_conf("backend = \"valid\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    sched__thread t;
    CU_ASSERT_EQUAL_FATAL(sched__thread_start(&t, run_off_main, host), 0);
    sched__thread_join(t);
    sched_host_close(host);
}

static sched_value stop_host(void *arg)
{
    sched_host_stop(arg);
    return (sched_value){ .i = 7 };
}

/* A task spawned on the host reaches the backend, which runs it through
 * svc->run; the task stops the loop. */
static void test_run_executes_work_until_stopped(void)
{
    write_conf("backend = \"valid\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    sched_executor *ex;
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    sched_task *task;
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(stop_host, host), &task), 0);
    CU_ASSERT_EQUAL(sched_host_run(host), 0);
    CU_ASSERT_TRUE(sched_task_is_finished(task));
    sched_task_free(task);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* Work still queued at close is dropped, exactly once, by the backend. */
static void test_close_drops_queued_work(void)
{
    write_conf("backend = \"valid\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    sched_executor *ex;
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(stop_host, host), NULL), 0);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_linux_backend_opens_with_the_default_config(void)
{
    unsetenv("SCHED_BACKEND");
    char path[4200];
    snprintf(path, sizeof path, "%s/plugins/linux/.libs", getenv("SCHED_TOP_BUILDDIR"));
    setenv("SCHED_PLUGIN_PATH", path, 1);
    char builtin[4200];
    snprintf(builtin, sizeof builtin, "%s/conf/sched.conf", getenv("SCHED_TOP_SRCDIR"));
    sched_host *host;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, builtin, &err), 0);
    CU_ASSERT_STRING_EQUAL(sched_host_backend_name(host), "linux");
    CU_ASSERT(sched_host_num_cpus(host) >= 1);
    sched_host_close(host);
    unsetenv("SCHED_PLUGIN_PATH");
}

static void test_pollable_backend_gives_a_poll_fd(void)
{
    write_conf("backend = \"linux\";\n");
    sched_host *host = open_ok();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    int fd = -1;
    CU_ASSERT_EQUAL(sched_host_poll_fd(host, &fd), 0);
    CU_ASSERT(fd >= 0);
    /* Nothing is queued: dispatch runs nothing. */
    CU_ASSERT_EQUAL(sched_host_dispatch(host), 0);
    CU_ASSERT_EQUAL(sched_host_poll_fd(host, NULL), SCHED_EINVAL);
    sched_host_close(host);
}

static void test_services_getenv_reads_overrides(void)
{
    setenv("SCHED_SEED", "77", 1);
    const char *v = sched__services.getenv("SCHED_SEED");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(v, "77");
    unsetenv("SCHED_SEED");
    CU_ASSERT_PTR_NULL(sched__services.getenv("SCHED_SEED"));
    CU_ASSERT_EQUAL(sched__services.abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT_EQUAL(sched__services.size, sizeof(sched_host_services));
}

static void test_long_log_lines_arrive_whole(void)
{
    char line[3000];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    logged[0] = '\0';
    sched_log_set_handler(capture_log, NULL);
    sched__log(SCHED_LOG_WARN, "%s", line);
    sched_log_set_handler(NULL, NULL);
    sched__log(SCHED_LOG_WARN, "dropped: no handler");
    CU_ASSERT_EQUAL(strlen(logged), 2 + strlen(line) + 1);
    CU_ASSERT_EQUAL(strncmp(logged, "1 xxx", 5), 0);
}

static void test_strerror_names_every_code(void)
{
    for (int c = SCHED_EAGAIN; c <= 0; c++) {
        CU_ASSERT_PTR_NOT_NULL(sched_strerror(c));
        CU_ASSERT_STRING_NOT_EQUAL(sched_strerror(c), "unknown error");
    }
    CU_ASSERT_STRING_EQUAL(sched_strerror(SCHED_ENOENT), "not found");
    CU_ASSERT_STRING_EQUAL(sched_strerror(-1000), "unknown error");
    CU_ASSERT_EQUAL(sched_error_code(NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched_error_message(NULL), "");
    sched_error_free(NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("host", setup, teardown);
    CU_ADD_TEST(s, test_open_reports_backend_plugin_and_config);
    CU_ADD_TEST(s, test_backend_reads_its_group_through_the_services);
    CU_ADD_TEST(s, test_backend_config_error_names_file_line_and_key);
    CU_ADD_TEST(s, test_undeclared_key_refuses_before_create);
    CU_ADD_TEST(s, test_linux_threads_out_of_range_is_a_config_error);
    CU_ADD_TEST(s, test_unknown_backend_is_not_found);
    CU_ADD_TEST(s, test_fallback_is_used_and_logged);
    CU_ADD_TEST(s, test_sched_backend_env_selects_the_backend);
    CU_ADD_TEST(s, test_bad_config_fails_open_and_loses_nothing);
    CU_ADD_TEST(s, test_optional_ops_fall_back_to_the_host);
    CU_ADD_TEST(s, test_now_and_num_cpus_without_a_host_are_the_os_ones);
    CU_ADD_TEST(s, test_main_loop_belongs_to_the_opening_thread);
    CU_ADD_TEST(s, test_run_executes_work_until_stopped);
    CU_ADD_TEST(s, test_close_drops_queued_work);
    CU_ADD_TEST(s, test_linux_backend_opens_with_the_default_config);
    CU_ADD_TEST(s, test_pollable_backend_gives_a_poll_fd);
    CU_ADD_TEST(s, test_services_getenv_reads_overrides);
    CU_ADD_TEST(s, test_long_log_lines_arrive_whole);
    CU_ADD_TEST(s, test_strerror_names_every_code);
    return util_run();
}
