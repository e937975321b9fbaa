/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config_include.c - @include as sched.conf(5) defines it: a
 * relative path resolves against the directory of the file that holds
 * it, never against the working directory, and every setting and error
 * still names its own file and line.  (In a set-uid program an included
 * file must also pass the ownership rule: test_setuid.sh proves that.)
 */
#include "config.h"

#include "foundation_util.h"
#include "internal.h"

static char *dir;
static char cwd_dir[4200], conf[4300], expected[16384];
static char saved_cwd[4096];

/* A fresh tree: dir/etc (the configuration) and dir/cwd, the working
 * directory, which holds decoys under the same relative names. */
static void setup(void)
{
    unsetenv("SCHED_BACKEND");
    unsetenv("SCHED_PLUGIN_PATH");
    dir = util_tempdir();
    char path[4300];
    snprintf(path, sizeof path, "%s/etc", dir);
    if (mkdir(path, 0755) != 0)
        util_die(path);
    snprintf(path, sizeof path, "%s/etc/sub", dir);
    if (mkdir(path, 0755) != 0)
        util_die(path);
    snprintf(cwd_dir, sizeof cwd_dir, "%s/cwd", dir);
    if (mkdir(cwd_dir, 0755) != 0)
        util_die(cwd_dir);
    snprintf(path, sizeof path, "%s/sub", cwd_dir);
    if (mkdir(path, 0755) != 0)
        util_die(path);
    snprintf(conf, sizeof conf, "%s/etc/sched.conf", dir);
    if (getcwd(saved_cwd, sizeof saved_cwd) == NULL || chdir(cwd_dir) != 0)
        util_die("chdir");
}

static void teardown(void)
{
    if (chdir(saved_cwd) != 0)
        util_die("chdir");
    util_rmdir(dir);
}

/* Write dir/REL with text. */
static void put(const char *rel, const char *text)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    util_write(path, text);
}

static const char *origin_of(const char *name, const struct sched__config *cfg);

struct find {
    const char *name;
    char value[1024], origin[1024];
};

static void visit(const char *name, const char *value, const char *origin, void *arg)
{
    struct find *f = arg;
    if (strcmp(name, f->name) == 0) {
        snprintf(f->value, sizeof f->value, "%s", value);
        snprintf(f->origin, sizeof f->origin, "%s", origin);
    }
}

static struct find found;

static const char *origin_of(const char *name, const struct sched__config *cfg)
{
    memset(&found, 0, sizeof found);
    found.name = name;
    sched__config_each(cfg, visit, &found);
    return found.origin;
}

static void test_relative_include_resolves_against_the_including_file(void)
{
    setup();
    put("etc/sched.conf", "@include \"site.conf\"\nbackend = \"linux\";\n");
    put("etc/site.conf", "fallback = [ \"test\" ];\n");
    put("cwd/site.conf", "fallback = [ \"evil\" ];\n");
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, &err), 0);
    snprintf(expected, sizeof expected, "%s/etc/site.conf:1", dir);
    CU_ASSERT_STRING_EQUAL(origin_of("fallback", cfg), expected);
    CU_ASSERT_STRING_EQUAL(found.value, "test");
    sched__config_free(cfg);
    teardown();
}

/* An included file's own @include resolves against its directory, not
 * the main file's. */
static void test_nested_include_resolves_against_its_own_directory(void)
{
    setup();
    put("etc/sched.conf", "@include \"sub/a.conf\"\nbackend = \"linux\";\n");
    put("etc/sub/a.conf", "# the site's settings\n@include \"b.conf\"\nlinux: { threads = 3; };\n");
    put("etc/sub/b.conf", "fallback = [ \"test\" ];\n");
    put("etc/b.conf", "fallback = [ \"wrong\" ];\n");
    put("cwd/b.conf", "fallback = [ \"evil\" ];\n");
    put("cwd/sub/a.conf", "plugin_path = [ \"/evil\" ];\n");
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, &err), 0);
    snprintf(expected, sizeof expected, "%s/etc/sub/b.conf:1", dir);
    CU_ASSERT_STRING_EQUAL(origin_of("fallback", cfg), expected);
    CU_ASSERT_STRING_EQUAL(found.value, "test");
    snprintf(expected, sizeof expected, "%s/etc/sub/a.conf:3", dir);
    CU_ASSERT_STRING_EQUAL(origin_of("linux.threads", cfg), expected);
    CU_ASSERT_STRING_EQUAL(origin_of("plugin_path", cfg), "not set");
    snprintf(expected, sizeof expected, "%s:2", conf);
    CU_ASSERT_STRING_EQUAL(sched__config_backend_origin(cfg), expected);
    sched__config_free(cfg);
    teardown();
}

static void test_absolute_include_is_used_as_written(void)
{
    setup();
    char text[8192];
    snprintf(text, sizeof text, "backend = \"linux\";\n@include \"%s/etc/sub/abs.conf\"\n", dir);
    put("etc/sched.conf", text);
    put("etc/sub/abs.conf", "\n\nfallback = [ \"test\" ];\n");
    struct sched__config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    snprintf(expected, sizeof expected, "%s/etc/sub/abs.conf:3", dir);
    CU_ASSERT_STRING_EQUAL(origin_of("fallback", cfg), expected);
    sched__config_free(cfg);
    teardown();
}

/* A config named relative to the working directory includes beside
 * itself, as a relative name of its own. */
static void test_include_beside_a_config_named_relative_to_the_cwd(void)
{
    setup();
    if (chdir(dir) != 0)
        util_die(dir);
    put("etc/sched.conf", "@include \"site.conf\"\nbackend = \"linux\";\n");
    put("etc/site.conf", "fallback = [ \"test\" ];\n");
    put("site.conf", "fallback = [ \"evil\" ];\n");
    struct sched__config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__config_load("etc/sched.conf", &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(origin_of("fallback", cfg), "etc/site.conf:1");
    sched__config_free(cfg);
    teardown();
}

/* Lines after an @include are counted in their own file, and an error in
 * an included file names that file and its line. */
static void test_errors_name_their_own_file_and_line_around_an_include(void)
{
    setup();
    put("etc/sched.conf", "@include \"sub/three.conf\"\nbackend = \"linux\";\nbogus = 1;\n");
    put("etc/sub/three.conf", "# one\n# two\nfallback = [ \"test\" ];\n");
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "%s:3: unknown setting \"bogus\"", conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);

    put("etc/sched.conf", "backend = \"linux\";\n@include \"sub/three.conf\"\n");
    put("etc/sub/three.conf", "# one\n\nwhat = 1;\n");
    err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "%s/etc/sub/three.conf:3: unknown setting \"what\"", dir);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
    teardown();
}

/* A missing included file is looked for beside the including file, and
 * the error says where it was looked for. */
static void test_missing_include_names_where_it_was_looked_for(void)
{
    setup();
    put("etc/sched.conf", "backend = \"linux\";\n@include \"nosuch.conf\"\n");
    put("cwd/nosuch.conf", "fallback = [ \"evil\" ];\n");
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    snprintf(expected, sizeof expected, "%s:2: cannot @include \"%s/etc/nosuch.conf\": ", conf, dir);
    if (strncmp(sched_error_message(err), expected, strlen(expected)) != 0)
        fprintf(stderr, "\n  expected: %s...\n  got:      %s\n", expected, sched_error_message(err));
    CU_ASSERT_EQUAL(strncmp(sched_error_message(err), expected, strlen(expected)), 0);
    sched_error_free(err);
    teardown();
}

int main(void)
{
    setenv("SCHED_NOSYSTEM", "1", 1);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("config-include", NULL, NULL);
    CU_ADD_TEST(s, test_relative_include_resolves_against_the_including_file);
    CU_ADD_TEST(s, test_nested_include_resolves_against_its_own_directory);
    CU_ADD_TEST(s, test_absolute_include_is_used_as_written);
    CU_ADD_TEST(s, test_include_beside_a_config_named_relative_to_the_cwd);
    CU_ADD_TEST(s, test_errors_name_their_own_file_and_line_around_an_include);
    CU_ADD_TEST(s, test_missing_include_names_where_it_was_looked_for);
    return util_run();
}
