/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/run_conformance.c - `make check` runs the conformance
 * suite once per backend as conformance/NAME.conform: the backend is the
 * file's base name, and the suite selects it through the config it writes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conformance.h"

int main(int argc, char **argv)
{
    char name[256];
    const char *base, *dot;
    size_t len;

    if (argc != 2) {
        fprintf(stderr, "usage: %s BACKEND | DIR/BACKEND.conform\n", argv[0]);
        return 2;
    }
    base = strrchr(argv[1], '/');
    base = base ? base + 1 : argv[1];
    dot = strstr(base, ".conform");
    len = dot ? (size_t)(dot - base) : strlen(base);
    if (len == 0 || len >= sizeof name) {
        fprintf(stderr, "%s: bad backend name %s\n", argv[0], argv[1]);
        return 2;
    }
    memcpy(name, base, len);
    name[len] = '\0';
    return sched_conformance_run(name, NULL, stdout) == 0 ? 0 : 1;
}
