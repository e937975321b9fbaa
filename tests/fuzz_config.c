/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz_config.c - a fuzz target for the config reader: the input is
 * a sched.conf, opened through sched_host_open() as an application would.
 * An input holding a line "%%" is two files: what follows it is inc.conf,
 * next to sched.conf, so that @include "inc.conf" reaches fuzzed text too.
 *
 * What must hold, whatever the bytes:
 *  - sched_host_open returns 0 or a SCHED_E* code, and an error names the
 *    file it is about (it never prints, exits, hangs or crashes);
 *  - the scan libsched makes before libconfig parses (core/config_scan.c)
 *    agrees with libconfig: a file the scan passes is never a syntax
 *    error to libconfig (whose syntax errors leak), and a syntax error the
 *    scan reports is one libconfig reports too.
 * A violation aborts, which is how a fuzzer learns of it; AddressSanitizer
 * and LeakSanitizer report the rest.
 *
 * Built two ways, like fuzz_schedule.c:
 *   - as an ordinary program (make check): it replays each file named on
 *     its command line, or else tests/fuzz-config-corpus/;
 *   - with -DSCHED_LIBFUZZER and -fsanitize=fuzzer (configure
 *     --enable-libfuzzer), where libFuzzer supplies main().  See
 *     tests/fuzz_config_libfuzzer.sh.
 * The backend is the test backend (SCHED_BACKEND=test) unless the
 * environment says otherwise, so that each run is cheap.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "internal.h"

static char workdir[4096], conf[4200], inc[4200];

static void die(const char *what)
{
    perror(what);
    abort();
}

#ifdef SCHED_LIBFUZZER
/* libFuzzer keeps the coverage counters of every instrumented module it
 * has seen and clears them before each run: a plugin unloaded by
 * sched_host_close would leave them pointing at unmapped memory.  Load
 * each plugin once more, never to be unloaded. */
static void pin_plugins(void)
{
    static const char *const names[] = { "test", "linux", "cloudflare-sim", "mac" };
    const char *path = getenv("SCHED_PLUGIN_PATH");
    char *copy = strdup(path != NULL ? path : "");
    for (char *dir = strtok(copy, ":"); dir != NULL; dir = strtok(NULL, ":")) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char so[4200];
            snprintf(so, sizeof so, "%s/%s.so", dir, names[i]);
            if (access(so, R_OK) == 0)
                (void)dlopen(so, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        }
    }
    free(copy);
}
#endif

/* Once: a private directory to write the files in, made the current one
 * so that a relative @include finds inc.conf however it is resolved. */
static void setup(void)
{
    if (workdir[0] != '\0')
        return;
    const char *t = getenv("TMPDIR");
    snprintf(workdir, sizeof workdir, "%s/sched-fuzz-config-XXXXXX", t != NULL && t[0] == '/' ? t : "/tmp");
    if (mkdtemp(workdir) == NULL)
        die("mkdtemp");
    snprintf(conf, sizeof conf, "%s/sched.conf", workdir);
    snprintf(inc, sizeof inc, "%s/inc.conf", workdir);
    if (chdir(workdir) != 0)
        die(workdir);
    setenv("SCHED_BACKEND", "test", 0);
#ifdef SCHED_LIBFUZZER
    pin_plugins();
#endif
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        die(path);
}

/* Split the input at its first "\n%%\n" into sched.conf and inc.conf. */
static void write_input(const uint8_t *data, size_t size)
{
    size_t split = size, rest = size;
    for (size_t i = 0; i + 4 <= size; i++) {
        if (memcmp(data + i, "\n%%\n", 4) == 0) {
            split = i + 1;
            rest = i + 4;
            break;
        }
    }
    write_file(conf, data, split);
    write_file(inc, data + rest, size - rest);
}

static int is_syntax_error(const char *msg)
{
    return msg != NULL && strstr(msg, ": syntax error") != NULL;
}

static char *include_as_written(void *arg, const char *including, const char *path, char *why,
                                size_t len)
{
    (void)arg;
    (void)including;
    (void)why;
    (void)len;
    return strdup(path);
}

/* libconfig leaks at a syntax error; when one is expected, that is
 * libconfig's leak, not a finding (weak: only under LeakSanitizer). */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

/* The scan and libconfig must agree on what is a syntax error.  libconfig
 * reads the main file's text as the scan does (without a byte-order mark)
 * and resolves @include against the current directory, as the scan is
 * told to here.  (A syntax error the scan finds in an included file is
 * compared too: libconfig reads that file itself.) */
static void check_scan_agrees_with_libconfig(void)
{
    struct sched__config_scan sc;
    sched__config_scan_init(&sc, include_as_written, NULL);
    const char *text = NULL;
    sched_error *err = NULL;
    int rc = sched__config_scan(&sc, conf, &text, &err);
    int scan_syntax = rc != 0 && is_syntax_error(sched_error_message(err));
    sched_error_free(err);
    /* Without LeakSanitizer to tell (valgrind, a plain build), libconfig's
     * leak at a syntax error would be reported: compare passes only. */
    if ((rc != 0 && !scan_syntax) || text == NULL || (scan_syntax && __lsan_disable == NULL)) {
        sched__config_scan_free(&sc);
        return;
    }
    config_t lc;
    config_init(&lc);
    if (scan_syntax && __lsan_disable)
        __lsan_disable();
    int ok = config_read_string(&lc, text) == CONFIG_TRUE;
    if (scan_syntax && __lsan_enable)
        __lsan_enable();
    int lc_syntax = !ok && config_error_text(&lc) != NULL &&
                    strcmp(config_error_text(&lc), "syntax error") == 0;
    config_destroy(&lc);
    sched__config_scan_free(&sc);
    if (rc == 0 && lc_syntax) {
        fprintf(stderr, "fuzz_config: the scan passed what libconfig calls a syntax error\n");
        abort();
    }
    if (scan_syntax && ok) {
        fprintf(stderr, "fuzz_config: the scan called a syntax error what libconfig accepts\n");
        abort();
    }
}

static void run_one(const uint8_t *data, size_t size)
{
    setup();
    write_input(data, size);
    sched_host *host = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&host, conf, &err);
    if (rc == 0) {
        if (host == NULL || err != NULL)
            abort();
        sched_host_close(host);
    } else {
        const char *msg = sched_error_message(err);
        if (rc >= 0 || host != NULL || msg == NULL || msg[0] == '\0')
            abort();
        /* A config error names the file it is about (an included one as
         * the @include wrote it). */
        if (rc == SCHED_ECONFIG && strstr(msg, ".conf") == NULL && strstr(msg, "SCHED_") == NULL) {
            fprintf(stderr, "fuzz_config: an error that names no file: %s\n", msg);
            abort();
        }
        sched_error_free(err);
    }
    /* libconfig reads a C string: past a NUL byte (which the scan refuses)
     * it sees a shorter file, so the two cannot be compared. */
    if (memchr(data, '\0', size) == NULL)
        check_scan_agrees_with_libconfig();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one(data, size);
    return 0;
}

#ifndef SCHED_LIBFUZZER
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    static uint8_t buf[SCHED__CONFIG_MAX_BYTES + 2];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run_one(buf, n);
    return 0;
}

static void cleanup(void)
{
    if (workdir[0] == '\0')
        return;
    unlink(conf);
    unlink(inc);
    if (chdir("/") != 0 || rmdir(workdir) != 0)
        perror(workdir);
}

int main(int argc, char **argv)
{
    int rc = 0, files = 0;
    if (argc > 1) {
        /* Absolute first: the runs change the current directory. */
        for (int i = 1; i < argc; i++) {
            if ((argv[i] = realpath(argv[i], NULL)) == NULL)
                die("realpath");
        }
        for (int i = 1; i < argc && rc == 0; i++, files++) {
            rc = replay_file(argv[i]);
            free(argv[i]);
        }
    } else {
        const char *top = getenv("SCHED_TOP_SRCDIR");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/fuzz-config-corpus", top ? top : ".");
        DIR *d = opendir(dir);
        if (d == NULL) {
            perror(dir);
            return 1;
        }
        for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.')
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            rc = replay_file(path);
            files++;
        }
        closedir(d);
    }
    cleanup();
    if (rc == 0)
        printf("fuzz_config: %d inputs replayed\n", files);
    return rc || files == 0;
}
#endif
