/* core/future.c: to be written by the task core (issue 3) work. */
