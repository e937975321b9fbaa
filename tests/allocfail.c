/* SPDX-License-Identifier: MIT */
/*
 * tests/allocfail.c - allocation-failure injection, loaded with LD_PRELOAD
 * into tests/allocfail_workload (tests/test_allocfail.sh drives it).
 *
 * It replaces malloc, calloc and realloc for the whole process (strdup
 * and the rest of the C library allocate through them, and so do the
 * plugins, which call malloc directly).  Once armed with
 * allocfail_arm(n, persistent), the n-th allocation fails with ENOMEM,
 * and with persistent every one after it too, counted across all
 * threads.  Every block allocated while armed is remembered until freed,
 * so that allocfail_outstanding() can tell what the workload leaked.
 *
 * libconfig 1.5 checks none of its own allocations (a failure inside its
 * parser is a NULL dereference there, which no caller can prevent), so
 * allocations made inside config_init and config_read* are neither
 * counted nor failed; everything around them is.  Blocks the dynamic
 * loader allocates for its own bookkeeping are not counted as leaks (a
 * dlopen that failed half-way leaves some in glibc 2.36), nor is the
 * message dlerror() keeps until it is next called.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void allocfail_arm(long n, int persistent);
void allocfail_report(FILE *f);
void allocfail_disarm(void);
int allocfail_reached(void);
long allocfail_count(void);
size_t allocfail_outstanding(void);

static atomic_int armed;
static atomic_int reached;
static atomic_long count;
static long fail_at;
static int fail_persistent;
static _Thread_local int in_libconfig;

/* The blocks allocated while armed: an open-addressing set of addresses
 * in memory of its own (not malloc's), under a spin lock. */
#define SLOTS (1u << 20)
#define TOMB ((uintptr_t)1)
static uintptr_t *slots;
static void **callers;      /* who allocated each, for the report */
static atomic_flag lock = ATOMIC_FLAG_INIT;
static size_t live;
static uintptr_t ldso_start, ldso_end;  /* the dynamic loader's code */

static void set_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
}

static void set_unlock(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

static size_t slot_of(uintptr_t p)
{
    return (size_t)((p >> 4) * 0x9e3779b97f4a7c15u) & (SLOTS - 1);
}

static void remember(void *p, void *caller)
{
    if (p == NULL || slots == NULL)
        return;
    set_lock();
    for (size_t i = slot_of((uintptr_t)p), k = 0; k < SLOTS; i = (i + 1) & (SLOTS - 1), k++) {
        if (slots[i] == 0 || slots[i] == TOMB) {
            slots[i] = (uintptr_t)p;
            callers[i] = caller;
            live++;
            break;
        }
    }
    set_unlock();
}

static void forget(void *p)
{
    if (p == NULL || slots == NULL)
        return;
    set_lock();
    for (size_t i = slot_of((uintptr_t)p), k = 0; k < SLOTS && slots[i] != 0;
         i = (i + 1) & (SLOTS - 1), k++) {
        if (slots[i] == (uintptr_t)p) {
            slots[i] = TOMB;
            live--;
            break;
        }
    }
    set_unlock();
}

/* Count this allocation; should it fail? */
static int fail_now(void)
{
    if (!atomic_load(&armed) || in_libconfig)
        return 0;
    long c = atomic_fetch_add(&count, 1) + 1;
    if (c == fail_at || (fail_persistent && c > fail_at)) {
        atomic_store(&reached, 1);
        return 1;
    }
    return 0;
}

static int tracking(void *caller)
{
    uintptr_t c = (uintptr_t)caller;
    return atomic_load(&armed) && !in_libconfig && !(c >= ldso_start && c < ldso_end);
}

void *malloc(size_t n)
{
    if (fail_now()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_malloc(n);
    if (tracking(__builtin_return_address(0)))
        remember(p, __builtin_return_address(0));
    return p;
}

void *calloc(size_t n, size_t size)
{
    if (fail_now()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_calloc(n, size);
    if (tracking(__builtin_return_address(0)))
        remember(p, __builtin_return_address(0));
    return p;
}

void *realloc(void *old, size_t n)
{
    if (fail_now()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_realloc(old, n);
    if (p != NULL || n == 0)
        forget(old);
    if (tracking(__builtin_return_address(0)))
        remember(p, __builtin_return_address(0));
    return p;
}

void free(void *p)
{
    forget(p);
    __libc_free(p);
}

/* libconfig's own entry points: its allocations are left alone. */
#define LIBCONFIG_CALL(ret, name, params, args)                   \
    ret name params                                               \
    {                                                             \
        static ret(*real) params;                                 \
        if (real == NULL)                                         \
            *(void **)&real = dlsym(RTLD_NEXT, #name);            \
        in_libconfig++;                                           \
        ret r = real args;                                        \
        in_libconfig--;                                           \
        return r;                                                 \
    }

struct config_t;
LIBCONFIG_CALL(int, config_read_string, (struct config_t *c, const char *s), (c, s))
LIBCONFIG_CALL(int, config_read, (struct config_t *c, FILE *f), (c, f))
LIBCONFIG_CALL(int, config_read_file, (struct config_t *c, const char *f), (c, f))

void config_init(struct config_t *c)
{
    static void (*real)(struct config_t *);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "config_init");
    in_libconfig++;
    real(c);
    in_libconfig--;
}

static int find_ldso(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/ld-linux") == NULL)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            ldso_start = info->dlpi_addr + ph->p_vaddr;
            ldso_end = ldso_start + ph->p_memsz;
        }
    }
    return 1;
}

void allocfail_arm(long n, int persistent)
{
    if (ldso_end == 0)
        dl_iterate_phdr(find_ldso, NULL);
    if (slots == NULL) {
        void *m = mmap(NULL, SLOTS * (sizeof *slots + sizeof *callers), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        slots = m == MAP_FAILED ? NULL : m;
        callers = m == MAP_FAILED ? NULL : (void **)(slots + SLOTS);
    }
    fail_at = n;
    fail_persistent = persistent;
    atomic_store(&count, 0);
    atomic_store(&reached, 0);
    atomic_store(&armed, 1);
}

void allocfail_disarm(void)
{
    atomic_store(&armed, 0);
}

int allocfail_reached(void)
{
    return atomic_load(&reached);
}

long allocfail_count(void)
{
    return atomic_load(&count);
}

size_t allocfail_outstanding(void)
{
    set_lock();
    size_t n = live;
    set_unlock();
    return n;
}

/* Name the function that allocated each block still outstanding. */
void allocfail_report(FILE *f)
{
    set_lock();
    for (size_t i = 0; slots != NULL && i < SLOTS; i++) {
        if (slots[i] == 0 || slots[i] == TOMB)
            continue;
        Dl_info info;
        if (dladdr(callers[i], &info) != 0 && info.dli_sname != NULL)
            fprintf(f, "  not freed: %p, allocated in %s+%#lx (%s)\n", (void *)slots[i], info.dli_sname,
                    (unsigned long)((char *)callers[i] - (char *)info.dli_saddr), info.dli_fname);
        else
            fprintf(f, "  not freed: %p, allocated at %s+%#lx\n", (void *)slots[i],
                    dladdr(callers[i], &info) != 0 ? info.dli_fname : "?",
                    (unsigned long)((char *)callers[i] - (char *)info.dli_fbase));
    }
    set_unlock();
}
