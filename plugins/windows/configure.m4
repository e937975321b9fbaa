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
  CPPFLAGS="$CPPFLAGS -D_WIN32_WINNT=0x0602"
  SCHED_WIN32_LIBS=-lsynchronization
], [
  sched_windows_status="skipped (not a Windows host)"
  SCHED_WIN32_LIBS=
])
AC_SUBST([SCHED_WIN32_LIBS])
AC_DEFINE_UNQUOTED([SCHED_WINDOWS_STATUS], ["$sched_windows_status"],
  [Whether the windows backend is built, or why not.])
