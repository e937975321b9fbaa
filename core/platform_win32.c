/* core/platform_win32.c: to be written by the Windows port (issue 8) work. */
