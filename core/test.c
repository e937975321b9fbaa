/* core/test.c: to be written by the test backend (issue 5) work. */
