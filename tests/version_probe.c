/* SPDX-License-Identifier: MIT */
/*
 * tests/version_probe.c - what a client sees of the version, through the
 * installed interface only: <sched/sched.h> and libsched.so.  Prints the
 * header's SCHED_VERSION_STRING and the library's sched_version() on two
 * lines for test_version.sh, and exits 1 when the header's macros
 * disagree with each other or SCHED_CHECK_VERSION is wrong at a boundary.
 */
#include <stdio.h>
#include <string.h>

#include <sched/sched.h>

#if !SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR, SCHED_VERSION_MICRO)
#error "SCHED_CHECK_VERSION rejects the headers' own version"
#endif

static int failures;

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "FAIL: %s is %d, expected %d\n", what, got, want);
        failures++;
    }
}

int main(void)
{
    char split[64];
    snprintf(split, sizeof split, "%d.%d.%d", SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR,
             SCHED_VERSION_MICRO);
    if (strcmp(split, SCHED_VERSION_STRING) != 0) {
        fprintf(stderr, "FAIL: MAJOR.MINOR.MICRO is %s, SCHED_VERSION_STRING %s\n", split,
                SCHED_VERSION_STRING);
        failures++;
    }
    expect(SCHED_CHECK_VERSION(0, 0, 0), 1, "SCHED_CHECK_VERSION(0, 0, 0)");
    expect(SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR, SCHED_VERSION_MICRO + 1),
           0, "SCHED_CHECK_VERSION(this micro + 1)");
    expect(SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR + 1, 0), 0,
           "SCHED_CHECK_VERSION(this minor + 1)");
    expect(SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR + 1, 0, 0), 0,
           "SCHED_CHECK_VERSION(this major + 1)");
    expect(SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR, 0), 1,
           "SCHED_CHECK_VERSION(this major.minor.0)");
    if (SCHED_VERSION_MINOR > 0)
        expect(SCHED_CHECK_VERSION(SCHED_VERSION_MAJOR, SCHED_VERSION_MINOR - 1, 99), 1,
               "SCHED_CHECK_VERSION(an older minor with a larger micro)");
    printf("%s\n%s\n", SCHED_VERSION_STRING, sched_version());
    return failures ? 1 : 0;
}
