/* SPDX-License-Identifier: MIT */
/*
 * core/abi/plugin_abi.c - the plugin ABI as a shared object, so that
 * abidw can record it (core/abi/plugin.abi) and abidiff can compare it.
 *
 * Plugins do not link libsched: their ABI is the layout of the tables in
 * <sched/plugin.h> and <sched/test.h>, which no function of libsched.so
 * exposes as a whole.  Each function here takes one table, so every
 * field of every table (and the types they reach) is part of this
 * object's ABI.  Never installed, never loaded.
 */
#include <sched/plugin.h>
#include <sched/test.h>

#define TABLE(name, type) \
    __attribute__((visibility("default"))) size_t name(const type *t); \
    size_t name(const type *t) { return t != NULL ? sizeof *t : 0; }

TABLE(sched_abi_plugin_descriptor, sched_plugin_descriptor)
TABLE(sched_abi_backend_ops, sched_backend_ops)
TABLE(sched_abi_host_services, sched_host_services)
TABLE(sched_abi_backend_env, sched_backend_env)
TABLE(sched_abi_runnable_info, sched_runnable_info)
TABLE(sched_abi_config_key, sched_config_key)
TABLE(sched_abi_pollable_iface_v1, sched_pollable_iface_v1)
TABLE(sched_abi_session_policy_iface_v1, sched_session_policy_iface_v1)
TABLE(sched_abi_test_iface_v1, sched_test_iface_v1)

__attribute__((visibility("default"))) sched_plugin_entry_fn sched_abi_entry(sched_plugin_entry_fn f);
sched_plugin_entry_fn sched_abi_entry(sched_plugin_entry_fn f)
{
    return f;
}
