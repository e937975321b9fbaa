/* SPDX-License-Identifier: MIT */
/*
 * tests/setuid/client.c - a set-uid-root program, as an application
 * would write one: it opens a host on the root-owned config it was built
 * for (SCHED_CLIENT_CONFIG) and prints what happened.  Built and made
 * set-uid by test_setuid.sh, against the libsched under test.
 */
#include <stdio.h>
#include <sys/auxv.h>

#include <sched/sched.h>

#ifndef SCHED_CLIENT_CONFIG
#error "build with -DSCHED_CLIENT_CONFIG='\"/path/to/sched.conf\"'"
#endif

/* LeakSanitizer cannot work in a set-uid process (it is not dumpable),
 * which cannot read ASAN_OPTIONS either; sanitizer builds switch it off
 * here.  Elsewhere this function is never called. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

int main(void)
{
    sched_host *host;
    sched_error *err = NULL;
    /* Whether the kernel really ran this as privileged. */
    printf("secure=%lu\n", getauxval(AT_SECURE));
    if (sched_host_open(&host, SCHED_CLIENT_CONFIG, &err) != 0) {
        printf("error: %s\n", sched_error_message(err));
        sched_error_free(err);
        return 1;
    }
    printf("opened: %s %s\n", sched_host_backend_name(host), sched_host_plugin_path(host));
    sched_host_close(host);
    return 0;
}
