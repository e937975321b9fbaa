# SPDX-License-Identifier: MIT
# tests/fuzz.m4: --enable-libfuzzer builds tests/fuzz_schedule_libfuzzer,
# the schedule fuzz target linked with clang's libFuzzer (CC=clang).
AC_ARG_ENABLE([libfuzzer],
  [AS_HELP_STRING([--enable-libfuzzer],
    [also build the schedule fuzz target with libFuzzer (needs CC=clang)])],
  [], [enable_libfuzzer=no])
AS_IF([test "x$enable_libfuzzer" = xyes], [
  sched_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -fsanitize=fuzzer"
  AC_MSG_CHECKING([whether $CC links with -fsanitize=fuzzer])
  AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([--enable-libfuzzer needs a compiler that ships libFuzzer, such as CC=clang])])
  CFLAGS=$sched_save_CFLAGS
])
AM_CONDITIONAL([SCHED_LIBFUZZER], [test "x$enable_libfuzzer" = xyes])
