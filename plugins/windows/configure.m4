# SPDX-License-Identifier: MIT
# plugins/windows/configure.m4 - the windows backend and the Win32 host.
#
# Built only for Windows hosts (mingw-w64 cross or native).  Elsewhere the
# reason it was skipped is recorded for the configure summary and for
# "schedctl list" (SCHED_WINDOWS_STATUS).
#
# The Win32 platform layer and the plugin use WaitOnAddress, so the floor
# is Windows 8 (_WIN32_WINNT 0x0602); it lives in libsynchronization.
AS_IF([test "x$sched_windows" = xyes], [
  sched_windows_status=yes
  # On the command line rather than in config.h: every file sees the same
  # value whether or not it includes config.h before <windows.h>.
  # mingw-w64's own C99 printf family: msvcrt's lacks %zu, %llu, %jd.
  CPPFLAGS="$CPPFLAGS -D_WIN32_WINNT=0x0602 -D__USE_MINGW_ANSI_STDIO=1"
  SCHED_WIN32_LIBS=-lsynchronization
  # Backends written against POSIX threads (test, cloudflare-sim) build
  # with mingw-w64's winpthreads.
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  # Where the DLLs the test programs need live, for wine's PATH
  # (tests/ci/wine-run.sh): the cross-built libconfig and CUnit, and the
  # compiler's runtime (winpthreads, libgcc).
  sched_wine_dllpath=
  for sched_pkg in libconfig cunit; do
    sched_dir=`$PKG_CONFIG --variable=prefix $sched_pkg 2>/dev/null`
    case ":$sched_wine_dllpath:" in
      *":$sched_dir/bin:"*) ;;
      *) AS_IF([test -n "$sched_dir"],
           [sched_wine_dllpath="$sched_wine_dllpath${sched_wine_dllpath:+:}$sched_dir/bin"]) ;;
    esac
  done
  for sched_dll in libwinpthread-1.dll libgcc_s_seh-1.dll; do
    sched_dir=`$CC -print-file-name=$sched_dll`
    AS_IF([test "x$sched_dir" != "x$sched_dll"],
      [sched_wine_dllpath="$sched_wine_dllpath:`AS_DIRNAME([$sched_dir])`"])
  done
  SCHED_WINE_DLLPATH=$sched_wine_dllpath
  # What runs a test program: Wine, through the runner.
  SCHED_TEST_RUNNER='$(SHELL) $(top_srcdir)/tests/ci/wine-run.sh'
  AC_CHECK_PROGS([WINE], [wine wine64], [no])
], [
  sched_windows_status="skipped (not a Windows host)"
  SCHED_WIN32_LIBS=
  SCHED_WINE_DLLPATH=
  SCHED_TEST_RUNNER=
])
AC_SUBST([SCHED_WIN32_LIBS])
AC_SUBST([SCHED_WINE_DLLPATH])
AC_SUBST([SCHED_TEST_RUNNER])
AC_DEFINE_UNQUOTED([SCHED_WINDOWS_STATUS], ["$sched_windows_status"],
  [Whether the windows backend is built, or why not.])
