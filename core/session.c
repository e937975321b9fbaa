/* core/session.c: to be written by the session layer (issue 6) work. */
