/* SPDX-License-Identifier: MIT */
/*
 * tests/session_fixtures.h - what test_session's files share: the host
 * and session context each test opens on a config of its own, the log
 * captured from the library, and small futures and waits.
 */
#ifndef SCHED_SESSION_FIXTURES_H
#define SCHED_SESSION_FIXTURES_H

#include <stdint.h>

#include <CUnit/CUnit.h>

#include <sched/sched.h>
#include <sched/session.h>

#define MS 1000000LL
#define SEC 1000000000LL

/* The host and context under test, opened and closed by each test. */
extern sched_host *sess_host;
extern sched_session_ctx *sess_ctx;

/* Open a host on a config written from text, and a context on it. */
void sess_open_with(const char *text);

/* The same on cloudflare-sim with this seed (and extra settings), or on
 * the native backend. */
void sess_open_cf(int seed, const char *extra);
void sess_open_linux(void);

void sess_close_all(void);

/* The last message logged through sess_capture_log, a log handler. */
extern char sess_logged[4096];
void sess_capture_log(int level, const char *msg, void *ud);

/* A new session in sess_ctx; its id. */
uint64_t sess_new_session(void);

/* Block on fut with the context's sessions running; its status. */
int sess_block(sched_future *fut, sched_error **err);

/* Block on a session delay of ns. */
int sess_block_for(int64_t ns);

/* *f, leaving NULL in its place. */
sched_future *sess_take(sched_future **f);

/* A future that waits ns on a timer, then increments *done. */
sched_future *sess_sleeper(int64_t ns, int *done);

/* Register the rules' tests (test_session_rules.c) on s, in order. */
void sess_add_rules_tests(CU_pSuite s);

#endif
