#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/count-results.sh EXTRA_FAILURES DIR... - count the test results
# under the DIRs from automake's logs and print "N passed, N failed",
# adding EXTRA_FAILURES (passes that failed without a test result).
#
# A CUnit suite counts its tests: the "tests" row of its Run Summary
# (passed and failed columns).  Any other test counts the :test-result:
# lines of its .trs.  SKIP is neither passed nor failed, and is reported.
# A test automake marks FAIL or ERROR fails even if its suite's summary
# says all passed (a sanitizer or valgrind report after the summary, a
# crash at exit).  Exits 1 when anything failed or nothing ran.
extra=${1:?usage: count-results.sh EXTRA_FAILURES DIR...}
shift
[ $# -gt 0 ] || { echo "0 passed, $((extra + 1)) failed"; exit 1; }
find "$@" -name '*.trs' -type f | sort | while read -r trs; do
    log=${trs%.trs}.log
    results=$(sed -n 's/^:test-result: *//p' "$trs")
    summary=
    [ -f "$log" ] && summary=$(awk '/Run Summary:/ { s = 1 } s && $1 == "tests" { print $4, $5; exit }' "$log")
    if [ -n "$summary" ]; then
        set -- $summary
        p=$1 f=$2
        case $results in *FAIL*|*ERROR*) [ "$f" -eq 0 ] && f=1 ;; esac
        echo "$p $f 0 $trs"
    else
        p=0 f=0 s=0
        for r in $results; do
            case $r in
                PASS|XFAIL) p=$((p + 1)) ;;
                SKIP) s=$((s + 1)) ;;
                *) f=$((f + 1)) ;;
            esac
        done
        echo "$p $f $s $trs"
    fi
done | awk -v extra="$extra" '
    { passed += $1; failed += $2; skipped += $3
      if ($2 > 0) print "failed: " $4
      if ($3 > 0) print "skipped: " $4 }
    END {
      failed += extra
      if (skipped > 0) print skipped " skipped"
      print passed + 0 " passed, " failed + 0 " failed"
      exit (failed > 0 || passed == 0) ? 1 : 0 }'
