/*
 * sched/session.h - execution contexts and per-request sessions (issue 6).
 */
#ifndef SCHED_SESSION_H
#define SCHED_SESSION_H

#include <sched/sched.h>

#endif
