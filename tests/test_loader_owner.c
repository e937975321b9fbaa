/* SPDX-License-Identifier: MIT */
/*
 * tests/test_loader_owner.c - the owner half of the plugin path rule.
 *
 * A plugin file, its directory, a directory above it or a symlink's
 * target owned by a user other than root or the effective user is
 * refused, whatever its mode: that user could replace it.  Giving a file
 * to another uid takes chown, so this program needs root; it skips
 * (exit 77) otherwise.
 */
#include "config.h"

#include "foundation_util.h"
#include "internal.h"

/* An unused uid: nobody on the machine need own it. */
#define OTHER_UID 54321

static const sched_host_services quiet_svc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
};

static char expected[16384];

static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, 0700) != 0 || chmod(path, mode) != 0)
        util_die(path);
}

static void give_away(const char *path)
{
    if (lchown(path, OTHER_UID, (gid_t)-1) != 0)
        util_die(path);
}

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

/* A tree dir/lib/sched/valid.so, modes 0755 and 0644: safe as made. */
struct tree {
    char *dir;
    char lib[4200], plugins[4300], path[4400];
};

static void make_tree(struct tree *t)
{
    t->dir = util_tempdir();
    snprintf(t->lib, sizeof t->lib, "%s/lib", t->dir);
    snprintf(t->plugins, sizeof t->plugins, "%s/sched", t->lib);
    snprintf(t->path, sizeof t->path, "%s/valid.so", t->plugins);
    make_dir(t->lib, 0755);
    make_dir(t->plugins, 0755);
    util_copy(util_fixture("valid"), t->path);
    if (chmod(t->path, 0755) != 0)
        util_die(t->path);
    struct sched__plugin p;
    CU_ASSERT_EQUAL_FATAL(sched__plugin_open(t->path, &quiet_svc, &p, NULL), 0);
    sched__plugin_close(&p);
}

static void test_refuses_plugin_file_owned_by_another_user(void)
{
    struct tree t;
    make_tree(&t);
    give_away(t.path);
    expect_path_refused(t.path, "the file is owned by uid 54321, not by root or the effective uid 0");
    util_rmdir(t.dir);
}

static void test_refuses_plugin_directory_owned_by_another_user(void)
{
    struct tree t;
    make_tree(&t);
    give_away(t.plugins);
    char why[4600];
    snprintf(why, sizeof why, "its directory %s is owned by uid 54321, not by root or the effective uid 0",
             t.plugins);
    expect_path_refused(t.path, why);
    util_rmdir(t.dir);
}

static void test_refuses_any_parent_owned_by_another_user(void)
{
    struct tree t;
    make_tree(&t);
    give_away(t.lib);
    char why[4600];
    snprintf(why, sizeof why,
             "the directory %s above it is owned by uid 54321, not by root or the effective uid 0", t.lib);
    expect_path_refused(t.path, why);
    util_rmdir(t.dir);
}

/* The sticky exception needs a trusted owner too: the owner of a sticky
 * directory may still rename anything in it. */
static void test_refuses_sticky_ancestor_owned_by_another_user(void)
{
    struct tree t;
    make_tree(&t);
    if (chmod(t.lib, 01777) != 0)
        util_die(t.lib);
    struct sched__plugin p;
    CU_ASSERT_EQUAL(sched__plugin_open(t.path, &quiet_svc, &p, NULL), 0);
    sched__plugin_close(&p);
    give_away(t.lib);
    char why[4600];
    snprintf(why, sizeof why,
             "the directory %s above it is owned by uid 54321, not by root or the effective uid 0", t.lib);
    expect_path_refused(t.path, why);
    util_rmdir(t.dir);
}

/* A root-owned directory holding a root-owned symlink to another user's
 * file: the target decides. */
static void test_refuses_symlink_to_a_file_owned_by_another_user(void)
{
    struct tree t;
    make_tree(&t);
    char target[4400], link[4600], why[9000];
    snprintf(target, sizeof target, "%s/theirs.so", t.lib);
    snprintf(link, sizeof link, "%s/linked.so", t.plugins);
    util_copy(util_fixture("valid"), target);
    if (chmod(target, 0755) != 0 || symlink(target, link) != 0)
        util_die(target);
    give_away(target);
    snprintf(why, sizeof why,
             "it resolves to %s, and the file is owned by uid 54321, not by root or the effective uid 0",
             target);
    expect_path_refused(link, why);

    /* A symlink owned by another user to a trusted file is fine: in a
     * safe directory its owner cannot change where it points. */
    char alt[4400];
    snprintf(alt, sizeof alt, "%s/alt", t.lib);
    snprintf(link, sizeof link, "%s/valid.so", alt);
    make_dir(alt, 0755);
    if (symlink(t.path, link) != 0)
        util_die(link);
    give_away(link);
    struct sched__plugin p;
    CU_ASSERT_EQUAL(sched__plugin_open(link, &quiet_svc, &p, NULL), 0);
    sched__plugin_close(&p);
    util_rmdir(t.dir);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skipped: giving files to another uid needs root (chown)\n");
        return 77;
    }
    setenv("SCHED_NOSYSTEM", "1", 1);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite("loader-owner", NULL, NULL);
    CU_ADD_TEST(s, test_refuses_plugin_file_owned_by_another_user);
    CU_ADD_TEST(s, test_refuses_plugin_directory_owned_by_another_user);
    CU_ADD_TEST(s, test_refuses_any_parent_owned_by_another_user);
    CU_ADD_TEST(s, test_refuses_sticky_ancestor_owned_by_another_user);
    CU_ADD_TEST(s, test_refuses_symlink_to_a_file_owned_by_another_user);
    return util_run();
}
