/* SPDX-License-Identifier: MIT */
/*
 * tests/test_windows_host.c - the host's Windows platform layer and the
 * loader's refusals, with real DLLs.
 *
 * The fixture plugins of tests/plugins/ are built as DLLs on a Windows
 * host; each refusal is asserted with the sentence a user sees, naming the
 * file (a Windows path) and the reason.  Permission refusals are made the
 * Windows way, by granting Everyone write access in the file's or the
 * directory's DACL.  Also: UTF-8 paths outside the ANSI code page, the
 * ';'-separated SCHED_PLUGIN_PATH, %APPDATA% / %PROGRAMDATA% config
 * paths, and the thread, wait and clock primitives.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <aclapi.h>

#include <CUnit/Basic.h>

#include "internal.h"

static const sched_host_services quiet_svc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_host_services),
};

static char fixture_dir[1024];
static char expected[8192];

/* Fixture DLL path: SCHED_TOP_BUILDDIR\tests\plugins\.libs\NAME.dll. */
static const char *fixture(const char *name)
{
    static char path[1200];

    snprintf(path, sizeof path, "%s\\%s.dll", fixture_dir, name);
    return path;
}

/* A fresh directory under the build tree (Wine's and Windows' %TEMP%
 * differ; the build tree is known to both). */
static void make_tempdir(char *out, size_t len, const char *leaf)
{
    wchar_t w[1024];

    snprintf(out, len, "%s\\tests\\win-tmp-%lu-%s", getenv("SCHED_TOP_BUILDDIR"),
             (unsigned long)GetCurrentProcessId(), leaf);
    MultiByteToWideChar(CP_UTF8, 0, out, -1, w, 1024);
    CreateDirectoryW(w, NULL);
}

static int copy_file(const char *from, const char *to)
{
    return CopyFileA(from, to, FALSE) ? 0 : -1;
}

static void expect_refusal(const char *path, const char *why)
{
    struct sched__plugin p;
    sched_error *err = NULL;

    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    CU_ASSERT_PTR_NULL(p.lib);
    snprintf(expected, sizeof expected, "plugin %s refused: %s", path, why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (strcmp(sched_error_message(err), expected) != 0)
        fprintf(stderr, "\n  expected: %s\n  got:      %s\n", expected, sched_error_message(err));
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), expected);
    sched_error_free(err);
}

/* Give (or take back) Everyone write access to path, through its DACL. */
static int set_everyone_write(const char *path, int grant)
{
    SID_IDENTIFIER_AUTHORITY world_auth = {SECURITY_WORLD_SID_AUTHORITY};
    PSECURITY_DESCRIPTOR sd = NULL;
    PACL old = NULL, acl = NULL;
    EXPLICIT_ACCESSA ea;
    PSID world = NULL;
    DWORD rc;

    if (!AllocateAndInitializeSid(&world_auth, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0,
                                  &world))
        return -1;
    rc = GetNamedSecurityInfoA(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                               &old, NULL, &sd);
    if (rc == ERROR_SUCCESS) {
        memset(&ea, 0, sizeof ea);
        ea.grfAccessPermissions = grant ? GENERIC_ALL : GENERIC_READ | GENERIC_EXECUTE;
        ea.grfAccessMode = SET_ACCESS;
        ea.grfInheritance = NO_INHERITANCE;
        ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
        ea.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
        ea.Trustee.ptstrName = (LPSTR)world;
        rc = SetEntriesInAclA(1, &ea, old, &acl);
    }
    if (rc == ERROR_SUCCESS)
        rc = SetNamedSecurityInfoA((LPSTR)path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL,
                                   NULL, acl, NULL);
    LocalFree(acl);
    LocalFree(sd);
    FreeSid(world);
    return rc == ERROR_SUCCESS ? 0 : -1;
}

/* ---- the loader, with DLLs --------------------------------------------- */

static void test_valid_dll_opens_with_its_descriptor(void)
{
    struct sched__plugin p;
    sched_error *err = NULL;

    CU_ASSERT_EQUAL_FATAL(sched__plugin_open(fixture("valid"), &quiet_svc, &p, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_STRING_EQUAL(p.desc->name, "valid");
    CU_ASSERT_STRING_EQUAL(p.path, fixture("valid"));
    sched__plugin_close(&p);
    CU_ASSERT_PTR_NULL(p.lib);
}

static void test_refuses_each_defective_dll_with_its_reason(void)
{
    char why[256];

    expect_refusal(fixture("noentry"), "it does not export sched_plugin_entry_v1");
    expect_refusal(fixture("abi2"),
                   "it was built for plugin ABI 2.0, and this host implements ABI 1.1");
    snprintf(why, sizeof why, "its descriptor is %zu bytes, smaller than the %zu bytes of ABI 1.0",
             offsetof(sched_plugin_descriptor, ops) + sizeof(void *),
             (size_t)SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    expect_refusal(fixture("small"), why);
    expect_refusal(fixture("noschedule"), "its required op \"schedule\" is NULL");
    expect_refusal(fixture("halfpark"), "it sets only one of the ops \"park\" and \"unpark\"");
    expect_refusal(fixture("misnamed"), "its descriptor names the backend \"valid\", not "
                                        "\"misnamed\" as its file name does");
}

/* The reason carries the system's own sentence for ERROR_BAD_EXE_FORMAT. */
static void test_refuses_a_file_that_is_not_a_dll_with_the_system_reason(void)
{
    char dir[1024], path[1100];
    struct sched__plugin p;
    sched_error *err = NULL;
    FILE *f;

    make_tempdir(dir, sizeof dir, "notdll");
    snprintf(path, sizeof path, "%s\\notdll.dll", dir);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("this is a text file, not a PE image\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), SCHED_ELOAD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    snprintf(expected, sizeof expected, "plugin %s refused: it is not a loadable shared object (",
             path);
    CU_ASSERT_EQUAL(strncmp(sched_error_message(err), expected, strlen(expected)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "(error 193))"));
    CU_ASSERT_PTR_NULL(strstr(sched_error_message(err), "%1"));
    sched_error_free(err);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
}

static void test_refuses_a_dll_everyone_may_write_and_accepts_it_once_private(void)
{
    char dir[1024], path[1100];
    struct sched__plugin p;

    make_tempdir(dir, sizeof dir, "wfile");
    snprintf(path, sizeof path, "%s\\valid.dll", dir);
    CU_ASSERT_EQUAL_FATAL(copy_file(fixture("valid"), path), 0);
    CU_ASSERT_EQUAL_FATAL(set_everyone_write(path, 1), 0);
    expect_refusal(path, "the file is writable by group or others (S-1-1-0 may write to it)");
    CU_ASSERT_EQUAL_FATAL(set_everyone_write(path, 0), 0);
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, NULL), 0);
    sched__plugin_close(&p);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
}

static void test_refuses_a_dll_in_a_directory_everyone_may_write(void)
{
    char dir[1024], path[1100], why[1400];

    make_tempdir(dir, sizeof dir, "wdir");
    snprintf(path, sizeof path, "%s\\valid.dll", dir);
    CU_ASSERT_EQUAL_FATAL(copy_file(fixture("valid"), path), 0);
    CU_ASSERT_EQUAL_FATAL(set_everyone_write(dir, 1), 0);
    snprintf(why, sizeof why,
             "its directory %s is writable by group or others (S-1-1-0 may write to it)", dir);
    expect_refusal(path, why);
    CU_ASSERT_EQUAL(set_everyone_write(dir, 0), 0);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
}

static void test_loads_a_dll_whose_path_is_outside_the_ansi_code_page(void)
{
    /* "Zoë-日本" in UTF-8 */
    char dir[1024], path[1100];
    wchar_t wdir[1024], wpath[1100];
    struct sched__plugin p;
    sched_error *err = NULL;

    make_tempdir(dir, sizeof dir, "Zo\xc3\xab-\xe6\x97\xa5\xe6\x9c\xac");
    snprintf(path, sizeof path, "%s\\valid.dll", dir);
    MultiByteToWideChar(CP_UTF8, 0, dir, -1, wdir, 1024);
    MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1100);
    CU_ASSERT_FATAL(CopyFileA(fixture("valid"), "tmp-valid.dll", FALSE));
    CU_ASSERT_FATAL(MoveFileExW(L"tmp-valid.dll", wpath, MOVEFILE_REPLACE_EXISTING));
    CU_ASSERT_TRUE(sched__file_exists(path));
    CU_ASSERT_EQUAL(sched__plugin_open(path, &quiet_svc, &p, &err), 0);
    if (err)
        fprintf(stderr, "\n  %s\n", sched_error_message(err));
    sched_error_free(err);
    if (p.lib)
        sched__plugin_close(&p);
    DeleteFileW(wpath);
    RemoveDirectoryW(wdir);
}

static void test_only_drive_and_unc_paths_are_absolute(void)
{
    CU_ASSERT_TRUE(sched__path_is_absolute("C:\\Program Files\\sched"));
    CU_ASSERT_TRUE(sched__path_is_absolute("c:/sched"));
    CU_ASSERT_TRUE(sched__path_is_absolute("\\\\server\\share\\sched"));
    CU_ASSERT_FALSE(sched__path_is_absolute("C:sched"));
    CU_ASSERT_FALSE(sched__path_is_absolute("\\sched"));
    CU_ASSERT_FALSE(sched__path_is_absolute("plugins\\sched"));
    CU_ASSERT_FALSE(sched__path_is_absolute(""));
    expect_refusal("plugins\\valid.dll", "its path is not absolute");
}

static void test_not_found_names_the_dlls_searched_and_those_available(void)
{
    const char *dirs[] = {"C:\\nonexistent\\sched", fixture_dir};
    char *path = (char *)"unchanged";
    sched_error *err = NULL;

    CU_ASSERT_EQUAL(sched__plugin_find("nosuch", dirs, 2, &path, &err), SCHED_ENOENT);
    CU_ASSERT_PTR_NULL(path);
    snprintf(expected, sizeof expected,
             "backend \"nosuch\" not found: searched C:\\nonexistent\\sched\\nosuch.dll, "
             "%s\\nosuch.dll; available backends: abi2, crashcreate, crashentry, createfail, "
             "createpos, halfpark, keydup, keyname, keyrange, keytype, longmsg, misnamed, noentry, "
             "noname, noschedule, reserved, small, valid",
             fixture_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), expected);
    sched_error_free(err);
}

/* Installed as bin\libsched-0.dll (or bin\prog.exe) beside lib\sched. */
static void test_builtin_plugin_dir_is_lib_sched_beside_the_program(void)
{
    wchar_t self[MAX_PATH], *slash;
    char want[4 * MAX_PATH];
    const char *dir = sched__builtin_plugin_dir();

    CU_ASSERT_TRUE(sched__path_is_absolute(dir));
    CU_ASSERT_FATAL(GetModuleFileNameW(NULL, self, MAX_PATH) > 0);
    slash = wcsrchr(self, L'\\');
    CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
    *slash = 0;
    slash = wcsrchr(self, L'\\');
    CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
    *slash = 0;
    WideCharToMultiByte(CP_UTF8, 0, self, -1, want, sizeof want, NULL, NULL);
    strcat(want, "\\lib\\" SCHED_PLUGIN_DIRNAME);   /* sched-<ABI major> */
    CU_ASSERT_STRING_EQUAL(dir, want);
}

/* ---- config: plugin path and file locations ----------------------------- */

static void test_plugin_path_is_semicolon_separated_drive_paths(void)
{
    struct sched__config *cfg = NULL;
    const char *const *dirs;
    sched_error *err = NULL;

    _putenv("SCHED_PLUGIN_PATH=C:\\a;;D:\\b\\c;");
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sched__config_plugin_dirs(cfg, &dirs), 2);
    CU_ASSERT_STRING_EQUAL(dirs[0], "C:\\a");
    CU_ASSERT_STRING_EQUAL(dirs[1], "D:\\b\\c");
    sched__config_free(cfg);

    _putenv("SCHED_PLUGIN_PATH=C:\\a;rel\\dir");
    cfg = NULL;
    CU_ASSERT_EQUAL(sched__config_load(NULL, &cfg, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err),
                           "SCHED_PLUGIN_PATH holds \"rel\\dir\", which is not an absolute directory");
    sched_error_free(err);
    _putenv("SCHED_PLUGIN_PATH=");
}

static void test_config_files_live_under_appdata_and_programdata(void)
{
    char *user, *sys;

    CU_ASSERT_EQUAL_FATAL(_wputenv(L"APPDATA=C:\\Users\\Zo\u00eb\\AppData\\Roaming"), 0);
    CU_ASSERT_EQUAL_FATAL(_putenv("PROGRAMDATA=C:\\ProgramData"), 0);
    user = sched__user_config_path();
    sys = sched__system_config_path();
    CU_ASSERT_PTR_NOT_NULL_FATAL(user);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sys);
    CU_ASSERT_STRING_EQUAL(user, "C:\\Users\\Zo\xc3\xab\\AppData\\Roaming\\sched\\sched.conf");
    CU_ASSERT_STRING_EQUAL(sys, "C:\\ProgramData\\sched\\sched.conf");
    free(user);
    free(sys);
    _putenv("APPDATA=");
    CU_ASSERT_PTR_NULL(sched__user_config_path());
}

/* Under a profile directory outside the ANSI code page ("Zoë"), as the
 * per-user file and through SCHED_CONFIG alike. */
static void test_config_in_appdata_is_found_and_named_by_its_origin(void)
{
    char dir[1024], sub[1100], file[1200];
    wchar_t wdir[1024], wsub[1100], wfile[1200], wenv[1300];
    struct sched__config *cfg = NULL;
    FILE *f;

    make_tempdir(dir, sizeof dir, "appdata-Zo\xc3\xab");
    snprintf(sub, sizeof sub, "%s\\sched", dir);
    snprintf(file, sizeof file, "%s\\sched.conf", sub);
    MultiByteToWideChar(CP_UTF8, 0, dir, -1, wdir, 1024);
    MultiByteToWideChar(CP_UTF8, 0, sub, -1, wsub, 1100);
    MultiByteToWideChar(CP_UTF8, 0, file, -1, wfile, 1200);
    CreateDirectoryW(wsub, NULL);
    f = sched__fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("backend = \"valid\";\n", f);
    fclose(f);
    _snwprintf(wenv, 1300, L"APPDATA=%ls", wdir);
    wenv[1299] = 0;
    _wputenv(wenv);
    _putenv("SCHED_CONFIG=");
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), file);
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "%APPDATA%");
    CU_ASSERT_STRING_EQUAL(sched__config_backend(cfg), "valid");
    sched__config_free(cfg);
    _putenv("APPDATA=");

    _snwprintf(wenv, 1300, L"SCHED_CONFIG=%ls", wfile);
    wenv[1299] = 0;
    _wputenv(wenv);
    cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(sched__config_load(NULL, &cfg, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sched__config_file(cfg), file);
    CU_ASSERT_STRING_EQUAL(sched__config_source(cfg), "$SCHED_CONFIG");
    sched__config_free(cfg);
    _putenv("SCHED_CONFIG=");
    DeleteFileW(wfile);
    RemoveDirectoryW(wsub);
    RemoveDirectoryW(wdir);
}

/* ---- threads, waits, clock ---------------------------------------------- */

static void test_thread_description_names_the_thread(void)
{
    typedef HRESULT(WINAPI * set_fn)(HANDLE, PCWSTR);
    FARPROC f = GetProcAddress(GetModuleHandleW(L"kernelbase.dll"), "SetThreadDescription");
    char buf[128], want[128];
    set_fn set;

    snprintf(want, sizeof want, "thread %lu", (unsigned long)GetCurrentThreadId());
    sched__thread_describe(sched__thread_self(), buf, sizeof buf);
    CU_ASSERT_EQUAL(strncmp(buf, want, strlen(want)), 0);
    if (!f)
        return; /* Before Windows 10 1607 threads have only numbers. */
    memcpy(&set, &f, sizeof set);
    CU_ASSERT_FATAL(SUCCEEDED(set(GetCurrentThread(), L"ma\u00efn")));
    sched__thread_describe(sched__thread_self(), buf, sizeof buf);
    snprintf(want, sizeof want, "thread %lu (ma\xc3\xafn)", (unsigned long)GetCurrentThreadId());
    CU_ASSERT_STRING_EQUAL(buf, want);
    set(GetCurrentThread(), L"");
}

static uint32_t word;
static sched__thread_id seen_id;
static void wake_word(void *arg)
{
    (void)arg;
    seen_id = sched__thread_self();
    __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
    sched__word_wake_all(&word);
}

static void test_word_wait_wakes_on_change_and_times_out_without(void)
{
    uint64_t t0 = sched__mono_ns();
    sched__thread t;

    word = 0;
    CU_ASSERT_EQUAL(sched__word_wait(&word, 0, 2000000u), SCHED_ETIMEDOUT);
    CU_ASSERT(sched__mono_ns() >= t0 + 2000000u);
    CU_ASSERT_EQUAL(sched__word_wait(&word, 5, SCHED_TIMEOUT_NEVER), 0); /* differs: at once */
    CU_ASSERT_EQUAL_FATAL(sched__thread_start(&t, wake_word, NULL), 0);
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
        CU_ASSERT_EQUAL(sched__word_wait(&word, 0, SCHED_TIMEOUT_NEVER), 0);
    sched__thread_join(t);
    CU_ASSERT_FALSE(sched__thread_equal(seen_id, sched__thread_self()));
}

static void test_cond_timedwait_times_out_and_clock_is_monotonic(void)
{
    sched__mutex m;
    sched__cond c;
    uint64_t a, b;

    sched__mutex_init(&m);
    sched__cond_init(&c);
    sched__mutex_lock(&m);
    a = sched__mono_ns();
    CU_ASSERT_EQUAL(sched__cond_timedwait(&c, &m, 3000000u), SCHED_ETIMEDOUT);
    b = sched__mono_ns();
    sched__mutex_unlock(&m);
    CU_ASSERT(b >= a + 3000000u);
    CU_ASSERT(sched__num_cpus() >= 1);
    sched__cond_destroy(&c);
    sched__mutex_destroy(&m);
}

int main(void)
{
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    CU_pSuite s;
    unsigned failed;

    if (!top) {
        fprintf(stderr, "test_windows_host: SCHED_TOP_BUILDDIR is not set\n");
        return 99;
    }
    snprintf(fixture_dir, sizeof fixture_dir, "%s\\tests\\plugins\\.libs", top);
    _putenv("SCHED_PLUGIN_PATH=");
    _putenv("SCHED_BACKEND=");
    _putenv("SCHED_CONFIG=");
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    s = CU_add_suite("windows host", NULL, NULL);
    CU_add_test(s, "valid DLL opens with its descriptor", test_valid_dll_opens_with_its_descriptor);
    CU_add_test(s, "refuses each defective DLL with its reason",
                test_refuses_each_defective_dll_with_its_reason);
    CU_add_test(s, "refuses a file that is not a DLL with the system's reason",
                test_refuses_a_file_that_is_not_a_dll_with_the_system_reason);
    CU_add_test(s, "refuses a DLL Everyone may write, accepts it once private",
                test_refuses_a_dll_everyone_may_write_and_accepts_it_once_private);
    CU_add_test(s, "refuses a DLL in a directory Everyone may write",
                test_refuses_a_dll_in_a_directory_everyone_may_write);
    CU_add_test(s, "loads a DLL whose path is outside the ANSI code page",
                test_loads_a_dll_whose_path_is_outside_the_ansi_code_page);
    CU_add_test(s, "only drive and UNC paths are absolute",
                test_only_drive_and_unc_paths_are_absolute);
    CU_add_test(s, "not found names the DLLs searched and those available",
                test_not_found_names_the_dlls_searched_and_those_available);
    CU_add_test(s, "the built-in plugin directory is lib\\sched-N beside the program",
                test_builtin_plugin_dir_is_lib_sched_beside_the_program);
    CU_add_test(s, "SCHED_PLUGIN_PATH is ';'-separated drive paths",
                test_plugin_path_is_semicolon_separated_drive_paths);
    CU_add_test(s, "config files live under %APPDATA% and %PROGRAMDATA%",
                test_config_files_live_under_appdata_and_programdata);
    CU_add_test(s, "a config in %APPDATA% is found and named by its origin",
                test_config_in_appdata_is_found_and_named_by_its_origin);
    CU_add_test(s, "thread description names the thread", test_thread_description_names_the_thread);
    CU_add_test(s, "word wait wakes on change and times out without",
                test_word_wait_wakes_on_change_and_times_out_without);
    CU_add_test(s, "cond timedwait times out; the clock is monotonic",
                test_cond_timedwait_times_out_and_clock_is_monotonic);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
