#!/bin/sh
# SPDX-License-Identifier: MIT
# Plugin loading in a set-uid-root program is a security boundary: an
# unprivileged user must not get code of theirs run as root.  This builds
# a set-uid-root client against libsched, creates an unprivileged user,
# and for each way such a user could plant a plugin -- a relative
# @include resolved against their working directory, a root config
# including a file from a directory they own, a plugin file owned by them, a sticky world-writable plugin directory, a root-owned
# directory holding a symlink to their file, a plugin directory whose
# parent anyone may rename entries of, their own plugin in a set-gid
# program -- plants a plugin whose ELF constructor writes a
# marker file, runs the client as that user, and checks that the marker
# never appears and that the refusal names the path and the reason.  A
# control case proves a root-installed plugin's constructor does run, so
# a missing marker means something.
#
# Runs against the build tree, or against an installed libsched when
# SCHED_SETUID_PREFIX names its prefix (include/ and lib/ under it).
# Needs root (useradd, chown, set-uid); skips (77) otherwise, and where
# the kernel does not honour set-uid (nosuid, no_new_privs).
: "${SCHED_TOP_BUILDDIR:?run through make check}"
: "${SCHED_TOP_SRCDIR:?run through make check}"
cc=${SCHED_TEST_CC:-cc}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create a user and a set-uid-root program"
for tool in useradd userdel setpriv; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
case "${SCHED_TEST_CFLAGS-} ${SCHED_TEST_LDFLAGS-}" in
    *-fsanitize=thread*) skip "ThreadSanitizer's runtime does not start in a set-uid process" ;;
esac
if [ -n "${SCHED_SETUID_PREFIX-}" ]; then
    incdir=$SCHED_SETUID_PREFIX/include
    libdir=$SCHED_SETUID_PREFIX/lib
    [ -f "$libdir/libsched.so" ] || libdir=$(dirname "$(ls "$SCHED_SETUID_PREFIX"/lib*/libsched.so | head -n 1)")
else
    incdir=$SCHED_TOP_SRCDIR/core/include
    incdir_gen=$SCHED_TOP_BUILDDIR/core/include   # the generated <sched/version.h>
    libdir=$SCHED_TOP_BUILDDIR/core/.libs
fi
[ -f "$libdir/libsched.so" ] || { echo "no libsched.so in $libdir"; exit 99; }
fixture=$SCHED_TOP_BUILDDIR/tests/plugins/.libs/valid.so
[ -f "$fixture" ] || { echo "no fixture plugin $fixture"; exit 99; }

# Everything lives in one root-owned directory under /tmp (sticky, root's):
# the legitimate parts must pass the ownership rule themselves.
w=$(mktemp -d /tmp/sched-setuid-XXXXXX) || exit 99
chmod 755 "$w"
user=schedsu$$
cleanup() {
    userdel "$user" >/dev/null 2>&1
    rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
useradd --system --no-create-home --home-dir "$w/home" --shell /usr/sbin/nologin "$user" ||
    skip "useradd could not create a user"
uid=$(id -u "$user") gid=$(id -g "$user")
home=$w/home
mkdir -p "$home" "$w/etc" "$w/markers"
chown "$user:" "$home"
# Planted code in the set-gid case runs with group root only.
chown root:root "$w/markers"
chmod 775 "$w/markers"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

# planted NAME: the attacker's plugin, its marker NAME, built as
# $w/build/NAME.so for whoever places it.
mkdir -p "$w/build"
planted() {
    "$cc" -shared -fPIC -DSCHED_PLANTED_MARKER="\"$w/markers/$1\"" \
        -o "$w/build/$1.so" "$SCHED_TOP_SRCDIR/tests/setuid/planted.c" || exit 99
    chmod 755 "$w/build/$1.so"
}

# client CASE: a set-uid-root client for $w/etc/CASE.conf.
client() {
    $cc ${SCHED_TEST_CFLAGS-} -I"$incdir" -I"${incdir_gen:-$incdir}" -DSCHED_CLIENT_CONFIG="\"$w/etc/$1.conf\"" \
        -o "$w/client-$1" "$SCHED_TOP_SRCDIR/tests/setuid/client.c" \
        -L"$libdir" -Wl,-rpath,"$libdir" -lsched ${SCHED_TEST_LDFLAGS-} || exit 99
    chown root:root "$w/client-$1"
    chmod 4755 "$w/client-$1"
}

# run CASE DIR: the client of CASE, as the user, from DIR, with every
# override the user could try set.  Output in $out.
run() {
    out=$(cd "$2" && as_user env -i PATH=/usr/bin:/bin HOME="$home" \
              SCHED_PLUGIN_PATH="$home/plugins" SCHED_CONFIG="$home/site.conf" \
              XDG_CONFIG_HOME="$home" SCHED_NOSYSTEM=1 "$w/client-$1" 2>&1)
    echo "$1:"
    echo "$out" | sed 's/^/    /'
    case $out in
        secure=0*) skip "the kernel did not honour set-uid in $w (nosuid or no_new_privs)" ;;
    esac
}

# refused CASE MARKER TEXT: the marker is absent, the output has TEXT.
refused() {
    if [ -e "$w/markers/$2" ]; then
        fail "$1: planted code ran in the privileged client: $(cat "$w/markers/$2")"
    else
        echo "ok: $1: planted code did not run"
    fi
    case $out in
        *"$3"*) echo "ok: $1: the refusal names the path and the reason" ;;
        *) fail "$1: expected \"$3\"" ;;
    esac
}

# The user's own files: a plugin directory and the site.conf a relative
# @include would find in their working directory.
mkdir -p "$home/plugins" "$home/evil"
planted env
cp "$w/build/env.so" "$home/plugins/valid.so"
printf 'plugin_path = [ "%s/plugins" ];\n' "$home" >"$home/site.conf"
chown -R "$user:" "$home"

# A legitimate plugin directory, as an administrator installs one.
mkdir -p "$w/lib/sched"
cp "$fixture" "$w/lib/sched/valid.so"
chmod 644 "$w/lib/sched/valid.so"

# Control: a root-installed plugin's constructor runs in the client (it
# is no plugin, so it is refused afterwards for its missing entry point).
mkdir -p "$w/lib/control"
planted control
cp "$w/build/control.so" "$w/lib/control/valid.so"
printf 'backend = "valid";\nplugin_path = [ "%s/lib/control" ];\n' "$w" >"$w/etc/control.conf"
client control
run control "$home"
[ -e "$w/markers/control" ] || fail "control: a root-installed plugin's constructor did not run; the test proves nothing"
rm -f "$w/markers/control"

# 1. A relative @include resolves against the including file's
#    directory, not the caller's working directory.
printf '@include "site.conf"\nbackend = "valid";\n' >"$w/etc/include.conf"
printf 'plugin_path = [ "%s/lib/sched" ];\n' "$w" >"$w/etc/site.conf"
client include
run include "$home"
refused include env "opened: valid $w/lib/sched/valid.so"

# 1b. In a set-uid program an included file passes the ownership rule:
#     here the administrator gave the user a conf.d directory.
mkdir -p "$w/etc/conf.d"
printf 'plugin_path = [ "%s/plugins" ];\n' "$home" >"$w/etc/conf.d/site.conf"
chown -R "$user:" "$w/etc/conf.d"
printf '@include "conf.d/site.conf"\nbackend = "valid";\n' >"$w/etc/confd.conf"
client confd
run confd "$w/etc"
refused confd env "its directory $w/etc/conf.d is owned by uid $uid, not by root or the effective uid 0"

# 2. A plugin file (mode 0755) owned by the user, in a root directory.
mkdir -p "$w/lib/owned"
planted owned
cp "$w/build/owned.so" "$w/lib/owned/valid.so"
chown "$user:" "$w/lib/owned/valid.so"
printf 'backend = "valid";\nplugin_path = [ "%s/lib/owned" ];\n' "$w" >"$w/etc/owned.conf"
client owned
run owned "$home"
refused owned owned "plugin $w/lib/owned/valid.so refused: the file is owned by uid $uid, not by root or the effective uid 0"

# 3. A root-owned sticky 1777 plugin directory: the user creates the
#    plugin there first.
mkdir -p "$w/lib/sticky"
chmod 1777 "$w/lib/sticky"
planted sticky
as_user cp "$w/build/sticky.so" "$w/lib/sticky/valid.so" || exit 99
printf 'backend = "valid";\nplugin_path = [ "%s/lib/sticky" ];\n' "$w" >"$w/etc/sticky.conf"
client sticky
run sticky "$home"
refused sticky sticky "plugin $w/lib/sticky/valid.so refused: its directory $w/lib/sticky is writable by others"

# 4. A root-owned 0755 directory holding a symlink to the user's file.
mkdir -p "$w/lib/link"
planted link
as_user cp "$w/build/link.so" "$home/evil/valid.so" || exit 99
ln -s "$home/evil/valid.so" "$w/lib/link/valid.so"
printf 'backend = "valid";\nplugin_path = [ "%s/lib/link" ];\n' "$w" >"$w/etc/link.conf"
client link
run link "$home"
refused link link "plugin $w/lib/link/valid.so refused: it resolves to $home/evil/valid.so, and the directory $home above it is owned by uid $uid"

# 5. A root-owned 0755 plugin directory whose parent is world-writable
#    (not sticky): the user renames the directory away and puts their own
#    in its place.
mkdir -p "$w/opt/sched"
chmod 777 "$w/opt"
cp "$fixture" "$w/opt/sched/valid.so"
printf 'backend = "valid";\nplugin_path = [ "%s/opt/sched" ];\n' "$w" >"$w/etc/swap.conf"
as_user mv "$w/opt/sched" "$w/opt/sched.orig" || exit 99
as_user mkdir "$w/opt/sched" || exit 99
planted swap
as_user cp "$w/build/swap.so" "$w/opt/sched/valid.so" || exit 99
client swap
run swap "$home"
refused swap swap "plugin $w/opt/sched/valid.so refused: the directory $w/opt above it is writable by group or others"

# 6. A set-gid (not set-uid) program: the effective user is the caller,
#    so their own plugin would run with the group's privileges; only
#    root's files are trusted there.
printf 'backend = "valid";\nplugin_path = [ "%s/plugins" ];\n' "$home" >"$w/etc/setgid.conf"
client setgid
chmod 2755 "$w/client-setgid"
planted setgid
as_user cp "$w/build/setgid.so" "$home/plugins/valid.so" || exit 99
run setgid "$home"
refused setgid setgid "plugin $home/plugins/valid.so refused: the directory $home above it is owned by uid $uid, not by root (a set-gid program trusts only root's files)"

# 7. A config the caller cannot read: the privileged client reads it,
#    and its syntax error must not quote the line back to the caller.
printf 'backend = "valid";\nroot-only secret xyzzy-4711 = = ;\n' >"$w/etc/leak.conf"
chmod 600 "$w/etc/leak.conf"
client leak
run leak "$home"
case $out in
    *xyzzy-4711*) fail "leak: the error quotes a file the caller cannot read" ;;
    *"$w/etc/leak.conf:2: "*) echo "ok: leak: the error names file and line without quoting it" ;;
    *) fail "leak: expected an error naming $w/etc/leak.conf:2" ;;
esac

# 8. An @include of a file the caller cannot read (in a directory only
#    root may enter): refused, and with the same sentence whether the
#    file exists or not, so the message is no way to probe for files.
mkdir -p "$w/secret"
chmod 700 "$w/secret"
printf 'backend = "valid";\nplugin_path = [ "%s/lib/sched" ];\n' "$w" >"$w/secret/there.conf"
printf '@include "%s/secret/there.conf"\n' "$w" >"$w/etc/there.conf"
printf '@include "%s/secret/gone.conf"\n' "$w" >"$w/etc/gone.conf"
client there
run there "$home"
there_out=$out
client gone
run gone "$home"
case $there_out in
    *"cannot @include \"$w/secret/there.conf\": a set-uid or set-gid program includes only files its caller can read"*)
        echo "ok: there: an include the caller cannot read is refused" ;;
    *) fail "there: expected the include to be refused" ;;
esac
if [ "$(printf '%s\n' "$there_out" | sed 's/there/X/g')" = "$(printf '%s\n' "$out" | sed 's/gone/X/g')" ]; then
    echo "ok: gone: the refusal does not tell whether the file exists"
else
    fail "the refusals differ for a file that exists and one that does not"
fi

# And whatever happened, no planted code ran anywhere.
if [ -n "$(ls -A "$w/markers")" ]; then
    fail "planted code ran in a privileged client: $(ls -A "$w/markers")"
fi
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
