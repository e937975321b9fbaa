/* SPDX-License-Identifier: MIT */
/*
 * core/platform_win32.c - the platform layer on Windows (Vista and later).
 *
 * Strings crossing this layer are UTF-8, as everywhere in libsched; they
 * are converted to and from UTF-16 at the Win32 boundary so that paths
 * outside the ANSI code page work.  Locks are slim reader/writer locks,
 * condition variables are CONDITION_VARIABLE, word waits are WaitOnAddress
 * (Windows 8 and later), and the clock is QueryPerformanceCounter.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <io.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <aclapi.h>
#include <sddl.h>

#include "sched/plugin.h"
#include "platform.h"

/* Windows waits take milliseconds: round up, so a wait never ends early,
 * and keep below INFINITE.  *capped is set when ns did not fit. */
static DWORD ns_to_ms(uint64_t ns, int *capped)
{
    uint64_t ms;

    *capped = 0;
    if (ns == SCHED_TIMEOUT_NEVER)
        return INFINITE;
    ms = ns / 1000000u + (ns % 1000000u != 0);
    if (ms >= INFINITE) {
        *capped = 1;
        return INFINITE - 1;
    }
    return (DWORD)ms;
}

/* UTF-8 to a malloc'd UTF-16 string; NULL on bad input or no memory. */
static wchar_t *utf8_to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

/* UTF-16 to a malloc'd UTF-8 string; NULL on no memory. */
static char *wide_to_utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s;

    if (n <= 0)
        return NULL;
    s = malloc((size_t)n);
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        s = NULL;
    }
    return s;
}

/* The system's sentence for a Win32 error code, in UTF-8, into buf:
 * "<text> (error N)".  "%1" placeholders (as in ERROR_BAD_EXE_FORMAT's
 * "%1 is not a valid Win32 application") become "the file". */
static void win32_error_text(DWORD code, char *buf, size_t len)
{
    wchar_t *w = NULL;
    char *text = NULL;
    DWORD n;

    if (len == 0)
        return;
    n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                           FORMAT_MESSAGE_IGNORE_INSERTS,
                       NULL, code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
                       (LPWSTR)&w, 0, NULL);
    if (n > 0) {
        /* Drop the trailing ".\r\n": the caller ends the sentence. */
        while (n > 0 && (w[n - 1] == L'\r' || w[n - 1] == L'\n' || w[n - 1] == L' ' ||
                         w[n - 1] == L'.'))
            w[--n] = 0;
        text = wide_to_utf8(w);
        LocalFree(w);
    }
    if (text) {
        char *p = strstr(text, "%1");
        if (p)
            snprintf(buf, len, "%.*sthe file%s (error %lu)", (int)(p - text), text, p + 2,
                     (unsigned long)code);
        else
            snprintf(buf, len, "%s (error %lu)", text, (unsigned long)code);
        free(text);
    } else {
        snprintf(buf, len, "Windows error %lu", (unsigned long)code);
    }
}

void sched__mutex_init(sched__mutex *m)
{
    InitializeSRWLock(m);
}

/* SRW locks own no resources. */
void sched__mutex_destroy(sched__mutex *m)
{
    (void)m;
}

void sched__mutex_lock(sched__mutex *m)
{
    AcquireSRWLockExclusive(m);
}

void sched__mutex_unlock(sched__mutex *m)
{
    ReleaseSRWLockExclusive(m);
}

void sched__cond_init(sched__cond *c)
{
    InitializeConditionVariable(c);
}

void sched__cond_destroy(sched__cond *c)
{
    (void)c;
}

void sched__cond_wait(sched__cond *c, sched__mutex *m)
{
    BOOL ok = SleepConditionVariableSRW(c, m, INFINITE, 0);

    assert(ok);
    (void)ok;
}

int sched__cond_timedwait(sched__cond *c, sched__mutex *m, uint64_t ns)
{
    int capped;
    DWORD ms = ns_to_ms(ns, &capped);

    if (!SleepConditionVariableSRW(c, m, ms, 0)) {
        assert(GetLastError() == ERROR_TIMEOUT);
        /* A capped wait ends like a spurious wakeup: the caller re-checks. */
        return capped ? 0 : SCHED_ETIMEDOUT;
    }
    return 0;
}

void sched__cond_signal(sched__cond *c)
{
    WakeConditionVariable(c);
}

void sched__cond_broadcast(sched__cond *c)
{
    WakeAllConditionVariable(c);
}

struct thread_start {
    void (*fn)(void *);
    void *arg;
};

/* _beginthreadex rather than CreateThread: the C runtime's per-thread
 * state is set up and torn down with the thread. */
static unsigned __stdcall thread_main(void *p)
{
    struct thread_start s = *(struct thread_start *)p;

    free(p);
    s.fn(s.arg);
    return 0;
}

int sched__thread_start(sched__thread *t, void (*fn)(void *), void *arg)
{
    struct thread_start *s = malloc(sizeof *s);
    uintptr_t h;

    if (!s)
        return SCHED_ENOMEM;
    s->fn = fn;
    s->arg = arg;
    h = _beginthreadex(NULL, 0, thread_main, s, 0, NULL);
    if (h == 0) {
        free(s);
        return SCHED_ENOMEM;
    }
    *t = (HANDLE)h;
    return 0;
}

void sched__thread_join(sched__thread t)
{
    DWORD rc = WaitForSingleObject(t, INFINITE);

    assert(rc == WAIT_OBJECT_0);
    (void)rc;
    CloseHandle(t);
}

sched__thread_id sched__thread_self(void)
{
    return GetCurrentThreadId();
}

int sched__thread_equal(sched__thread_id a, sched__thread_id b)
{
    return a == b;
}

typedef HRESULT(WINAPI *get_thread_description_fn)(HANDLE, PWSTR *);

/* GetThreadDescription exists from Windows 10 1607 on; look it up at run
 * time so the library still loads on older systems. */
static get_thread_description_fn get_thread_description(void)
{
    HMODULE k = GetModuleHandleW(L"kernelbase.dll");
    FARPROC f = k ? GetProcAddress(k, "GetThreadDescription") : NULL;
    get_thread_description_fn fn;

    if (!f)
        return NULL;
    memcpy(&fn, &f, sizeof fn);
    return fn;
}

void sched__thread_describe(sched__thread_id t, char *buf, size_t len)
{
    get_thread_description_fn describe = get_thread_description();
    char *name = NULL;
    HANDLE h;

    if (len == 0)
        return;
    h = describe ? OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, t) : NULL;
    if (h) {
        PWSTR w = NULL;
        if (SUCCEEDED(describe(h, &w)) && w) {
            if (w[0])
                name = wide_to_utf8(w);
            LocalFree(w);
        }
        CloseHandle(h);
    }
    if (name)
        snprintf(buf, len, "thread %lu (%s)", (unsigned long)t, name);
    else
        snprintf(buf, len, "thread %lu", (unsigned long)t);
    free(name);
}

int sched__word_wait(uint32_t *addr, uint32_t expected, uint64_t ns)
{
    int capped;
    DWORD ms = ns_to_ms(ns, &capped);

    if (!WaitOnAddress(addr, &expected, sizeof expected, ms)) {
        assert(GetLastError() == ERROR_TIMEOUT);
        return capped ? 0 : SCHED_ETIMEDOUT;
    }
    return 0;
}

void sched__word_wake_one(uint32_t *addr)
{
    WakeByAddressSingle(addr);
}

void sched__word_wake_all(uint32_t *addr)
{
    WakeByAddressAll(addr);
}

/* The counter's frequency is fixed at boot; read it once. */
static LONGLONG qpc_frequency(void)
{
    static volatile LONGLONG freq;
    LARGE_INTEGER f;

    if (freq == 0) {
        QueryPerformanceFrequency(&f);
        freq = f.QuadPart;
    }
    return freq;
}

uint64_t sched__mono_ns(void)
{
    LONGLONG f = qpc_frequency();
    LARGE_INTEGER c;
    uint64_t q, r;

    QueryPerformanceCounter(&c);
    /* Split to keep counter * 1e9 from overflowing. */
    q = (uint64_t)(c.QuadPart / f);
    r = (uint64_t)(c.QuadPart % f);
    return q * 1000000000u + r * 1000000000u / (uint64_t)f;
}

uint64_t sched__thread_cpu_ns(void)
{
    FILETIME created, exited, kernel, user;
    ULARGE_INTEGER k, u;

    if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user))
        return 0;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    return (k.QuadPart + u.QuadPart) * 100u;   /* 100 ns units */
}

unsigned sched__forks(void)
{
    return 0;
}

unsigned sched__num_cpus(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);

    return n > 0 ? (unsigned)n : 1;
}

void *sched__dl_open(const char *path, char *err, size_t errlen)
{
    wchar_t *w = utf8_to_wide(path);
    DWORD old_mode;
    HMODULE h;

    if (!w) {
        snprintf(err, errlen, "the path is not valid UTF-8");
        return NULL;
    }
    /* LOAD_WITH_ALTERED_SEARCH_PATH wants backslashes. */
    for (wchar_t *c = w; *c; c++)
        if (*c == L'/')
            *c = L'\\';
    /* No "bad image" dialog box: a refusal is an error, not a prompt.
     * LOAD_WITH_ALTERED_SEARCH_PATH finds the plugin's own dependencies
     * next to it. */
    SetThreadErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX, &old_mode);
    h = LoadLibraryExW(w, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!h)
        win32_error_text(GetLastError(), err, errlen);
    SetThreadErrorMode(old_mode, NULL);
    free(w);
    return h;
}

void *sched__dl_sym(void *lib, const char *name)
{
    FARPROC f = GetProcAddress(lib, name);
    void *p;

    /* A function pointer as void *, as dlsym() returns it. */
    memcpy(&p, &f, sizeof p);
    return p;
}

void sched__dl_close(void *lib)
{
    FreeLibrary(lib);
}

FILE *sched__fopen(const char *path, const char *mode)
{
    wchar_t *wpath = utf8_to_wide(path), *wmode = utf8_to_wide(mode);
    FILE *f = NULL;

    if (wpath && wmode)
        f = _wfopen(wpath, wmode);
    else
        errno = EINVAL;
    free(wpath);
    free(wmode);
    return f;
}

FILE *sched__temp_file(const char *stem, char *path, size_t len)
{
    wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1], prefix[4];
    char *u;
    FILE *f;
    int i;

    /* GetTempFileName takes three characters of prefix and creates the
     * file itself, with a name that did not exist. */
    for (i = 0; i < 3; i++)
        prefix[i] = stem[i] ? (wchar_t)(unsigned char)stem[i] : L's';
    prefix[3] = 0;
    if (!GetTempPathW(MAX_PATH + 1, dir) || !GetTempFileNameW(dir, prefix, 0, name)) {
        errno = EACCES;
        return NULL;
    }
    u = wide_to_utf8(name);
    if (!u || strlen(u) >= len) {
        free(u);
        DeleteFileW(name);
        errno = ENAMETOOLONG;
        return NULL;
    }
    strcpy(path, u);
    free(u);
    f = _wfopen(name, L"w");
    if (!f)
        DeleteFileW(name);
    return f;
}

int sched__file_exists(const char *path)
{
    wchar_t *w = utf8_to_wide(path);
    DWORD a;

    if (!w)
        return 0;
    a = GetFileAttributesW(w);
    free(w);
    return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

/* "C:\..." or "C:/...", or a UNC path ("\\server\share", "\\?\...").
 * "\dir" (relative to the current drive) and "C:dir" are not absolute. */
int sched__path_is_absolute(const char *path)
{
    if (!path)
        return 0;
    if (((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
        path[1] == ':' && (path[2] == '\\' || path[2] == '/'))
        return 1;
    return (path[0] == '\\' || path[0] == '/') && (path[1] == '\\' || path[1] == '/');
}

char *sched__absolute_dir(const char *dir)
{
    wchar_t *w = utf8_to_wide(dir), *full;
    char *s = NULL;
    DWORD attr;

    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    full = _wfullpath(NULL, w, 0);
    free(w);
    if (!full)
        return NULL;
    attr = GetFileAttributesW(full);
    if (attr == INVALID_FILE_ATTRIBUTES || !(attr & FILE_ATTRIBUTE_DIRECTORY))
        errno = attr == INVALID_FILE_ATTRIBUTES ? ENOENT : ENOTDIR;
    else if (!(s = wide_to_utf8(full)))
        errno = ENOMEM;
    free(full);
    return s;
}

/* Write access in the sense of sched.conf(5): replacing the code that is
 * loaded, or taking ownership to do so. */
#define WRITE_RIGHTS                                                                  \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE |          \
     GENERIC_WRITE | GENERIC_ALL)

/* The groups that stand for "group or others" on Windows: anyone, any
 * signed-in or network user, the local Users and Guests groups. */
static int sid_is_broad(PSID sid)
{
    static const WELL_KNOWN_SID_TYPE broad[] = {
        WinWorldSid, WinAuthenticatedUserSid, WinBuiltinUsersSid, WinBuiltinGuestsSid,
        WinInteractiveSid, WinNetworkSid, WinAnonymousSid,
    };
    size_t i;

    for (i = 0; i < sizeof broad / sizeof broad[0]; i++)
        if (IsWellKnownSid(sid, broad[i]))
            return 1;
    return 0;
}

/* The Windows form of "writable by group or others": a NULL DACL (anyone
 * may do anything), or an allow entry that applies to the object itself
 * and gives one of the broad groups above a write right. */
static int check_permissions(const char *path, char *err, size_t errlen)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *w = utf8_to_wide(path);
    PACL dacl = NULL;
    DWORD rc;
    int ret = 0;
    WORD i;

    if (!w) {
        snprintf(err, errlen, "the path is not valid UTF-8");
        return SCHED_ELOAD;
    }
    rc = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                               &dacl, NULL, &sd);
    free(w);
    if (rc != ERROR_SUCCESS) {
        char why[256];
        win32_error_text(rc, why, sizeof why);
        snprintf(err, errlen, "its security descriptor cannot be read: %s", why);
        return SCHED_ELOAD;
    }
    if (!dacl) {
        snprintf(err, errlen, "is writable by everyone (it has no access control list)");
        ret = SCHED_ELOAD;
    }
    for (i = 0; dacl && ret == 0 && i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        ACCESS_ALLOWED_ACE *allow;
        if (!GetAce(dacl, i, (void **)&ace) || ace->AceType != ACCESS_ALLOWED_ACE_TYPE ||
            (ace->AceFlags & INHERIT_ONLY_ACE))
            continue;
        allow = (ACCESS_ALLOWED_ACE *)ace;
        if ((allow->Mask & WRITE_RIGHTS) && sid_is_broad(&allow->SidStart)) {
            char *name = NULL;
            LPSTR sidstr = NULL;
            if (ConvertSidToStringSidA(&allow->SidStart, &sidstr))
                name = sidstr;
            snprintf(err, errlen, "is writable by group or others (%s may write to it)",
                     name ? name : "a broad group");
            if (sidstr)
                LocalFree(sidstr);
            ret = SCHED_ELOAD;
        }
    }
    LocalFree(sd);
    return ret;
}

/* The Windows form of the ownership rule: the file and its directory may
 * not be writable by a broad group (owners are not compared: an
 * installation belongs to an administrator, not to one uid). */
int sched__trusted_path(const char *path, char **real, char *err, size_t errlen)
{
    char perm[512];
    char *dir, *sep;

    *real = NULL;
    dir = strdup(path);
    if (!dir)
        return SCHED_ENOMEM;
    sep = strrchr(dir, '\\');
    if (!sep || (strrchr(dir, '/') && strrchr(dir, '/') > sep))
        sep = strrchr(dir, '/');
    if (sep)
        *sep = '\0';
    if (sep && check_permissions(dir, perm, sizeof perm) != 0) {
        snprintf(err, errlen, "its directory %s %s", dir, perm);
        free(dir);
        return SCHED_ELOAD;
    }
    free(dir);
    if (check_permissions(path, perm, sizeof perm) != 0) {
        snprintf(err, errlen, "the file %s", perm);
        return SCHED_ELOAD;
    }
    *real = strdup(path);
    return *real ? 0 : SCHED_ENOMEM;
}

int sched__dir_list(const char *dir, void (*fn)(const char *name, void *arg), void *arg)
{
    size_t n = strlen(dir);
    char *pattern = malloc(n + 3);
    wchar_t *w;
    WIN32_FIND_DATAW fd;
    HANDLE h;

    if (!pattern)
        return SCHED_ENOMEM;
    memcpy(pattern, dir, n);
    strcpy(pattern + n, n && (dir[n - 1] == '\\' || dir[n - 1] == '/') ? "*" : "\\*");
    w = utf8_to_wide(pattern);
    free(pattern);
    if (!w)
        return SCHED_ENOENT;
    h = FindFirstFileW(w, &fd);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return SCHED_ENOENT;
    do {
        char *name;
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
            continue;
        name = wide_to_utf8(fd.cFileName);
        if (name)
            fn(name, arg);
        free(name);
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return 0;
}

/* A variable's value in UTF-8, kept for the life of the process: callers
 * hold the pointer as they would getenv()'s.  A new entry only when the
 * value changed, so the list stays as small as the set of values seen. */
struct env_value {
    struct env_value *next;
    char *name;
    char *value;
};

static SRWLOCK env_lock = SRWLOCK_INIT;
static struct env_value *env_values;

/* Windows has no set-uid programs: the environment is the user's own.  It
 * is read as UTF-16 (getenv would give the ANSI code page) and handed out
 * in UTF-8, like every other string of the library. */
/* Windows has no set-uid programs. */
int sched__privileged(void)
{
    return 0;
}

int sched__caller_can_read(const char *path)
{
    (void)path;
    return 1;
}

const char *sched__secure_getenv(const char *name)
{
    wchar_t *wname = utf8_to_wide(name);
    const wchar_t *wvalue = wname ? _wgetenv(wname) : NULL;
    char *value = wvalue ? wide_to_utf8(wvalue) : NULL;
    struct env_value *e;
    const char *ret = NULL;

    free(wname);
    if (!value)
        return NULL;
    AcquireSRWLockExclusive(&env_lock);
    for (e = env_values; e; e = e->next)
        if (!strcmp(e->name, name) && !strcmp(e->value, value))
            break;
    if (!e && (e = calloc(1, sizeof *e)) && (e->name = strdup(name))) {
        e->value = value;
        value = NULL;
        e->next = env_values;
        env_values = e;
    } else if (e && !e->name) {
        free(e);
        e = NULL;
    }
    ret = e ? e->value : NULL;
    ReleaseSRWLockExclusive(&env_lock);
    free(value);
    return ret;
}

/* "%VAR%\sched\sched.conf" in UTF-8, or NULL when VAR is unset or empty. */
static char *config_under(const wchar_t *var)
{
    static const wchar_t tail[] = L"\\sched\\sched.conf";
    const wchar_t *base = _wgetenv(var);
    wchar_t *w;
    char *s;
    size_t n;

    if (!base || !base[0])
        return NULL;
    n = wcslen(base);
    w = malloc((n + sizeof tail / sizeof tail[0]) * sizeof *w);
    if (!w)
        return NULL;
    wmemcpy(w, base, n);
    wmemcpy(w + n, tail, sizeof tail / sizeof tail[0]);
    s = wide_to_utf8(w);
    free(w);
    return s;
}

char *sched__user_config_path(void)
{
    return config_under(L"APPDATA");
}

char *sched__system_config_path(void)
{
    return config_under(L"PROGRAMDATA");
}

static char builtin_plugin_dir[4 * MAX_PATH];

/* Resolve <this module's directory>\..\lib\<SCHED_PLUGIN_DIRNAME> once. */
static BOOL CALLBACK find_builtin_plugin_dir(PINIT_ONCE once, void *param, void **ctx)
{
    wchar_t self[MAX_PATH], joined[MAX_PATH + 16], full[MAX_PATH];
    HMODULE m = NULL;
    wchar_t *slash;
    char *s;
    DWORD n;

    (void)once;
    (void)param;
    (void)ctx;
    snprintf(builtin_plugin_dir, sizeof builtin_plugin_dir, "%s", SCHED_PLUGINDIR);
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(void *)&sched__builtin_plugin_dir, &m))
        return TRUE;
    n = GetModuleFileNameW(m, self, MAX_PATH);
    if (n == 0 || n >= MAX_PATH || !(slash = wcsrchr(self, L'\\')))
        return TRUE;
    *slash = 0;
    _snwprintf(joined, sizeof joined / sizeof joined[0], L"%ls\\..\\lib\\%hs", self, SCHED_PLUGIN_DIRNAME);
    joined[sizeof joined / sizeof joined[0] - 1] = 0;
    n = GetFullPathNameW(joined, MAX_PATH, full, NULL);
    if (n == 0 || n >= MAX_PATH)
        return TRUE;
    s = wide_to_utf8(full);
    if (s && strlen(s) < sizeof builtin_plugin_dir)
        strcpy(builtin_plugin_dir, s);
    free(s);
    return TRUE;
}

/* An install prefix on Windows is wherever the user unpacked it: the
 * plugins are found relative to libsched's own DLL (bin\..\lib\sched),
 * not at the configure-time path, which is not a Windows path at all. */
const char *sched__builtin_plugin_dir(void)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;

    InitOnceExecuteOnce(&once, find_builtin_plugin_dir, NULL, NULL);
    return builtin_plugin_dir;
}

/* Open, then decide from the handle: only a disk file is read (CON, NUL,
 * a named pipe or a directory is refused). */
int sched__read_file(const char *path, size_t max, char **text, size_t *len)
{
    wchar_t *w = utf8_to_wide(path);
    if (!w)
        return ENOMEM;
    DWORD attrs = GetFileAttributesW(w);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        free(w);
        return SCHED__ENOTREG;
    }
    FILE *f = _wfopen(w, L"rb");
    free(w);
    if (!f)
        return errno;
    if (GetFileType((HANDLE)_get_osfhandle(_fileno(f))) != FILE_TYPE_DISK) {
        fclose(f);
        return SCHED__ENOTREG;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return ENOMEM;
    }
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > max) {
            free(buf);
            fclose(f);
            return SCHED__EFBIG;
        }
        if (r == 0 || n < cap) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                free(buf);
                fclose(f);
                return e;
            }
            if (feof(f))
                break;
            continue;
        }
        size_t ncap = cap * 2 < max + 1 ? cap * 2 : max + 1;
        char *nb = realloc(buf, ncap + 1);
        if (!nb) {
            free(buf);
            fclose(f);
            return ENOMEM;
        }
        buf = nb;
        cap = ncap;
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
