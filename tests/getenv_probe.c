/* SPDX-License-Identifier: MIT */
/*
 * tests/getenv_probe.c - prints what the host makes of the environment,
 * for test_secure_getenv.sh to run with and without set-group-id.
 */
#include "config.h"

#include <stdio.h>
#include <sys/auxv.h>

#include "internal.h"

/* LeakSanitizer cannot work in a set-group-id process (it is not
 * dumpable), and such a process cannot read ASAN_OPTIONS from its
 * environment either; in sanitizer builds the probe turns leak checking
 * off itself.  Elsewhere this function is never called. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

int main(void)
{
    /* AT_SECURE tells the script whether the kernel really treated the
     * run as privileged, so it can tell an unusable sandbox (skip) from a
     * library that reads the environment when it must not (fail). */
    printf("secure=%lu\n", getauxval(AT_SECURE));
    const char *seed = sched__services.getenv("SCHED_SEED");
    printf("seed=%s\n", seed != NULL ? seed : "(unset)");
    struct sched__config *cfg;
    sched_error *err = NULL;
    if (sched__config_load(NULL, &cfg, &err) != 0) {
        printf("error=%s\n", sched_error_message(err));
        sched_error_free(err);
        return 1;
    }
    const char *const *dirs;
    size_t n = sched__config_plugin_dirs(cfg, &dirs);
    printf("backend=%s\nbackend_origin=%s\nconfig=%s\nplugin_dirs=%zu\n", sched__config_backend(cfg),
           sched__config_backend_origin(cfg), sched__config_file(cfg), n);
    sched__config_free(cfg);
    return 0;
}
