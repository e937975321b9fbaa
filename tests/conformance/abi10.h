/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/abi10.h - the plugin descriptor exactly as ABI 1.0
 * laid it out, frozen: a plugin built before cancel_after was appended
 * (ABI 1.1) exports this.  minimal.c built with ABI_1_0 uses it, as the
 * backend "abi10", to prove a 1.0 plugin still loads and conforms.
 * Never edit these structs: they are what old plugins were compiled with.
 */
#ifndef SCHED_ABI10_H
#define SCHED_ABI10_H

#include <sched/plugin.h>

typedef struct sched_backend_ops_v1_0 {
    int (*create)(const sched_backend_env *env, void **self, char *err, size_t errlen);
    void (*destroy)(void *self);
    int (*schedule)(void *self, sched_runnable *r);
    int (*schedule_labeled)(void *self, sched_runnable *r, const char *label,
                            sched_priority prio);
    int (*schedule_main)(void *self, sched_runnable *r);
    int (*schedule_after)(void *self, sched_runnable *r, uint64_t delay_ns, int main);
    uint64_t (*now)(void *self);
    int (*is_main_thread)(void *self);
    int (*park)(void *self, sched_parker *p, uint64_t timeout_ns);
    void (*unpark)(void *self, sched_parker *p);
    unsigned (*num_cpus)(void *self);
    int (*run)(void *self);
    void (*stop)(void *self);
    const void *(*query)(void *self, const char *iface, uint32_t version);
} sched_backend_ops_v1_0;

typedef struct sched_plugin_descriptor_v1_0 {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size;
    uint32_t reserved;
    const char *name;
    const char *description;
    const char *version;
    const sched_config_key *config_keys;
    sched_backend_ops_v1_0 ops;
} sched_plugin_descriptor_v1_0;

/* The host's idea of the 1.0 size must be this layout's. */
_Static_assert(sizeof(sched_plugin_descriptor_v1_0) == SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE,
               "SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE is not the size of an ABI 1.0 descriptor");

#endif
