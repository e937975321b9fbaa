#!/bin/sh
# SPDX-License-Identifier: MIT
# One version everywhere: configure's package version is what
# <sched/version.h> says, what libsched.so's sched_version() returns, what
# both .pc files declare, what "schedctl --version" prints, and what every
# in-tree backend reports in "schedctl list".  A backend that hard-codes
# its own number (cloudflare-sim said "1.0") fails here.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_PACKAGE_VERSION:?run through make check}"
want=$SCHED_PACKAGE_VERSION
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl
failures=0
check() {
    if [ "$2" = "$want" ]; then
        echo "ok: $1 is $want"
    else
        echo "FAIL: $1 is \"$2\", configure says \"$want\""
        failures=$((failures + 1))
    fi
}

out=$("$SCHED_TOP_BUILDDIR/tests/version_probe") || { echo "FAIL: version_probe: $out"; exit 1; }
check "SCHED_VERSION_STRING" "$(echo "$out" | sed -n 1p)"
check "sched_version()" "$(echo "$out" | sed -n 2p)"
if command -v pkg-config >/dev/null 2>&1; then
    check "sched.pc's Version" "$(pkg-config --modversion "$SCHED_TOP_BUILDDIR/core/sched.pc")"
    check "sched-plugin.pc's Version" \
        "$(pkg-config --modversion "$SCHED_TOP_BUILDDIR/core/sched-plugin.pc")"
else
    echo "FAIL: pkg-config is not installed"
    failures=$((failures + 1))
fi
check "schedctl --version" "$("$schedctl" --version | sed -n 's/^schedctl (libsched) //p')"

# Every backend this tree built, as schedctl list shows it.
backends=0
for so in "$SCHED_TOP_BUILDDIR"/plugins/*/.libs/*.so; do
    [ -f "$so" ] || continue
    name=$(basename "$so" .so)
    line=$(SCHED_PLUGIN_PATH=$(dirname "$so") "$schedctl" list | grep "^[ *] $name ")
    check "the $name backend's version" "$(echo "$line" | cut -c3- | awk '{ print $2 }')"
    backends=$((backends + 1))
done
[ "$backends" -gt 0 ] || { echo "FAIL: no backend built"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ]
