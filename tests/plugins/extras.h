/* SPDX-License-Identifier: MIT */
/*
 * tests/plugins/extras.h - the interface of its own that the "extras"
 * fixture backend (tests/conformance/minimal.c built with EXTRAS_IFACE)
 * offers, as a third party's header would declare it for its clients.
 */
#ifndef SCHED_FIXTURE_EXTRAS_H
#define SCHED_FIXTURE_EXTRAS_H

#include <stdint.h>

#define EXTRAS_IFACE_NAME "acme.stats"

/* "acme.stats" version 1.  Every function takes the backend's self. */
typedef struct acme_stats_iface_v1 {
    uint32_t size;
    /* Background runnables the worker has run so far. */
    unsigned long (*ran)(void *self);
    /* The backend's own name for itself, to prove self is its own. */
    const char *(*whoami)(void *self);
} acme_stats_iface_v1;

#endif
