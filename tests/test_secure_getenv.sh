#!/bin/sh
# SPDX-License-Identifier: MIT
# The environment overrides are read with secure_getenv: a set-uid or
# set-group-id program ignores SCHED_BACKEND, SCHED_CONFIG,
# SCHED_PLUGIN_PATH, SCHED_SEED and XDG_CONFIG_HOME, so an unprivileged
# user cannot make it load a plugin of their choosing.
#
# Proved for real: a set-group-id copy of a small probe program, run as an
# unprivileged user (setpriv), against a plain copy run the same way.
# This needs root to set up; without it, or where the kernel does not
# honour set-group-id here (nosuid, no_new_privs), the test is skipped and
# says why.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
probe=$SCHED_TOP_BUILDDIR/tests/getenv_probe

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to make a set-group-id copy and drop to another user"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is not installed"
user_id=$(id -u nobody 2>/dev/null) || skip "no user \"nobody\" to run as"
group_id=$(id -g nobody)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-test-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$probe" "$tmp/plain"
cp "$probe" "$tmp/setgid"
chown root:root "$tmp/plain" "$tmp/setgid"
chmod 755 "$tmp/plain"
chmod 2755 "$tmp/setgid"
printf 'backend = "from-file";\n' >"$tmp/evil.conf"
chmod 644 "$tmp/evil.conf"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The plain copy honours the environment (the control).
out=$(env -i PATH=/usr/bin:/bin SCHED_BACKEND=evil SCHED_SEED=1234 SCHED_PLUGIN_PATH=/evil/plugins \
      XDG_CONFIG_HOME="$tmp" SCHED_CONFIG="$tmp/evil.conf" \
      setpriv --reuid="$user_id" --regid="$group_id" --clear-groups "$tmp/plain" 2>&1)
echo "plain copy:"; echo "$out" | sed 's/^/    /'
echo "$out" | grep -qx 'secure=0' || fail "the plain copy ran with AT_SECURE set"
echo "$out" | grep -qx 'seed=1234' || fail "the plain copy did not see SCHED_SEED"
echo "$out" | grep -qx 'backend=evil' || fail "the plain copy did not see SCHED_BACKEND"
echo "$out" | grep -qx "config=$tmp/evil.conf" || fail "the plain copy did not read SCHED_CONFIG"
echo "$out" | grep -qx 'plugin_dirs=1' || fail "the plain copy did not see SCHED_PLUGIN_PATH"

out=$(env -i PATH=/usr/bin:/bin SCHED_BACKEND=evil SCHED_SEED=1234 SCHED_PLUGIN_PATH=/evil/plugins \
      XDG_CONFIG_HOME="$tmp" SCHED_CONFIG="$tmp/evil.conf" \
      setpriv --reuid="$user_id" --regid="$group_id" --clear-groups "$tmp/setgid" 2>&1)
echo "set-group-id copy:"; echo "$out" | sed 's/^/    /'
if echo "$out" | grep -qx 'secure=0'; then
    skip "the kernel did not honour set-group-id in $tmp (nosuid or no_new_privs)"
fi
echo "$out" | grep -qx 'secure=1' || fail "the probe did not run"
echo "$out" | grep -qx 'seed=(unset)' || fail "SCHED_SEED reached a set-group-id program"
echo "$out" | grep -q '^backend=evil' && fail "SCHED_BACKEND reached a set-group-id program"
echo "$out" | grep -q "^config=$tmp" && fail "SCHED_CONFIG or XDG_CONFIG_HOME reached a set-group-id program"
echo "$out" | grep -qx 'plugin_dirs=0' || fail "SCHED_PLUGIN_PATH reached a set-group-id program"
echo "$out" | grep -q '^backend_origin=\$' && fail "an environment override was applied"

[ "$failures" -eq 0 ] || exit 1
