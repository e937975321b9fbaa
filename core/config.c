/* core/config.c: to be written by the foundation (issue 2) work. */
