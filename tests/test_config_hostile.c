/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config_hostile.c - configs written by an attacker or a
 * careless administrator, against libconfig 1.5's weak spots: integers it
 * truncates, strings and comments that swallow the rest of the file,
 * @include of a directory (flex prints and exits the process), FIFOs that
 * block, files too big or too deep to parse in reasonable time, a
 * byte-order mark, NUL bytes.  Each must be an error naming the file and
 * line (or, for the byte-order mark, be accepted).
 */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include "foundation_util.h"
#include "internal.h"

static char *dir;
static char conf[4200], inc[4200];
static char expected[16384];

static int setup(void)
{
    dir = util_tempdir();
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    snprintf(inc, sizeof inc, "%s/inc.conf", dir);
    unsetenv("SCHED_CONFIG");
    unsetenv("SCHED_BACKEND");
    unsetenv("SCHED_PLUGIN_PATH");
    unsetenv("XDG_CONFIG_HOME");
    return 0;
}

static int teardown(void)
{
    util_rmdir(dir);
    return 0;
}

/* Expect loading path to fail with code and exactly want. */
static void expect_load_error(const char *path, int code, const char *want)
{
    struct sched__config *cfg = (struct sched__config *)1;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(path, &cfg, &err), code);
    CU_ASSERT_PTR_NULL(cfg);
    ASSERT_ERROR(err, code, want);
    sched_error_free(err);
}

/* Write text to the config; expect "conf:line: what". */
static void expect_error(const char *text, int line, const char *what)
{
    util_write(conf, text);
    snprintf(expected, sizeof expected, "%s:%d: %s", conf, line, what);
    expect_load_error(conf, SCHED_ECONFIG, expected);
}

static struct sched__config *load_ok(const char *path)
{
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    int rc = sched__config_load(path, &cfg, &err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected error: %s\n", sched_error_message(err));
    CU_ASSERT_EQUAL(rc, 0);
    sched_error_free(err);
    return cfg;
}

static void test_plain_integer_beyond_32_bits_is_a_range_error_not_truncated(void)
{
    /* libconfig reads it with atoi: 4294967300 would be 4. */
    expect_error("backend = \"linux\";\nlinux: { threads = 4294967300; };\n", 2,
                 "setting \"linux.threads\" is 4294967300, outside the range of an integer "
                 "[-2147483648, 2147483647] (write 4294967300L for a 64-bit integer)");
    /* ... and 2147483648 would be negative. */
    expect_error("backend = \"linux\";\nlinux: {\n  threads = 2147483648;\n};\n", 3,
                 "setting \"linux.threads\" is 2147483648, outside the range of an integer "
                 "[-2147483648, 2147483647] (write 2147483648L for a 64-bit integer)");
    expect_error("backend = \"linux\";\ntest: { seed = -2147483649; };\n", 2,
                 "setting \"test.seed\" is -2147483649, outside the range of an integer "
                 "[-2147483648, 2147483647] (write -2147483649L for a 64-bit integer)");
    expect_error("backend = \"linux\";\ntest: { seed = 99999999999999999999; };\n", 2,
                 "setting \"test.seed\" is 99999999999999999999, outside the range of an integer "
                 "[-2147483648, 2147483647]");
}

static void test_integers_at_the_limits_are_read_exactly(void)
{
    util_write(conf, "backend = \"linux\";\n"
                     "a: { lo = -2147483648; hi = 2147483647; big = 4294967300L; "
                     "h = 0x7fffffff; h64 = 0x7fffffffffffffffL; };\n");
    struct sched__config *cfg = load_ok(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    int64_t v = 0;
    CU_ASSERT_EQUAL(sched__config_get(cfg, "a", "lo", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, INT32_MIN);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "a", "hi", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, INT32_MAX);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "a", "big", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, 4294967300LL);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "a", "h", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, INT32_MAX);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "a", "h64", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_MAX);
    sched__config_free(cfg);
}

static void test_64_bit_and_hex_integers_out_of_range_are_errors(void)
{
    expect_error("backend = \"linux\";\nt: { s = 9223372036854775808L; };\n", 2,
                 "setting \"t.s\" is 9223372036854775808L, outside the range of a 64-bit integer "
                 "[-9223372036854775808, 9223372036854775807]");
    expect_error("backend = \"linux\";\nt: { s = 0x100000000; };\n", 2,
                 "setting \"t.s\" is 0x100000000, outside the range of an integer [0, 0x7fffffff] "
                 "(write it with L for a 64-bit integer)");
    expect_error("backend = \"linux\";\nt: { s = 0x80000000; };\n", 2,
                 "setting \"t.s\" is 0x80000000, outside the range of an integer [0, 0x7fffffff] "
                 "(write it with L for a 64-bit integer)");
    expect_error("backend = \"linux\";\nt: { s = 0x10000000000000000L; };\n", 2,
                 "setting \"t.s\" is 0x10000000000000000L, outside the range of a 64-bit integer "
                 "[0, 0x7fffffffffffffffL]");
    expect_error("backend = \"linux\";\nt: { x = 1e999; };\n", 2,
                 "setting \"t.x\" is 1e999, not a finite number");
    expect_error("backend = \"linux\";\nfallback = [ \"test\", 4294967296 ];\n", 2,
                 "setting \"fallback\" is 4294967296, outside the range of an integer "
                 "[-2147483648, 2147483647] (write 4294967296L for a 64-bit integer)");
}

static void test_unterminated_string_does_not_swallow_the_rest_of_the_file(void)
{
    /* libconfig 1.5 accepts both, without the settings after the quote. */
    expect_error("backend = \"linux\"; \"\nlinux: { threads = 5000; };\n", 1,
                 "a string opened on this line is never closed (a '\"' is missing)");
    expect_error("backend = \"linux\";\nfallback = [ \"test ];\nlinux: { threads = 5000; };\n", 2,
                 "a string opened on this line is never closed (a '\"' is missing)");
}

static void test_unterminated_comment_does_not_swallow_the_rest_of_the_file(void)
{
    expect_error("backend = \"linux\";\n\n/* the rest\nlinux: { threads = 5000; };\n", 3,
                 "a comment opened on this line is never closed (a \"*/\" is missing)");
    /* Closed comments, and comment markers inside strings, are fine. */
    util_write(conf, "/* a\n * b */ backend = \"linux\"; # x /*\nfallback = [ \"/*\", \"#\" ]; // */\n");
    struct sched__config *cfg = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched__config_load(conf, &cfg, &err), SCHED_ECONFIG);
    /* Loaded far enough to check the names: the comments were comments. */
    snprintf(expected, sizeof expected,
             "%s:3: setting \"fallback\" holds \"/*\", which is not a backend name (use only a-z, 0-9, '_' and '-')",
             conf);
    ASSERT_ERROR(err, SCHED_ECONFIG, expected);
    sched_error_free(err);
}

static void test_include_of_a_directory_is_an_error_not_an_exit(void)
{
    /* libconfig opens it, flex fails to read it and calls exit(2). */
    snprintf(expected, sizeof expected, "backend = \"linux\";\n@include \"%s\"\n", dir);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want, "%s:2: cannot @include \"%s\": not a regular file", conf, dir);
    expect_load_error(conf, SCHED_ECONFIG, want);

    /* Through the public function, as an application would call it. */
    sched_host *h = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&h, conf, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(h);
    ASSERT_ERROR(err, SCHED_ECONFIG, want);
    sched_error_free(err);
}

static void test_include_of_a_fifo_is_refused_without_blocking(void)
{
    char fifo[4300];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    snprintf(expected, sizeof expected, "backend = \"linux\";\n@include \"%s\"\n", fifo);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want, "%s:2: cannot @include \"%s\": not a regular file", conf, fifo);
    expect_load_error(conf, SCHED_ECONFIG, want);
    unlink(fifo);
}

static void test_fifo_as_the_config_is_refused_without_blocking(void)
{
    char fifo[4300];
    snprintf(fifo, sizeof fifo, "%s/fifo.conf", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    snprintf(expected, sizeof expected, "cannot read config file %s: not a regular file", fifo);
    expect_load_error(fifo, SCHED_ECONFIG, expected);
    setenv("SCHED_CONFIG", fifo, 1);
    expect_load_error(NULL, SCHED_ECONFIG, expected);
    unsetenv("SCHED_CONFIG");
    unlink(fifo);
}

static void test_missing_include_names_the_including_line_and_the_reason(void)
{
    snprintf(expected, sizeof expected, "backend = \"linux\";\n\n  @include \"%s/none.conf\"\n", dir);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want, "%s:3: cannot @include \"%s/none.conf\": No such file or directory",
             conf, dir);
    expect_load_error(conf, SCHED_ECONFIG, want);
}

static void test_errors_in_an_included_file_name_it_and_where_it_was_included(void)
{
    util_write(inc, "linux: {\n  threads = = 2;\n};\n");
    snprintf(expected, sizeof expected, "backend = \"linux\";\n@include \"%s\"\n", inc);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want,
             "%s:2: syntax error near \"threads = = 2;\" (in a file @included from %s:2)", inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);

    util_write(inc, "linux: { threads = 4294967300; };\n");
    snprintf(want, sizeof want,
             "%s:1: setting \"linux.threads\" is 4294967300, outside the range of an integer "
             "[-2147483648, 2147483647] (write 4294967300L for a 64-bit integer) "
             "(in a file @included from %s:2)", inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);

    util_write(inc, "linux: { threads = \"2; };\n");
    snprintf(want, sizeof want, "%s:1: a string opened on this line is never closed (a '\"' is missing) "
             "(in a file @included from %s:2)", inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);
}

static void test_syntax_errors_quote_the_line(void)
{
    expect_error("backend = \"linux\";\n\nlinux: { threads = ; };\n", 3,
                 "syntax error near \"linux: { threads = ; };\"");
    expect_error("backend = \"linux\";\nbackend = \"test\";\n", 2,
                 "duplicate setting name near \"backend = \"test\";\"");
    /* libconfig leaks the string it meets a syntax error at; these are
     * caught before it sees them (the valgrind pass checks the leak). */
    expect_error("backend = \"linux\";\nx = 1 \"abcdefgh\";\n", 2,
                 "syntax error near \"x = 1 \"abcdefgh\";\"");
    expect_error("\"abcdefgh\"\n", 1, "syntax error near \"\"abcdefgh\"\"");
    expect_error("backend = \"linux\";\nfallback = [ \"test\", ];\n", 2,
                 "syntax error near \"fallback = [ \"test\", ];\"");
    expect_error("backend = \"linux\";\nx = [ [ 1 ] ];\n", 2, "syntax error near \"x = [ [ 1 ] ];\"");
    expect_error("backend = \"linux\";\nlinux: { threads = 2;\n", 2,
                 "a group opened on this line is never closed (a '}' is missing)");
    expect_error("backend = \"linux\";\nfallback = ( \"test\"\n", 2,
                 "a list opened on this line is never closed (a ')' is missing)");
    expect_error("backend = \"linux\";\nx =\n\n", 4, "the file ends before the setting \"x\" has a value");
    expect_error("backend = \"linux\";\nx = ( 1 ];\n", 2, "syntax error near \"x = ( 1 ];\"");
    expect_error("backend = \"linux\";\n}\n", 2, "syntax error near \"}\"");
}

/* What libconfig accepts is accepted: terminators may be ';', ',' or
 * nothing, strings concatenate, lists hold anything, arrays scalars, an
 * @include may sit inside a group. */
static void test_everything_libconfig_accepts_is_accepted(void)
{
    util_write(inc, "threads = 3\n");
    snprintf(expected, sizeof expected,
             "/* c */ backend : \"te\" \"st\" , fallback = [ \"linux\" , \"te\"\n\"st\" ] # x\n"
             "t: { a = TRUE; b = false; c = 1.5e3; d = -.5; e = +7; f = 0x1FL; g = ( ); h = [ ];\n"
             "     i = ( 1, \"x\", ( { j = 2 } ), [ 1.0, 2. ] ); k = { } }\n"
             "linux: {\n@include \"%s\"\n};\n", inc);
    util_write(conf, expected);
    struct sched__config *cfg = load_ok(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "test");
    int64_t v = 0;
    CU_ASSERT_EQUAL(sched__config_get(cfg, "linux", "threads", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, 3);
    CU_ASSERT_EQUAL(sched__config_get(cfg, "t", "f", SCHED_CONFIG_INT, &v), 0);
    CU_ASSERT_EQUAL(v, 31);
    sched__config_free(cfg);
}

static void test_include_path_with_a_stray_backslash_is_an_error(void)
{
    /* flex has no rule for it and would echo it to standard output. */
    expect_error("backend = \"linux\";\n@include \"a\\b.conf\"\n", 2,
                 "in an @include path a backslash may only escape '\\' or '\"'");
    expect_error("backend = \"linux\";\n@include \"a.conf\n", 2,
                 "the @include path is never closed (a '\"' is missing)");
}

static void test_include_nesting_is_limited(void)
{
    snprintf(expected, sizeof expected, "@include \"%s\"\n", inc);
    util_write(inc, expected);
    snprintf(expected, sizeof expected, "backend = \"linux\";\n@include \"%s\"\n", inc);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want,
             "%s:1: @include nested more than 10 deep (does a file include itself?) "
             "(in a file @included from %s:2)", inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);
}

/* A file of n bytes: the backend, then padding in a comment. */
static void write_padded(const char *path, size_t n)
{
    const char *head = "backend = \"linux\";\n#";
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(head, f);
    for (size_t i = strlen(head); i + 1 < n; i++)
        fputc('x', f);
    fputc('\n', f);
    fclose(f);
}

static void test_files_over_one_mebibyte_are_refused_before_parsing(void)
{
    write_padded(conf, SCHED__CONFIG_MAX_BYTES);
    sched__config_free(load_ok(conf));
    write_padded(conf, SCHED__CONFIG_MAX_BYTES + 1);
    snprintf(expected, sizeof expected,
             "cannot read config file %s: larger than the limit of 1048576 bytes", conf);
    expect_load_error(conf, SCHED_ECONFIG, expected);

    /* The limit holds for a file and its includes together. */
    write_padded(inc, SCHED__CONFIG_MAX_BYTES / 2 + 1);
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "@include \"%s\"\n@include \"%s\"\n", inc, inc);
    fclose(f);
    snprintf(expected, sizeof expected,
             "%s:2: cannot @include \"%s\": larger than the limit of 1048576 bytes for all the files of a configuration",
             conf, inc);
    expect_load_error(conf, SCHED_ECONFIG, expected);
}

static void test_too_many_settings_are_refused_before_parsing(void)
{
    /* libconfig's check for duplicate names is quadratic: 25000 groups
     * took seconds.  The limit counts settings and list elements. */
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("backend = \"linux\";\n", f);
    for (int i = 1; i < SCHED__CONFIG_MAX_SETTINGS; i++)
        fprintf(f, "g%d: { };\n", i);
    fclose(f);
    sched__config_free(load_ok(conf));
    f = fopen(conf, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("x: { };\n", f);
    fclose(f);
    snprintf(expected, sizeof expected, "%s:%d: more than 4096 settings (the limit of sched.conf(5))",
             conf, SCHED__CONFIG_MAX_SETTINGS + 1);
    expect_load_error(conf, SCHED_ECONFIG, expected);

    f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("backend = \"linux\";\nfallback = [", f);
    for (int i = 0; i < SCHED__CONFIG_MAX_SETTINGS; i++)
        fputs("\"a\",", f);
    fputs("\"a\"];\n", f);
    fclose(f);
    snprintf(expected, sizeof expected, "%s:2: more than 4096 settings (the limit of sched.conf(5))",
             conf);
    expect_load_error(conf, SCHED_ECONFIG, expected);
}

static void test_deep_nesting_is_refused(void)
{
    char text[512] = "backend = \"linux\";\nx = ";
    for (int i = 0; i <= SCHED__CONFIG_MAX_NESTING; i++)
        strcat(text, "(");
    strcat(text, "\n");
    expect_error(text, 2, "groups and lists nested more than 64 deep");
}

static void test_byte_order_mark_at_the_start_is_accepted(void)
{
    util_write(conf, "\xef\xbb\xbf" "backend = \"test\";\n");
    struct sched__config *cfg = load_ok(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "test");
    snprintf(expected, sizeof expected, "%s:1", conf);
    CU_ASSERT_STRING_EQUAL(sched__config_backend_origin(cfg), expected);
    sched__config_free(cfg);

    /* Elsewhere it is not text libconfig can read. */
    expect_error("backend = \"test\";\n\xef\xbb\xbf", 2, "syntax error near \"\xef\xbb\xbf\"");
    util_write(inc, "\xef\xbb\xbf" "test: { };\n");
    snprintf(expected, sizeof expected, "backend = \"test\";\n@include \"%s\"\n", inc);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want,
             "%s:1: starts with a byte-order mark, which is accepted only at the start of the main file "
             "(in a file @included from %s:2)", inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);
}

/* libconfig's comments end at a newline: a last-line comment without one
 * is garbage to it.  The main file gets the newline; an included file,
 * which libconfig reads itself, is refused with the reason. */
static void test_comment_on_a_last_line_without_newline(void)
{
    util_write(conf, "backend = \"test\";\n# no newline");
    sched__config_free(load_ok(conf));
    util_write(inc, "test: { seed = 1; }; # no newline");
    snprintf(expected, sizeof expected, "backend = \"test\";\n@include \"%s\"\n", inc);
    util_write(conf, expected);
    char want[8600];
    snprintf(want, sizeof want,
             "%s:1: the comment on the last line must end with a newline (in a file @included from %s:2)",
             inc, conf);
    expect_load_error(conf, SCHED_ECONFIG, want);
}

static void test_nul_byte_is_an_error_not_the_end_of_the_file(void)
{
    FILE *f = fopen(conf, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite("backend = \"linux\";\n\0linux: { threads = 5000; };\n", 1, 48, f);
    fclose(f);
    snprintf(expected, sizeof expected, "%s:2: a NUL byte: this is not a text file", conf);
    expect_load_error(conf, SCHED_ECONFIG, expected);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("config_hostile", setup, teardown);
    CU_ADD_TEST(s, test_plain_integer_beyond_32_bits_is_a_range_error_not_truncated);
    CU_ADD_TEST(s, test_integers_at_the_limits_are_read_exactly);
    CU_ADD_TEST(s, test_64_bit_and_hex_integers_out_of_range_are_errors);
    CU_ADD_TEST(s, test_unterminated_string_does_not_swallow_the_rest_of_the_file);
    CU_ADD_TEST(s, test_unterminated_comment_does_not_swallow_the_rest_of_the_file);
    CU_ADD_TEST(s, test_include_of_a_directory_is_an_error_not_an_exit);
    CU_ADD_TEST(s, test_include_of_a_fifo_is_refused_without_blocking);
    CU_ADD_TEST(s, test_fifo_as_the_config_is_refused_without_blocking);
    CU_ADD_TEST(s, test_missing_include_names_the_including_line_and_the_reason);
    CU_ADD_TEST(s, test_errors_in_an_included_file_name_it_and_where_it_was_included);
    CU_ADD_TEST(s, test_syntax_errors_quote_the_line);
    CU_ADD_TEST(s, test_everything_libconfig_accepts_is_accepted);
    CU_ADD_TEST(s, test_include_path_with_a_stray_backslash_is_an_error);
    CU_ADD_TEST(s, test_include_nesting_is_limited);
    CU_ADD_TEST(s, test_files_over_one_mebibyte_are_refused_before_parsing);
    CU_ADD_TEST(s, test_too_many_settings_are_refused_before_parsing);
    CU_ADD_TEST(s, test_deep_nesting_is_refused);
    CU_ADD_TEST(s, test_byte_order_mark_at_the_start_is_accepted);
    CU_ADD_TEST(s, test_comment_on_a_last_line_without_newline);
    CU_ADD_TEST(s, test_nul_byte_is_an_error_not_the_end_of_the_file);
    return util_run();
}
