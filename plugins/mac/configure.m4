# SPDX-License-Identifier: MIT
# mac backend: Grand Central Dispatch through libdispatch.
#
# Nothing is probed behind the builder's back.  The backend is built when
# libdispatch is found by pkg-config (libdispatch.pc; the system on
# Darwin), or when --with-dispatch=PREFIX names where it is (PREFIX/include
# and PREFIX/lib, or a Swift toolchain root such as /opt/swift, whose
# headers are in usr/lib/swift/dispatch and library in usr/lib/swift/linux).
# The plugin gets an rpath to that directory only with
# --enable-dispatch-rpath; otherwise the library must be where the dynamic
# linker looks (make check sets LD_LIBRARY_PATH itself).  Where libdispatch
# is absent the backend is skipped and SCHED_MAC_STATUS (config.h) says
# why, for "schedctl list".
AC_ARG_WITH([dispatch],
  [AS_HELP_STRING([--with-dispatch@<:@=PREFIX@:>@],
    [build the mac backend against libdispatch: from pkg-config (yes), or
     under PREFIX (a prefix or a Swift toolchain root such as /opt/swift)
     @<:@default=check pkg-config@:>@])],
  [], [with_dispatch=check])
AC_ARG_ENABLE([dispatch-rpath],
  [AS_HELP_STRING([--enable-dispatch-rpath],
    [give the mac plugin an rpath to libdispatch's directory (for a
     libdispatch outside the dynamic linker's paths) @<:@default=no@:>@])],
  [], [enable_dispatch_rpath=no])

# SCHED_DISPATCH_TRY(CFLAGS, LIBS): does a program using the _f API compile
# and link with these flags?  Sets sched_dispatch_ok.  gcc before 14 lacks
# __has_feature, which libdispatch's headers use; mac.c defines it the same
# way.
AC_DEFUN([SCHED_DISPATCH_TRY], [
  sched_save_CPPFLAGS=$CPPFLAGS
  sched_save_LIBS=$LIBS
  CPPFLAGS="$CPPFLAGS $1"
  LIBS="$2 $LIBS"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef __has_extension
#define __has_extension(x) 0
#endif
#include <dispatch/dispatch.h>
static void sched_fn(void *ctx) { (void)ctx; }
]], [[
dispatch_async_f(dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0), 0, sched_fn);
dispatch_after_f(dispatch_time(DISPATCH_TIME_NOW, 1), dispatch_get_main_queue(), 0, sched_fn);
]])], [sched_dispatch_ok=yes], [sched_dispatch_ok=no])
  CPPFLAGS=$sched_save_CPPFLAGS
  LIBS=$sched_save_LIBS
])

# SCHED_DISPATCH_TRY_ROOT(ROOT): headers under ROOT/include or a Swift
# toolchain's ROOT/usr/lib/swift (or ROOT/lib/swift), library beside them.
AC_DEFUN([SCHED_DISPATCH_TRY_ROOT], [
  sched_dispatch_ok=no
  for sched_d in "$1/include:$1/lib" "$1/include:$1/lib64" \
                 "$1/usr/lib/swift:$1/usr/lib/swift/linux" \
                 "$1/lib/swift:$1/lib/swift/linux"; do
    sched_inc=${sched_d%%:*}
    sched_lib=${sched_d#*:}
    AS_IF([test -f "$sched_inc/dispatch/dispatch.h"], [
      SCHED_DISPATCH_TRY([-I$sched_inc], [-L$sched_lib -ldispatch])
      AS_IF([test "x$sched_dispatch_ok" = xyes], [
        DISPATCH_CFLAGS="-I$sched_inc"
        DISPATCH_LIBS="-L$sched_lib -ldispatch"
        DISPATCH_LIBDIR=$sched_lib
        sched_dispatch_where=$sched_lib
        break])])
  done
])

sched_mac=no
sched_dispatch_ok=no
sched_dispatch_where=
DISPATCH_LIBDIR=
AS_CASE(["$with_dispatch"],
  [no], [sched_mac_status="skipped (configured --without-dispatch)"],
  [yes|check], [
    AS_IF([test -n "$PKG_CONFIG" && $PKG_CONFIG --exists libdispatch], [
      DISPATCH_CFLAGS=`$PKG_CONFIG --cflags libdispatch`
      DISPATCH_LIBS=`$PKG_CONFIG --libs libdispatch`
      DISPATCH_LIBDIR=`$PKG_CONFIG --variable=libdir libdispatch`
      SCHED_DISPATCH_TRY([$DISPATCH_CFLAGS], [$DISPATCH_LIBS])
      sched_dispatch_where="pkg-config libdispatch"])
    AS_IF([test "x$sched_dispatch_ok" != xyes], [
      AS_CASE(["$host_os"],
        [darwin*], [
          DISPATCH_CFLAGS=
          DISPATCH_LIBS=
          DISPATCH_LIBDIR=
          SCHED_DISPATCH_TRY([], [])
          sched_dispatch_where="the system"])])
    AS_IF([test "x$sched_dispatch_ok" = xyes],
      [sched_mac=yes],
      [AS_IF([test "x$with_dispatch" = xyes],
         [AC_MSG_ERROR([--with-dispatch: pkg-config finds no usable libdispatch; name it with --with-dispatch=PREFIX])])
       sched_mac_status="skipped (libdispatch not found; see --with-dispatch)"])],
  [
    SCHED_DISPATCH_TRY_ROOT([$with_dispatch])
    AS_IF([test "x$sched_dispatch_ok" = xyes],
      [sched_mac=yes],
      [AC_MSG_ERROR([--with-dispatch=$with_dispatch: no usable <dispatch/dispatch.h> and libdispatch under it])])])

# The rpath, only on request, and only to a directory that was found.
AS_IF([test "x$sched_mac" = xyes && test "x$enable_dispatch_rpath" = xyes], [
  AS_IF([test -z "$DISPATCH_LIBDIR"],
    [AC_MSG_ERROR([--enable-dispatch-rpath: libdispatch's directory is unknown (from $sched_dispatch_where)])])
  DISPATCH_LIBS="-Wl,-rpath,$DISPATCH_LIBDIR $DISPATCH_LIBS"])
AS_IF([test "x$enable_dispatch_rpath" = xyes], [sched_dispatch_rpath=$DISPATCH_LIBDIR], [sched_dispatch_rpath=])
AC_SUBST([SCHED_DISPATCH_RPATH], [$sched_dispatch_rpath])

AC_MSG_CHECKING([for libdispatch (mac backend)])
AS_IF([test "x$sched_mac" = xyes],
  [sched_mac_status="yes (libdispatch from $sched_dispatch_where)"
   AC_DEFINE([SCHED_HAVE_MAC], [1], [Define to 1 when the mac backend is built.])])
AC_MSG_RESULT([$sched_mac_status])
AC_DEFINE_UNQUOTED([SCHED_MAC_STATUS], ["$sched_mac_status"],
  [Whether the mac backend is built, and why not when it is skipped.])
AC_SUBST([DISPATCH_CFLAGS])
AC_SUBST([DISPATCH_LIBS])
AC_SUBST([DISPATCH_LIBDIR])
AM_CONDITIONAL([SCHED_MAC], [test "x$sched_mac" = xyes])
AM_CONDITIONAL([SCHED_DISPATCH_LIBDIR], [test -n "$DISPATCH_LIBDIR"])
