# windows backend: built only for mingw hosts.
AS_IF([test "x$sched_windows" = xyes],
  [sched_windows_status=yes],
  [sched_windows_status="skipped (not a Windows host)"])
