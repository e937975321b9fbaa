# mac backend: built only where libdispatch is found (see issue text).
sched_mac_status="skipped (not yet implemented)"
AM_CONDITIONAL([SCHED_MAC], [false])
