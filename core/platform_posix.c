/* core/platform_posix.c: to be written by the foundation (issue 2) work. */
