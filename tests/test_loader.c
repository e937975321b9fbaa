/* SPDX-License-Identifier: MIT */
/*
 * tests/test_loader.c - the plugin loader: every refusal, as a sentence.
 *
 * Each fixture in tests/plugins/ is a real shared object with exactly one
 * defect; each test proves the loader refuses it with the sentence a user
 * would see, naming the file and the reason.
 */
#include "config.h"

#include "foundation_util.h"
#include "internal.h"

/* Enough of a services table for plugins that never call the host. */
static const sched_host_services quiet_svc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
};

static char expected[65536];

/* Open fixture `name` and expect refusal with "plugin PATH refused: why". */
static void expect_refusal(const char *name, const char *why)
{
    struct sched__plugin p;
    sched_error *err = NULL;
    const char *path = util_fixture(name);
    int rc = sched__plugin_open(path, &quiet_svc, &p, &err);
    CU_ASSERT_EQUAL(rc, SCHED_ELOAD);
    CU_ASSERT_PTR_NULL(p.lib);
    snprintf(expected, sizeof expected, "plugin %s refused: %s", path, why);
    ASSERT_ERROR(err, SCHED_ELOAD, expected);
    sched_error_free(err);
}

static void test_valid_plugin_opens_with_its_descriptor(void)
{
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__plugin_open(util_fixture("valid"), &quiet_svc, &p, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_STRING_EQUAL(p.desc->name, "valid");
    CU_ASSERT_STRING_EQUAL(p.desc->version, "1.2.3");
    CU_ASSERT_STRING_EQUAL(p.path, util_fixture("valid"));
    CU_ASSERT_PTR_NOT_NULL(p.ops.query);
    CU_ASSERT_PTR_NULL(p.ops.park);
    sched__plugin_close(&p);
    CU_ASSERT_PTR_NULL(p.lib);
}

static void test_refuses_missing_entry_symbol(void)
{
    expect_refusal("noentry", "it does not export sched_plugin_entry_v1");
}

static void test_refuses_other_abi_major(void)
{
    expect_refusal("abi2", "it was built for plugin ABI 2.0, and this host implements ABI 1.1");
}

static void test_refuses_descriptor_smaller_than_v1(void)
{
    char why[256];
    snprintf(why, sizeof why, "its descriptor is %zu bytes, smaller than the %zu bytes of ABI 1.0",
             offsetof(sched_plugin_descriptor, ops) + sizeof(void *),
             (size_t)SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    expect_refusal("small", why);
}

static void test_refuses_null_required_op(void)
{
    expect_refusal("noschedule", "its required op \"schedule\" is NULL");
}

static void test_refuses_park_without_unpark(void)
{
    expect_refusal("halfpark", "it sets only one of the ops \"park\" and \"unpark\"");
}

static void test_refuses_descriptor_naming_another_backend(void)
{
    expect_refusal("misnamed",
                   "its descriptor names the backend \"valid\", not \"misnamed\" as its file name does");
    /* A NULL name read 'names the backend "(null)"'. */
    expect_refusal("noname",
                   "its descriptor names no backend (its name is NULL); it must be \"noname\", as its file name is");
}

static void test_refuses_descriptor_with_reserved_field_set(void)
{
    expect_refusal("reserved", "its descriptor's reserved field is 7, not 0");
}

/* The plugin's own config_keys: the host checks config groups against
 * them, so a key it cannot check is refused as the plugin's bug. */
static void test_refuses_config_key_of_unknown_type(void)
{
    expect_refusal("keytype", "its config key \"threads\" has the unknown type 99");
}

static void test_refuses_config_key_with_minimum_above_maximum(void)
{
    expect_refusal("keyrange",
                   "its config key \"threads\" has a minimum (10) greater than its maximum (5)");
}

static void test_refuses_config_key_declared_twice(void)
{
    expect_refusal("keydup", "its config key \"threads\" is declared twice");
}

static void test_refuses_config_key_no_file_can_spell(void)
{
    expect_refusal("keyname", "its config key \"linux.threads\" is not a valid setting name");
}

static void test_refuses_file_that_is_not_a_shared_object(void)
{
    char *dir = util_tempdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/notso.so", dir);
    util_write(path, "this is a text file, not an ELF object\n");
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    /* The reason carries dlerror()'s own text, which names the file. */
    snprintf(expected, sizeof expected, "plugin %s refused: it is not a loadable shared object (%s: ",
             path, path);
    CU_ASSERT_EQUAL(strncmp(sched_error_message(err), expected, strlen(expected)), 0);
    CU_ASSERT_EQUAL(sched_error_message(err)[strlen(sched_error_message(err)) - 1], ')');
    sched_error_free(err);
    util_rmdir(dir);
}

static void test_refuses_plugin_file_writable_by_others(void)
{
    char *dir = util_tempdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/valid.so", dir);
    util_copy(util_fixture("valid"), path);
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0666), 0);
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    snprintf(expected, sizeof expected, "plugin %s refused: the file is writable by group or others",
             path);
    ASSERT_ERROR(err, SCHED_ELOAD, expected);
    sched_error_free(err);

    /* Group-writable is refused as well. */
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0664), 0);
    err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    ASSERT_ERROR(err, SCHED_ELOAD, expected);
    sched_error_free(err);

    /* And the same file, private again, loads. */
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, NULL), 0);
    sched__plugin_close(&p);
    util_rmdir(dir);
}

static void test_refuses_plugin_directory_writable_by_others(void)
{
    char *dir = util_tempdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/valid.so", dir);
    util_copy(util_fixture("valid"), path);
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0777), 0);
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    snprintf(expected, sizeof expected,
             "plugin %s refused: its directory %s is writable by group or others", path, dir);
    ASSERT_ERROR(err, SCHED_ELOAD, expected);
    sched_error_free(err);
    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0700), 0);
    util_rmdir(dir);
}

/* mkdir -m mode, with the mode exact whatever the umask. */
static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, 0700) != 0 || chmod(path, mode) != 0)
        util_die(path);
}

/* Open path and expect "plugin PATH refused: why". */
static void expect_path_refused(const char *path, const char *why)
{
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    CU_ASSERT_PTR_NULL(p.lib);
    snprintf(expected, sizeof expected, "plugin %s refused: %s", path, why);
    ASSERT_ERROR(err, SCHED_ELOAD, expected);
    sched_error_free(err);
}

static void expect_path_opens(const char *path)
{
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), 0);
    if (err != NULL)
        fprintf(stderr, "\n  unexpected: %s\n", sched_error_message(err));
    sched_error_free(err);
    sched__plugin_close(&p);
}

/* The plugin directory is safe, but the one above it is writable by
 * anyone: another user could rename it away and put their own in its
 * place.  Every directory up to / counts, not only the plugin's own. */
static void test_refuses_parent_directory_writable_by_others(void)
{
    char *dir = util_tempdir();
    char parent[4200], plugins[4300], path[4400], why[4400];
    snprintf(parent, sizeof parent, "%s/lib", dir);
    snprintf(plugins, sizeof plugins, "%s/sched", parent);
    snprintf(path, sizeof path, "%s/valid.so", plugins);
    make_dir(parent, 0777);
    make_dir(plugins, 0755);
    util_copy(util_fixture("valid"), path);
    snprintf(why, sizeof why, "the directory %s above it is writable by group or others", parent);
    expect_path_refused(path, why);

    /* Group-writable counts too, and at any height. */
    CU_ASSERT_EQUAL_FATAL(chmod(parent, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0770), 0);
    snprintf(why, sizeof why, "the directory %s above it is writable by group or others", dir);
    expect_path_refused(path, why);

    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0700), 0);
    expect_path_opens(path);
    util_rmdir(dir);
}

/* The swap of a parent itself: the directory the config names was
 * replaced by one the attacker made.  The check runs on what is there at
 * load time, so the swapped tree is refused for its writable parent. */
static void test_refuses_swapped_parent_directory(void)
{
    char *dir = util_tempdir();
    char parent[4200], plugins[4300], moved[4300], path[4400], why[4400];
    snprintf(parent, sizeof parent, "%s/opt", dir);
    snprintf(plugins, sizeof plugins, "%s/sched", parent);
    snprintf(moved, sizeof moved, "%s/sched.orig", parent);
    snprintf(path, sizeof path, "%s/valid.so", plugins);
    make_dir(parent, 0777);
    make_dir(plugins, 0755);
    util_copy(util_fixture("valid"), path);
    CU_ASSERT_EQUAL_FATAL(rename(plugins, moved), 0);
    make_dir(plugins, 0755);
    util_copy(util_fixture("valid"), path);
    snprintf(why, sizeof why, "the directory %s above it is writable by group or others", parent);
    expect_path_refused(path, why);
    util_rmdir(dir);
}

/* A sticky world-writable directory (like /tmp) protects its entries
 * from other users, so it may sit above the plugin; as the plugin's own
 * directory it would let anyone create the file first. */
static void test_sticky_directory_only_as_an_ancestor(void)
{
    char *dir = util_tempdir();
    char sticky[4200], own[4300], path[4400], why[4400];
    snprintf(sticky, sizeof sticky, "%s/tmp", dir);
    snprintf(own, sizeof own, "%s/valid.so", sticky);
    make_dir(sticky, 01777);
    util_copy(util_fixture("valid"), own);
    snprintf(why, sizeof why,
             "its directory %s is writable by others (the sticky bit keeps others from replacing "
             "files, not from creating them)", sticky);
    expect_path_refused(own, why);

    snprintf(own, sizeof own, "%s/private", sticky);
    snprintf(path, sizeof path, "%s/valid.so", own);
    make_dir(own, 0755);
    util_copy(util_fixture("valid"), path);
    expect_path_opens(path);
    util_rmdir(dir);
}

/* A symlink is judged by what it points to: the file and the directories
 * above the target, which is also the file that is opened. */
static void test_symlink_is_judged_by_its_target(void)
{
    char *dir = util_tempdir();
    char safe[4200], open_dir[4200], target[4300], link[4300], why[9000];
    snprintf(safe, sizeof safe, "%s/safe", dir);
    snprintf(open_dir, sizeof open_dir, "%s/shared", dir);
    snprintf(target, sizeof target, "%s/valid.so", open_dir);
    snprintf(link, sizeof link, "%s/valid.so", safe);
    make_dir(safe, 0755);
    make_dir(open_dir, 0777);
    util_copy(util_fixture("valid"), target);
    CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
    snprintf(why, sizeof why, "it resolves to %s, and its directory %s is writable by group or others",
             target, open_dir);
    expect_path_refused(link, why);

    CU_ASSERT_EQUAL_FATAL(chmod(target, 0666), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(open_dir, 0755), 0);
    snprintf(why, sizeof why, "it resolves to %s, and the file is writable by group or others", target);
    expect_path_refused(link, why);

    /* A trusted target loads, under the name the config used. */
    CU_ASSERT_EQUAL_FATAL(chmod(target, 0644), 0);
    struct sched__plugin p;
    CU_ASSERT_EQUAL_FATAL(sched__plugin_open(link, &quiet_svc, &p, NULL), 0);
    CU_ASSERT_STRING_EQUAL(p.path, link);
    sched__plugin_close(&p);

    /* A dangling link is refused with the system's reason. */
    CU_ASSERT_EQUAL_FATAL(unlink(target), 0);
    expect_path_refused(link, "the file cannot be examined (No such file or directory)");
    util_rmdir(dir);
}

static void test_refuses_relative_plugin_path(void)
{
    struct sched__plugin p;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_open("plugins/valid.so", &quiet_svc, &p, &err), SCHED_ELOAD);
    ASSERT_ERROR(err, SCHED_ELOAD, "plugin plugins/valid.so refused: its path is not absolute");
    sched_error_free(err);
}

static void test_not_found_lists_paths_searched_and_backends_available(void)
{
    const char *dirs[] = { "/nonexistent/sched", util_fixture_dir() };
    char *path = (char *)"unchanged";
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_find("nosuch", dirs, 2, &path, &err), SCHED_ENOENT);
    CU_ASSERT_PTR_NULL(path);
    snprintf(expected, sizeof expected,
             "backend \"nosuch\" not found: searched /nonexistent/sched/nosuch.so, %s/nosuch.so; "
             "available backends: abi2, crashcreate, crashentry, createfail, createpos, halfpark, keydup, keyname, keyrange, keytype, longmsg, misnamed, noentry, noname, noschedule, reserved, small, valid",
             util_fixture_dir());
    ASSERT_ERROR(err, SCHED_ENOENT, expected);
    sched_error_free(err);
}

static void test_not_found_with_no_backends_says_so(void)
{
    const char *dirs[] = { "/nonexistent/sched" };
    char *path;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_find("linux", dirs, 1, &path, &err), SCHED_ENOENT);
    ASSERT_ERROR(err, SCHED_ENOENT,
                 "backend \"linux\" not found: searched /nonexistent/sched/linux.so; "
                 "no backends are installed");
    sched_error_free(err);
}

static void test_find_takes_first_directory_holding_the_name(void)
{
    char *dir = util_tempdir();
    char copy[4200];
    snprintf(copy, sizeof copy, "%s/valid.so", dir);
    util_copy(util_fixture("valid"), copy);
    const char *dirs[] = { dir, util_fixture_dir() };
    char *path = NULL;
    CU_ASSERT_EQUAL(sched__plugin_find("valid", dirs, 2, &path, NULL), 0);
    CU_ASSERT_STRING_EQUAL(path, copy);
    free(path);
    const char *rev[] = { util_fixture_dir(), dir };
    CU_ASSERT_EQUAL(sched__plugin_find("valid", rev, 2, &path, NULL), 0);
    CU_ASSERT_STRING_EQUAL(path, util_fixture("valid"));
    free(path);
    util_rmdir(dir);
}

static void test_refuses_relative_search_directory(void)
{
    /* A relative directory is never searched, even if it holds the file. */
    const char *dirs[] = { "tests/plugins/.libs" };
    char *path;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__plugin_find("valid", dirs, 1, &path, &err), SCHED_ENOENT);
    ASSERT_ERROR(err, SCHED_ENOENT,
                 "backend \"valid\" not found: searched no directories; no backends are installed");
    sched_error_free(err);
}

static void test_refuses_backend_names_outside_the_allowed_set(void)
{
    const char *bad[] = { "Linux", "../linux", "a/b", "", "lin ux", "linux.so" };
    const char *dirs[] = { util_fixture_dir() };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *path;
        sched_error *err = NULL;
        CU_ASSERT_EQUAL(sched__plugin_find(bad[i], dirs, 1, &path, &err), SCHED_ELOAD);
        snprintf(expected, sizeof expected,
                 "backend name \"%s\" is invalid: use only a-z, 0-9, '_' and '-'", bad[i]);
        ASSERT_ERROR(err, SCHED_ELOAD, expected);
        sched_error_free(err);
    }
    CU_ASSERT_TRUE(sched__backend_name_valid("cloudflare-sim"));
    CU_ASSERT_TRUE(sched__backend_name_valid("my_backend2"));
}

/* Collects "name " per backend, marking copies in a temporary dir. */
static void collect(const char *name, const char *path, void *arg)
{
    char *names = arg;
    strcat(names, name);
    if (strstr(path, "/sched-test-") != NULL)
        strcat(names, "@tmp");
    strcat(names, " ");
}

static void test_each_lists_every_backend_once_in_search_order(void)
{
    char *dir = util_tempdir();
    char copy[4200];
    snprintf(copy, sizeof copy, "%s/valid.so", dir);
    util_copy(util_fixture("valid"), copy);
    snprintf(copy, sizeof copy, "%s/README", dir);
    util_write(copy, "not a plugin\n");
    const char *dirs[] = { dir, util_fixture_dir() };
    char names[1024] = "";
    sched__plugin_each(dirs, 2, collect, names);
    CU_ASSERT_STRING_EQUAL(names, "valid@tmp abi2 crashcreate crashentry createfail createpos halfpark keydup keyname keyrange keytype longmsg misnamed "
                           "noentry noname noschedule reserved small ");
    util_rmdir(dir);
}

/* Loading through the config: create()'s failure carries its message. */
static void test_create_failure_carries_the_backends_message(void)
{
    char *dir = util_tempdir();
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    char text[8192];
    snprintf(text, sizeof text, "backend = \"createfail\";\nplugin_path = [ \"%s\" ];\n",
             util_fixture_dir());
    util_write(conf, text);
    unsetenv("SCHED_PLUGIN_PATH");
    sched_host host;
    memset(&host, 0, sizeof host);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &host.cfg, NULL), 0);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__loader_open(&host, &quiet_svc, &err), SCHED_EBACKEND);
    snprintf(expected, sizeof expected,
             "backend \"createfail\" (%s) failed to start: no worker threads could be started",
             util_fixture("createfail"));
    ASSERT_ERROR(err, SCHED_EBACKEND, expected);
    CU_ASSERT_PTR_NULL(host.lib);
    CU_ASSERT_PTR_NULL(host.desc);
    CU_ASSERT_PTR_NULL(host.plugin_path);
    sched_error_free(err);
    sched__config_free(host.cfg);
    util_rmdir(dir);
}

/* Load backend `name` from the fixtures through a config; the error. */
static sched_error *load_fixture(const char *name, int *rc)
{
    char *dir = util_tempdir();
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    char text[8192];
    snprintf(text, sizeof text, "backend = \"%s\";\nplugin_path = [ \"%s\" ];\n", name,
             util_fixture_dir());
    util_write(conf, text);
    unsetenv("SCHED_PLUGIN_PATH");
    sched_host host;
    memset(&host, 0, sizeof host);
    sched_error *err = NULL;
    if (sched__config_load(conf, &host.cfg, &err) != 0)
        util_die(conf);
    *rc = sched__loader_open(&host, &quiet_svc, &err);
    CU_ASSERT_PTR_NULL(host.lib);
    CU_ASSERT_PTR_NULL(host.plugin_path);
    sched__config_free(host.cfg);
    util_rmdir(dir);
    return err;
}

/* create() may fill its message buffer to the last byte; the host ends
 * the sentence there instead of reading past it. */
static void test_create_message_filling_the_buffer_is_cut_at_its_end(void)
{
    int rc;
    sched_error *err = load_fixture("longmsg", &rc);
    CU_ASSERT_EQUAL(rc, SCHED_EBACKEND);
    char xs[2048];
    memset(xs, 'x', sizeof xs - 1);
    xs[sizeof xs - 1] = '\0';
    snprintf(expected, sizeof expected, "backend \"longmsg\" (%s) failed to start: %s",
             util_fixture("longmsg"), xs);
    ASSERT_ERROR(err, SCHED_EBACKEND, expected);
    sched_error_free(err);
}

/* Only 0 is success; a positive return is neither that nor a code. */
static void test_positive_create_return_is_a_failure(void)
{
    int rc;
    sched_error *err = load_fixture("createpos", &rc);
    CU_ASSERT_EQUAL(rc, SCHED_EBACKEND);
    snprintf(expected, sizeof expected,
             "backend \"createpos\" (%s) failed to start: its create() returned 1, which is neither 0 "
             "nor a negative SCHED_E* code",
             util_fixture("createpos"));
    ASSERT_ERROR(err, SCHED_EBACKEND, expected);
    sched_error_free(err);
}

static char logged[32768];

static void capture_log(int level, const char *msg, void *data)
{
    (void)data;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%d %s\n", level, msg);
}

/* Every fallback is tried in order and logged; the error keeps them all. */
static void test_fallbacks_are_tried_in_order_and_logged(void)
{
    char *dir = util_tempdir();
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    char text[8192];
    snprintf(text, sizeof text,
             "backend = \"createfail\";\nfallback = [ \"nosuch\", \"abi2\" ];\nplugin_path = [ \"%s\" ];\n",
             util_fixture_dir());
    util_write(conf, text);
    unsetenv("SCHED_PLUGIN_PATH");
    sched_host host;
    memset(&host, 0, sizeof host);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &host.cfg, NULL), 0);
    logged[0] = '\0';
    sched_log_set_handler(capture_log, NULL);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__loader_open(&host, &quiet_svc, &err), SCHED_EBACKEND);
    sched_log_set_handler(NULL, NULL);

    static char first[16384], second[16384], third[16384];
    snprintf(first, sizeof first,
             "backend \"createfail\" (%s) failed to start: no worker threads could be started",
             util_fixture("createfail"));
    snprintf(second, sizeof second,
             "backend \"nosuch\" (set at %s:2) not found: searched %s/nosuch.so; "
             "available backends: abi2, crashcreate, crashentry, createfail, createpos, halfpark, keydup, keyname, keyrange, keytype, longmsg, misnamed, noentry, noname, noschedule, reserved, small, valid",
             conf, util_fixture_dir());
    snprintf(third, sizeof third,
             "plugin %s refused: it was built for plugin ABI 2.0, and this host implements ABI 1.1",
             util_fixture("abi2"));
    snprintf(expected, sizeof expected, "%s; fallback \"nosuch\": %s; fallback \"abi2\": %s", first,
             second, third);
    ASSERT_ERROR(err, SCHED_EBACKEND, expected);
    sched_error_free(err);

    static char log_expected[65536];
    snprintf(log_expected, sizeof log_expected,
             "1 %s; falling back to backend \"nosuch\"\n1 %s; falling back to backend \"abi2\"\n",
             first, second);
    CU_ASSERT_STRING_EQUAL(logged, log_expected);
    sched__config_free(host.cfg);
    util_rmdir(dir);
}

/* Without a fallback list a failure is final and nothing is logged. */
static void test_no_fallback_unless_configured(void)
{
    char *dir = util_tempdir();
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    char text[8192];
    snprintf(text, sizeof text, "backend = \"abi2\";\nplugin_path = [ \"%s\" ];\n", util_fixture_dir());
    util_write(conf, text);
    unsetenv("SCHED_PLUGIN_PATH");
    sched_host host;
    memset(&host, 0, sizeof host);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &host.cfg, NULL), 0);
    logged[0] = '\0';
    sched_log_set_handler(capture_log, NULL);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__loader_open(&host, &quiet_svc, &err), SCHED_ELOAD);
    sched_log_set_handler(NULL, NULL);
    CU_ASSERT_STRING_EQUAL(logged, "");
    sched_error_free(err);
    sched__config_free(host.cfg);
    util_rmdir(dir);
}

int main(void)
{
    /* Nothing installed on this machine may show in the messages. */
    setenv("SCHED_NOSYSTEM", "1", 1);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("loader", NULL, NULL);
    CU_ADD_TEST(s, test_valid_plugin_opens_with_its_descriptor);
    CU_ADD_TEST(s, test_refuses_missing_entry_symbol);
    CU_ADD_TEST(s, test_refuses_other_abi_major);
    CU_ADD_TEST(s, test_refuses_descriptor_smaller_than_v1);
    CU_ADD_TEST(s, test_refuses_null_required_op);
    CU_ADD_TEST(s, test_refuses_park_without_unpark);
    CU_ADD_TEST(s, test_refuses_descriptor_naming_another_backend);
    CU_ADD_TEST(s, test_refuses_descriptor_with_reserved_field_set);
    CU_ADD_TEST(s, test_refuses_config_key_of_unknown_type);
    CU_ADD_TEST(s, test_refuses_config_key_with_minimum_above_maximum);
    CU_ADD_TEST(s, test_refuses_config_key_declared_twice);
    CU_ADD_TEST(s, test_refuses_config_key_no_file_can_spell);
    CU_ADD_TEST(s, test_refuses_file_that_is_not_a_shared_object);
    CU_ADD_TEST(s, test_refuses_plugin_file_writable_by_others);
    CU_ADD_TEST(s, test_refuses_plugin_directory_writable_by_others);
    CU_ADD_TEST(s, test_refuses_parent_directory_writable_by_others);
    CU_ADD_TEST(s, test_refuses_swapped_parent_directory);
    CU_ADD_TEST(s, test_sticky_directory_only_as_an_ancestor);
    CU_ADD_TEST(s, test_symlink_is_judged_by_its_target);
    CU_ADD_TEST(s, test_refuses_relative_plugin_path);
    CU_ADD_TEST(s, test_not_found_lists_paths_searched_and_backends_available);
    CU_ADD_TEST(s, test_not_found_with_no_backends_says_so);
    CU_ADD_TEST(s, test_find_takes_first_directory_holding_the_name);
    CU_ADD_TEST(s, test_refuses_relative_search_directory);
    CU_ADD_TEST(s, test_refuses_backend_names_outside_the_allowed_set);
    CU_ADD_TEST(s, test_each_lists_every_backend_once_in_search_order);
    CU_ADD_TEST(s, test_create_failure_carries_the_backends_message);
    CU_ADD_TEST(s, test_create_message_filling_the_buffer_is_cut_at_its_end);
    CU_ADD_TEST(s, test_positive_create_return_is_a_failure);
    CU_ADD_TEST(s, test_fallbacks_are_tried_in_order_and_logged);
    CU_ADD_TEST(s, test_no_fallback_unless_configured);
    return util_run();
}
