/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config.c - reading sched.conf(5): lookup order, environment
 * overrides, and every error naming file, line and setting.
 */
#include "config.h"

#include "foundation_util.h"
#include "internal.h"

extern const char sched__default_conf[];

static char *dir;
static char conf[4200];
static char expected[16384];

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

static void clear_env(void)
{
    unsetenv("SCHED_CONFIG");
    unsetenv("SCHED_BACKEND");
    unsetenv("SCHED_PLUGIN_PATH");
    unsetenv("XDG_CONFIG_HOME");
}

/* Load text from a file; expect failure with "conf:line: what". */
static void expect_error(const char *text, int line, const char *what)
{
    clear_env();
    util_write(conf, text);
    struct sched__config *cfg = (struct sched__config *)1;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(cfg);
    snprintf(expected, sizeof expected, "%s:%d: %s", conf, line, what);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static struct sched__config *load_text(const char *text)
{
    clear_env();
    util_write(conf, text);
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    int rc = sched__config_load(conf, &cfg, &err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected error: %s\n", sched_error_message(err));
    CU_ASSERT_EQUAL(rc, 0);
    sched_error_free(err);
    return cfg;
}

static void test_compiled_in_default_is_conf_sched_conf_byte_for_byte(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/conf/sched.conf", getenv("SCHED_TOP_SRCDIR"));
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CU_ASSERT_EQUAL(strlen(sched__default_conf), n);
    CU_ASSERT_STRING_EQUAL(sched__default_conf, buf);
}

/* Without SCHED_NOSYSTEM an installed system-wide file is read; the test
 * cannot install one, so it checks whichever case this machine is in. */
static void test_no_file_anywhere_uses_the_compiled_in_default(void)
{
    clear_env();
    unsetenv("SCHED_NOSYSTEM");
    char *sys = sched__system_config_path();
    int have_sys = sched__file_exists(sys);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    setenv("SCHED_NOSYSTEM", "1", 1);
    if (have_sys) {
        /* An installed system-wide file comes before the built-in one. */
        CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), sys);
        CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "system-wide file");
    } else {
        CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), "(built-in)");
        CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "compiled-in default");
        CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "linux");
        const char *const *v;
        CU_ASSERT_EQUAL(sched__config_fallbacks(cfg, &v), 0);
        CU_ASSERT_EQUAL(sched__config_plugin_dirs(cfg, &v), 0);
        int64_t threads = -1;
        CU_ASSERT_EQUAL(sched__config_get(cfg, "linux", "threads", SCHED_CONFIG_INT, &threads), 0);
        CU_ASSERT_EQUAL(threads, 0);
    }
    free(sys);
    sched__config_free(cfg);
}

/* SCHED_NOSYSTEM=1: the system-wide file and the built-in plugin directory
 * are out of the picture, whatever is installed. */
static void test_nosystem_ignores_what_is_installed(void)
{
    clear_env();
    setenv("SCHED_NOSYSTEM", "1", 1);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), "(built-in)");
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "compiled-in default");
    const char **dirs;
    CU_ASSERT_EQUAL(sched__plugin_search_dirs(cfg, &dirs), 0);
    free(dirs);
    sched__config_free(cfg);

    /* Anything but "1" leaves it off: the built-in directory is searched. */
    setenv("SCHED_NOSYSTEM", "0", 1);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sched__plugin_search_dirs(cfg, &dirs), 1);
    CU_ASSERT_STRING_EQUAL(dirs[0], sched__builtin_plugin_dir());
    free(dirs);
    sched__config_free(cfg);
    setenv("SCHED_NOSYSTEM", "1", 1);
}

/* explicit path > $SCHED_CONFIG > $XDG_CONFIG_HOME/sched/sched.conf */
static void test_lookup_order_explicit_then_env_then_xdg(void)
{
    clear_env();
    char xdg[4200], user[4300], envfile[4200];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    snprintf(user, sizeof user, "%s/sched", xdg);
    CU_ASSERT_EQUAL_FATAL(mkdir(xdg, 0700), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(user, 0700), 0);
    strcat(user, "/sched.conf");
    util_write(user, "backend = \"from-xdg\";\n");
    snprintf(envfile, sizeof envfile, "%s/env.conf", dir);
    util_write(envfile, "backend = \"from-env\";\n");
    util_write(conf, "backend = \"from-path\";\n");

    setenv("XDG_CONFIG_HOME", xdg, 1);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "from-xdg");
    CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), user);
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "$XDG_CONFIG_HOME");
    sched__config_free(cfg);

    setenv("SCHED_CONFIG", envfile, 1);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "from-env");
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "$SCHED_CONFIG");
    sched__config_free(cfg);

    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "from-path");
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "given by the program");
    sched__config_free(cfg);

    /* A relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
    unsetenv("SCHED_CONFIG");
    setenv("XDG_CONFIG_HOME", "relative/xdg", 1);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_NOT_EQUAL(sched__config_source(cfg), "$XDG_CONFIG_HOME");
    sched__config_free(cfg);
    clear_env();
    unlink(user);
}

static void test_missing_explicit_file_is_an_error_not_a_fallback(void)
{
    clear_env();
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/missing.conf", dir);
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(missing, &cfg, &err), SCHED_ENOENT);
    snprintf(expected, sizeof expected, "cannot read config file %s: No such file or directory", missing);
    ASSERT_ERROR(err, SCHED_ENOENT, expected);
    sched_error_free(err);

    setenv("SCHED_CONFIG", missing, 1);
    err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(NULL, &cfg, &err), SCHED_ENOENT);
    ASSERT_ERROR(err, SCHED_ENOENT, expected);
    sched_error_free(err);
    clear_env();
}

static void test_syntax_error_names_file_and_line(void)
{
    expect_error("backend = \"linux\";\n\nlinux: { threads = ; };\n", 3,
                 "syntax error near \"linux: { threads = ; };\"");
}

static void test_unknown_top_level_setting_is_an_error(void)
{
    expect_error("backend = \"linux\";\nbakend = \"test\";\n", 2, "unknown setting \"bakend\"");
}

static void test_wrong_type_for_backend_is_an_error(void)
{
    expect_error("# comment\nbackend = 5;\n", 2, "setting \"backend\" must be a string");
}

static void test_wrong_type_for_fallback_is_an_error(void)
{
    expect_error("backend = \"linux\";\nfallback = \"test\";\n", 2,
                 "setting \"fallback\" must be a list of strings");
    expect_error("backend = \"linux\";\nfallback = [ 1, 2 ];\n", 2,
                 "setting \"fallback\" must be a list of strings");
}

static void test_relative_plugin_path_is_an_error(void)
{
    expect_error("backend = \"linux\";\nplugin_path = [ \"/ok\", \"lib/sched\" ];\n", 2,
                 "setting \"plugin_path\" holds \"lib/sched\", which is not an absolute directory");
}

static void test_backend_names_outside_the_allowed_set_are_config_errors(void)
{
    expect_error("# the backend\nbackend = \"../evil\";\n", 2,
                 "setting \"backend\" holds \"../evil\", which is not a backend name (use only a-z, 0-9, '_' and '-')");
    expect_error("backend = \"linux\";\nfallback = [ \"test\", \"Test\" ];\n", 2,
                 "setting \"fallback\" holds \"Test\", which is not a backend name (use only a-z, 0-9, '_' and '-')");
    util_write(conf, "backend = \"linux\";\n");
    setenv("SCHED_BACKEND", "lib/evil", 1);
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    ASSERT_ERROR(err, SCHED_ECONFIG,
                 "SCHED_BACKEND holds \"lib/evil\", which is not a backend name (use only a-z, 0-9, '_' and '-')");
    sched_error_free(err);
    clear_env();
}

static void test_config_path_that_is_not_a_file_is_an_error(void)
{
    clear_env();
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(dir, &cfg, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "cannot read config file %s: not a regular file", dir);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static void test_group_with_a_name_no_backend_can_have_is_an_error(void)
{
    expect_error("backend = \"linux\";\nLinux: { threads = 2; };\n", 2,
                 "group \"Linux\" is not a backend name (use only a-z, 0-9, '_' and '-')");
}

static void test_missing_backend_is_an_error(void)
{
    clear_env();
    util_write(conf, "linux: { threads = 2; };\n");
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected,
             "%s: setting \"backend\" is missing (and SCHED_BACKEND is not set)", conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);

    /* ... unless the environment names one. */
    setenv("SCHED_BACKEND", "test", 1);
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "test");
    sched__config_free(cfg);
    clear_env();
}

static void test_groups_of_backends_not_loaded_are_not_validated(void)
{
    struct sched__config *cfg = load_text("backend = \"linux\";\nacme: { anything = \"goes\"; n = 3; };\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    sched__config_free(cfg);
}

static void test_sched_backend_overrides_the_file(void)
{
    util_write(conf, "backend = \"linux\";\n");
    clear_env();
    setenv("SCHED_BACKEND", "test", 1);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "test");
    sched__config_free(cfg);
    clear_env();
}

/* An empty SCHED_BACKEND was silently taken for "unset". */
static void test_empty_sched_backend_is_an_error(void)
{
    util_write(conf, "backend = \"linux\";\n");
    clear_env();
    setenv("SCHED_BACKEND", "", 1);
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    ASSERT_ERROR(err, SCHED_ECONFIG,
                 "SCHED_BACKEND is set but empty: name a backend, or unset it to use the configured one");
    sched_error_free(err);
    clear_env();
}

static void test_sched_plugin_path_replaces_plugin_path(void)
{
    util_write(conf, "backend = \"linux\";\nplugin_path = [ \"/from/file\" ];\n");
    clear_env();
    setenv("SCHED_PLUGIN_PATH", "/a::/b/c:", 1);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    const char *const *dirs;
    CU_ASSERT_EQUAL_FATAL(sched__config_plugin_dirs(cfg, &dirs), 2);
    CU_ASSERT_STRING_EQUAL(dirs[0], "/a");
    CU_ASSERT_STRING_EQUAL(dirs[1], "/b/c");
    sched__config_free(cfg);
    clear_env();
}

static void test_relative_directory_in_sched_plugin_path_is_an_error(void)
{
    util_write(conf, "backend = \"linux\";\n");
    clear_env();
    setenv("SCHED_PLUGIN_PATH", "/a:rel/dir", 1);
    struct sched__config *cfg;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    ASSERT_ERROR(err, SCHED_ECONFIG,
                 "SCHED_PLUGIN_PATH holds \"rel/dir\", which is not an absolute directory");
    sched_error_free(err);
    clear_env();
}

static const sched_config_key keys[] = {
    { "threads", SCHED_CONFIG_INT, 0, 1024, "worker threads" },
    { "spin", SCHED_CONFIG_BOOL, 0, 0, "spin first" },
    { "ratio", SCHED_CONFIG_FLOAT, 0, 0, "a ratio" },
    { "label", SCHED_CONFIG_STRING, 0, 0, "a label" },
    { NULL, 0, 0, 0, NULL },
};

static void expect_group_error(const char *text, const sched_config_key *k, int line, const char *what)
{
    struct sched__config *cfg = load_text(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_validate_group(cfg, "acme", k, &err), SCHED_ECONFIG);
    snprintf(expected, sizeof expected, "%s:%d: %s", conf, line, what);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
    sched__config_free(cfg);
}

static void test_unknown_key_in_backend_group_names_the_accepted_keys(void)
{
    expect_group_error("backend = \"acme\";\nacme: {\n  threads = 2;\n  thread = 3;\n};\n", keys, 4,
                       "unknown setting \"acme.thread\" (the acme backend accepts: threads, spin, ratio, label)");
}

static void test_backend_declaring_no_keys_accepts_none(void)
{
    expect_group_error("backend = \"acme\";\nacme: { x = 1; };\n", NULL, 2,
                       "unknown setting \"acme.x\" (the acme backend accepts no settings)");
}

static void test_wrong_type_in_backend_group_is_an_error(void)
{
    expect_group_error("backend = \"acme\";\nacme: { threads = \"four\"; };\n", keys, 2,
                       "setting \"acme.threads\" must be an integer");
    expect_group_error("backend = \"acme\";\nacme: { spin = 1; };\n", keys, 2,
                       "setting \"acme.spin\" must be a boolean (true or false)");
    expect_group_error("backend = \"acme\";\nacme: { ratio = \"x\"; };\n", keys, 2,
                       "setting \"acme.ratio\" must be a number");
    expect_group_error("backend = \"acme\";\nacme: { label = 3; };\n", keys, 2,
                       "setting \"acme.label\" must be a string");
}

static void test_integer_outside_declared_range_is_an_error(void)
{
    expect_group_error("backend = \"acme\";\n\nacme: { threads = 5000; };\n", keys, 3,
                       "setting \"acme.threads\" is 5000, outside [0, 1024]");
    expect_group_error("backend = \"acme\";\nacme: { threads = -1; };\n", keys, 2,
                       "setting \"acme.threads\" is -1, outside [0, 1024]");
}

static void test_valid_group_passes_and_getters_read_it(void)
{
    struct sched__config *cfg = load_text(
        "backend = \"acme\";\nacme: { threads = 8; spin = true; ratio = 2; label = \"x\"; };\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(sched__config_validate_group(cfg, "acme", keys, NULL), 0);
    int64_t i = 0;
    int b = 0;
    double d = 0;
    const char *s = NULL;
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "threads", SCHED_CONFIG_INT, &i), 0);
    CU_ASSERT_EQUAL(i, 8);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "spin", SCHED_CONFIG_BOOL, &b), 0);
    CU_ASSERT_EQUAL(b, 1);
    /* A float setting accepts an integer. */
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "ratio", SCHED_CONFIG_FLOAT, &d), 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 2.0, 1e-12);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "label", SCHED_CONFIG_STRING, &s), 0);
    CU_ASSERT_STRING_EQUAL(s, "x");
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "absent", SCHED_CONFIG_INT, &i), SCHED_ENOENT);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "nogroup", "threads", SCHED_CONFIG_INT, &i), SCHED_ENOENT);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "acme", "label", SCHED_CONFIG_INT, &i), SCHED_EINVAL);

    char buf[1024];
    sched__config_key_error(cfg, "acme", "threads", "must be a power of two", buf, sizeof buf);
    snprintf(expected, sizeof expected, "%s:2: setting \"acme.threads\": must be a power of two", conf);
    CU_ASSERT_STRING_EQUAL(buf, expected);
    sched__config_free(cfg);
}

struct seen {
    char text[4096];
};

static void record(const char *name, const char *value, const char *origin, void *arg)
{
    struct seen *s = arg;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof s->text - used, "%s=%s@%s\n", name, value, origin);
}

static void test_each_setting_reports_where_it_came_from(void)
{
    util_write(conf, "backend = \"linux\";\nfallback = [ \"test\", \"acme\" ];\nlinux: { threads = 4; };\n");
    clear_env();
    setenv("SCHED_BACKEND", "test", 1);
    setenv("SCHED_PLUGIN_PATH", "/p1:/p2", 1);
    struct sched__config *cfg;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(conf, &cfg, NULL), 0);
    struct seen s = { "" };
    sched__config_each(cfg, record, &s);
    snprintf(expected, sizeof expected,
             "backend=test@$SCHED_BACKEND\n"
             "fallback=test, acme@%s:2\n"
             "plugin_path=/p1:/p2@$SCHED_PLUGIN_PATH\n"
             "linux.threads=4@%s:3\n", conf, conf);
    CU_ASSERT_STRING_EQUAL(s.text, expected);
    sched__config_free(cfg);
    clear_env();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("config", setup, teardown);
    CU_ADD_TEST(s, test_compiled_in_default_is_conf_sched_conf_byte_for_byte);
    CU_ADD_TEST(s, test_no_file_anywhere_uses_the_compiled_in_default);
    CU_ADD_TEST(s, test_nosystem_ignores_what_is_installed);
    CU_ADD_TEST(s, test_lookup_order_explicit_then_env_then_xdg);
    CU_ADD_TEST(s, test_missing_explicit_file_is_an_error_not_a_fallback);
    CU_ADD_TEST(s, test_syntax_error_names_file_and_line);
    CU_ADD_TEST(s, test_unknown_top_level_setting_is_an_error);
    CU_ADD_TEST(s, test_wrong_type_for_backend_is_an_error);
    CU_ADD_TEST(s, test_wrong_type_for_fallback_is_an_error);
    CU_ADD_TEST(s, test_relative_plugin_path_is_an_error);
    CU_ADD_TEST(s, test_backend_names_outside_the_allowed_set_are_config_errors);
    CU_ADD_TEST(s, test_config_path_that_is_not_a_file_is_an_error);
    CU_ADD_TEST(s, test_group_with_a_name_no_backend_can_have_is_an_error);
    CU_ADD_TEST(s, test_missing_backend_is_an_error);
    CU_ADD_TEST(s, test_groups_of_backends_not_loaded_are_not_validated);
    CU_ADD_TEST(s, test_sched_backend_overrides_the_file);
    CU_ADD_TEST(s, test_empty_sched_backend_is_an_error);
    CU_ADD_TEST(s, test_sched_plugin_path_replaces_plugin_path);
    CU_ADD_TEST(s, test_relative_directory_in_sched_plugin_path_is_an_error);
    CU_ADD_TEST(s, test_unknown_key_in_backend_group_names_the_accepted_keys);
    CU_ADD_TEST(s, test_backend_declaring_no_keys_accepts_none);
    CU_ADD_TEST(s, test_wrong_type_in_backend_group_is_an_error);
    CU_ADD_TEST(s, test_integer_outside_declared_range_is_an_error);
    CU_ADD_TEST(s, test_valid_group_passes_and_getters_read_it);
    CU_ADD_TEST(s, test_each_setting_reports_where_it_came_from);
    return util_run();
}
