/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_platform.h - the little the conformance
 * suite and the benchmarks need from the operating system beyond the
 * public API: threads of their own (to wake from, and to misuse a
 * foreground executor from), a private temporary file for the config they
 * write, and a sleep.  Their own, so that schedctl-suite, which runs
 * them, needs nothing of libsched but its public functions.
 */
#ifndef SCHED_CONFORMANCE_PLATFORM_H
#define SCHED_CONFORMANCE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(_WIN32)
#include <windows.h>
typedef HANDLE conf_thread;
#else
#include <pthread.h>
typedef pthread_t conf_thread;
#endif

/* Start fn(arg) on a new thread.  0, or -1 when none can be started. */
int conf_thread_start(conf_thread *t, void (*fn)(void *), void *arg);
void conf_thread_join(conf_thread t);

/* Create and open, for writing, a new file only this user may read, in
 * $TMPDIR (else /tmp; the user's temporary directory on Windows), named
 * after stem; its path (UTF-8) in path.  NULL with errno on failure. */
FILE *conf_temp_file(const char *stem, char *path, size_t len);

/* Sleep for at least ns nanoseconds. */
void conf_sleep_ns(uint64_t ns);

#endif
