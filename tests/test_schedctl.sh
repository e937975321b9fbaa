#!/bin/sh
# SPDX-License-Identifier: MIT
# schedctl as a user runs it: every refusal of a broken plugin reaches the
# terminal as its one sentence with a non-zero exit; list, check and info
# report what they should.
: "${SCHED_TOP_BUILDDIR:?run through make check}"
schedctl=$SCHED_TOP_BUILDDIR/core/schedctl/schedctl
fixtures=$SCHED_TOP_BUILDDIR/tests/plugins/.libs
builtin_path=$SCHED_PLUGIN_PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched-test-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect NAME STATUS STDERR-TEXT COMMAND...: run, compare exit status and
# the whole of stderr.
expect() {
    name=$1 want_status=$2 want_err=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    err=$(cat "$tmp/err")
    if [ "$status" -ne "$want_status" ]; then
        fail "$name: exit status $status, expected $want_status"
        sed 's/^/  stderr: /' "$tmp/err"
    elif [ "$err" != "$want_err" ]; then
        fail "$name: stderr differs"
        echo "  expected: $want_err"
        echo "  got:      $err"
    else
        echo "ok: $name"
    fi
}

# check_refusal FIXTURE REASON: "schedctl check" with that backend.
check_refusal() {
    expect "check refuses $1" 1 "schedctl: plugin $fixtures/$1.so refused: $2" \
        env SCHED_BACKEND="$1" SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check
}

check_refusal noentry "it does not export sched_plugin_entry_v1"
check_refusal abi2 "it was built for plugin ABI 2.0, and this host implements ABI 1.1"
check_refusal noschedule 'its required op "schedule" is NULL'
check_refusal halfpark 'it sets only one of the ops "park" and "unpark"'
check_refusal misnamed 'its descriptor names the backend "valid", not "misnamed" as its file name does'
check_refusal reserved "its descriptor's reserved field is 7, not 0"
check_refusal keytype 'its config key "threads" has the unknown type 99'
check_refusal keyrange 'its config key "threads" has a minimum (10) greater than its maximum (5)'
check_refusal keydup 'its config key "threads" is declared twice'
check_refusal keyname 'its config key "linux.threads" is not a valid setting name'
small_reason=$(env SCHED_BACKEND=small SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check 2>&1)
case $small_reason in
    "schedctl: plugin $fixtures/small.so refused: its descriptor is "*" bytes, smaller than the "*" bytes of ABI 1.0") echo "ok: check refuses small" ;;
    *) fail "check refuses small: $small_reason" ;;
esac

expect "check reports create failure" 1 \
    "schedctl: backend \"createfail\" ($fixtures/createfail.so) failed to start: no worker threads could be started" \
    env SCHED_BACKEND=createfail SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check

expect "check reports a positive create() return as a failure" 1 \
    "schedctl: backend \"createpos\" ($fixtures/createpos.so) failed to start: its create() returned 1, which is neither 0 nor a negative SCHED_E* code" \
    env SCHED_BACKEND=createpos SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check

# A plugin that crashes in its entry function or in create() is probed in
# a child process: schedctl survives and names the file and the signal.
expect "check reports a plugin crashing in its entry function" 1 \
    "schedctl: $fixtures/crashentry.so: crashed with signal 11" \
    env SCHED_BACKEND=crashentry SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check
expect "check reports a plugin crashing in create()" 1 \
    "schedctl: $fixtures/crashcreate.so: crashed with signal 11" \
    env SCHED_BACKEND=crashcreate SCHED_PLUGIN_PATH="$fixtures" "$schedctl" check
# A plugin that never returns is killed after SCHEDCTL_PROBE_TIMEOUT
# seconds and named; it is alone in its directory, so nothing else has to
# be quick.
hang=$SCHED_TOP_BUILDDIR/tests/plugins/hang/.libs
expect "check reports a plugin that does not return" 1 \
    "schedctl: $hang/loopentry.so: did not return within 1 s" \
    env SCHEDCTL_PROBE_TIMEOUT=1 SCHED_BACKEND=loopentry SCHED_PLUGIN_PATH="$hang" "$schedctl" check
expect "list survives a plugin that does not return" 0 "" \
    env SCHEDCTL_PROBE_TIMEOUT=1 SCHED_PLUGIN_PATH="$hang" "$schedctl" list
grep -q "^  loopentry  *$hang/loopentry.so: did not return within 1 s\$" "$tmp/out" ||
    fail "list does not report the plugin that does not return: $(cat "$tmp/out")"
expect "info reports a plugin that does not return" 1 \
    "schedctl: $hang/loopentry.so: did not return within 1 s" \
    env SCHEDCTL_PROBE_TIMEOUT=1 SCHED_BACKEND=loopentry SCHED_PLUGIN_PATH="$hang" "$schedctl" info
# Ctrl-C (SIGINT) to schedctl while a probe hangs: the child is in a
# process group of its own, which the terminal's signal does not reach,
# so schedctl kills that group and then dies of SIGINT itself (status
# 130 in the shell); nothing of the group (the child, and the process it
# started) is left running.  A script's background job ignores SIGINT:
# env --default-signal gives it back its default, as a terminal has it.
interrupted() {
    name=$1
    shift
    rm -f "$tmp/loop.pid"
    env --default-signal=INT LOOPENTRY_PIDFILE="$tmp/loop.pid" SCHEDCTL_PROBE_TIMEOUT=600 \
        SCHED_BACKEND=loopentry SCHED_PLUGIN_PATH="$hang" "$schedctl" "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    i=0
    while [ ! -s "$tmp/loop.pid" ] && [ $i -lt 1200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ ! -s "$tmp/loop.pid" ]; then
        fail "$name: the probe did not start"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid"
        return
    fi
    pgid=$(sed -n 1p "$tmp/loop.pid")
    kill -INT "$pid"
    wait "$pid"
    status=$?
    [ "$status" -eq 130 ] || fail "$name: exit status $status after SIGINT, expected 130 (killed by SIGINT)"
    i=0
    while left=$(ps -eo pgid=,pid=,stat= | awk -v g="$pgid" '$1 == g && $3 !~ /^Z/ { print $2 }') &&
        [ -n "$left" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ -n "$left" ]; then
        fail "$name: the probe's processes outlived schedctl:" $left
        kill -s KILL -- "-$pgid" 2>/dev/null
    else
        echo "ok: $name"
    fi
}
if env --default-signal=INT true 2>/dev/null; then
    interrupted "SIGINT to info ends the probe" info
    interrupted "SIGINT to list ends the probe" list
    interrupted "SIGINT to check ends the probe" check
    interrupted "SIGINT to conform ends the probe" conform --timeout 600 loopentry
else
    echo "skip: SIGINT to a probe: this env has no --default-signal"
fi
# Two directories with a plugin of one name: a load takes the first along
# the path, and list says which file that is and which it passes over.
mkdir "$tmp/first" "$tmp/second"
cp "$fixtures/valid.so" "$tmp/first/valid.so"
cp "$fixtures/valid.so" "$tmp/second/valid.so"
expect "list shows a shadowed plugin" 0 "" \
    env SCHED_PLUGIN_PATH="$tmp/first:$tmp/second" "$schedctl" list
grep -q "^  valid  *[^ ]*  *1\.[0-9]  *$tmp/first/valid.so\$" "$tmp/out" ||
    fail "list does not show the plugin a load takes: $(cat "$tmp/out")"
grep -q "^  valid  *shadowed by $tmp/first/valid.so ($tmp/second/valid.so)\$" "$tmp/out" ||
    fail "list does not show the shadowed plugin: $(cat "$tmp/out")"
[ "$(grep -c "^  valid " "$tmp/out")" -eq 2 ] || fail "list shows valid other than twice: $(cat "$tmp/out")"
expect "list names a directory given twice once" 0 "" \
    env SCHED_PLUGIN_PATH="$tmp/first:$tmp/first" "$schedctl" list
[ "$(grep -c "^  valid " "$tmp/out")" -eq 1 ] || fail "list repeats a directory given twice: $(cat "$tmp/out")"
# Plugins that attack the probe.  One that exits instead of returning
# did not finish the probe: that is a failure, never an "ok" by silence.
hostile=$SCHED_TOP_BUILDDIR/tests/plugins/hostile/.libs
expect "check reports a plugin that exits in its entry function" 1 \
    "schedctl: $hostile/exitentry.so: exited with status 0 before the probe finished" \
    env SCHED_BACKEND=exitentry SCHED_PLUGIN_PATH="$hostile" "$schedctl" check
expect "info reports a plugin that exits in its entry function" 1 \
    "schedctl: $hostile/exitentry.so: exited with status 0 before the probe finished" \
    env SCHED_BACKEND=exitentry SCHED_PLUGIN_PATH="$hostile" "$schedctl" info
expect "list survives a plugin that exits" 0 "" \
    env FORKENTRY_PIDFILE="$tmp/list.pid" SCHED_PLUGIN_PATH="$hostile" "$schedctl" list
grep -q "^  exitentry  *$hostile/exitentry.so: exited with status 0 before the probe finished\$" "$tmp/out" ||
    fail "list does not report the plugin that exits: $(cat "$tmp/out")"
# Nothing the plugins print reaches schedctl's output, and their strings
# are escaped: no forged rows, no terminal escapes.
grep -q '^\* linux  *9\.9' "$tmp/out" && fail "list shows a row a plugin forged: $(cat "$tmp/out")"
grep -q '^  escapestr      1.0\\n\* linux 9.9 1.1 /forged/linux.so 1.1 ' "$tmp/out" ||
    fail "list does not escape a plugin's version: $(cat "$tmp/out")"
expect "check does not show what a plugin prints" 0 "" \
    env SCHED_BACKEND=printentry SCHED_PLUGIN_PATH="$hostile" "$schedctl" check
[ "$(cat "$tmp/out")" = "(built-in): ok, backend \"printentry\" ($hostile/printentry.so)" ] ||
    fail "check's output has the plugin's in it: $(cat "$tmp/out")"
expect "info escapes a plugin's strings" 0 "" \
    env SCHED_BACKEND=escapestr SCHED_PLUGIN_PATH="$hostile" "$schedctl" info
LC_ALL=C grep -q "$(printf '\033')" "$tmp/out" && fail "info sends a plugin's escape sequences: $(cat -v "$tmp/out")"
grep -q '^  sets\\x1b\]0;title\\x07 the title$' "$tmp/out" ||
    fail "info does not escape the description: $(cat -v "$tmp/out")"
grep -q '^      clears\\x1b\[2J the screen$' "$tmp/out" ||
    fail "info does not escape a key's doc: $(cat -v "$tmp/out")"
# A process the plugin starts ends with the probe, and the probe does not
# wait for it (with an hour's timeout, waiting would never finish).
expect "check does not wait for a process a plugin started" 0 "" \
    timeout 300 env SCHEDCTL_PROBE_TIMEOUT=3600 FORKENTRY_PIDFILE="$tmp/fork.pid" \
    SCHED_BACKEND=forkentry SCHED_PLUGIN_PATH="$hostile" "$schedctl" check
grep -q 'ok, backend "forkentry"' "$tmp/out" || fail "check of forkentry: $(cat "$tmp/out")"
for f in "$tmp/fork.pid" "$tmp/list.pid"; do
    if [ ! -s "$f" ]; then
        fail "forkentry did not start its process ($f)"
        continue
    fi
    # Killed before schedctl exited: gone, or a zombie not reaped yet.
    st=$(ps -o stat= -p "$(cat "$f")" 2>/dev/null)
    case $st in
    "" | Z*) echo "ok: the process forkentry started ended with the probe" ;;
    *) fail "the process forkentry started outlived schedctl ($st)"; kill "$(cat "$f")" ;;
    esac
done

# A constructor that detaches as a daemon does (fork, setsid, fork, the
# middle process exits) leaves a process in a session and group of its
# own, which no kill of the probe's group reaches; it must still end with
# the probe, whether the probe finishes, times out or is interrupted, and
# however often it moves to a new pid.  Every process of the probe has
# SETSIDCTOR_TAG in its environment, so whatever is left is found by
# that, not by a pid (pids are reused).
if [ -r /proc/self/environ ]; then
    tag=$tmp/setsidctor
    # leftovers: the pids of live processes with the tag.  One grep reads
    # every environment (NUL-separated): a process or two per entry of
    # /proc is slow where thousands of processes are.  Not the daemon's
    # pid: once the probe has reaped it, another process may have it.
    leftovers() {
        grep -lxzF "SETSIDCTOR_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null |
            sed 's,^/proc/,,; s,/environ$,,'
    }
    # detached NAME MODE COMMAND...: run with the fixture in MODE, expect
    # that its daemon started, and that nothing of it is left after.
    detached() {
        name=$1 mode=$2
        shift 2
        rm -f "$tmp/daemon.pid"
        env SETSIDCTOR_TAG="$tag" SETSIDCTOR_PIDFILE="$tmp/daemon.pid" SETSIDCTOR_MODE="$mode" \
            SCHED_BACKEND=setsidctor SCHED_PLUGIN_PATH="$hostile" "$@" >"$tmp/out" 2>"$tmp/err"
        status=$?
        if [ ! -s "$tmp/daemon.pid" ]; then
            fail "$name: the plugin's daemon did not start (status $status: $(cat "$tmp/err"))"
            return
        fi
        left=$(leftovers | sort -u)
        if [ -n "$left" ]; then
            fail "$name: the daemon outlived the probe:" $left
            rm -f "$tmp/daemon.pid"     # it ends itself without the file
            for p in $left; do kill -KILL "$p" 2>/dev/null; done
        else
            echo "ok: $name"
        fi
    }
    detached "check ends a daemon a constructor started" sleep "$schedctl" check
    grep -q 'ok, backend "setsidctor"' "$tmp/out" || fail "check of setsidctor: $(cat "$tmp/out" "$tmp/err")"
    detached "check ends a daemon that keeps changing its pid" hop "$schedctl" check
    detached "info ends a daemon a constructor started" sleep "$schedctl" info
    detached "list ends a daemon a constructor started" sleep "$schedctl" list
    grep -q '^[ *] setsidctor ' "$tmp/out" || fail "list does not show setsidctor: $(cat "$tmp/out")"
    detached "a timed-out probe ends a daemon" hang env SCHEDCTL_PROBE_TIMEOUT=1 "$schedctl" check
    grep -qx "schedctl: $hostile/setsidctor.so: did not return within 1 s" "$tmp/err" ||
        fail "check of a hanging setsidctor: $(cat "$tmp/err")"
    # conform runs the plugin in a child per test, and a first one that
    # opens it: each is ended the same way.
    detached "conform ends a daemon a constructor started" sleep \
        "$schedctl" conform -t "spawn and await returns the value" setsidctor
    grep -q '^PASS  spawn and await returns the value$' "$tmp/out" ||
        fail "conform of setsidctor: $(cat "$tmp/out" "$tmp/err")"
    detached "conform ends a daemon of a backend that hangs in its first open" hang \
        "$schedctl" conform --timeout 1 setsidctor
    grep -q '^conform: backend setsidctor cannot be opened: TIMEOUT$' "$tmp/out" ||
        fail "conform of a hanging setsidctor: $(cat "$tmp/out" "$tmp/err")"
    # hanging_probe [ENV-OPTIONS]: schedctl check in the background (pid),
    # its constructor's daemon started and hanging; waits up to 120 s for
    # the daemon's pid file.
    hanging_probe() {
        rm -f "$tmp/daemon.pid"
        env "$@" SETSIDCTOR_TAG="$tag" SETSIDCTOR_PIDFILE="$tmp/daemon.pid" \
            SETSIDCTOR_MODE=hang SCHEDCTL_PROBE_TIMEOUT=600 SCHED_BACKEND=setsidctor \
            SCHED_PLUGIN_PATH="$hostile" "$schedctl" check >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        i=0
        while [ ! -s "$tmp/daemon.pid" ] && [ $i -lt 1200 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    }
    # SIGINT while the constructor hangs: schedctl ends the probe, daemon
    # included, before it dies of the signal.
    if env --default-signal=INT true 2>/dev/null; then
        hanging_probe --default-signal=INT
        kill -INT "$pid"
        wait "$pid"
        status=$?
        left=$(leftovers | sort -u)
        if [ ! -s "$tmp/daemon.pid" ]; then
            fail "SIGINT to a probe with a daemon: the daemon did not start"
        elif [ "$status" -ne 130 ]; then
            fail "SIGINT to a probe with a daemon: exit status $status, expected 130"
        elif [ -n "$left" ]; then
            fail "SIGINT to a probe with a daemon: the daemon outlived it:" $left
        else
            echo "ok: SIGINT to a probe ends a daemon a constructor started"
        fi
        rm -f "$tmp/daemon.pid"
        for p in $left; do kill -KILL "$p" 2>/dev/null; done
    fi
    # schedctl killed outright (SIGKILL, which it cannot catch): the
    # process keeping the probe sees its socket to schedctl end and ends
    # the probe itself.  That is no child of this shell to wait for, so
    # wait (up to 30 s) for the tagged processes to go.
    hanging_probe
    kill -KILL "$pid"
    wait "$pid"
    i=0
    while left=$(leftovers | sort -u) && [ -n "$left" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ ! -s "$tmp/daemon.pid" ]; then
        fail "SIGKILL to schedctl during a probe: the daemon did not start"
    elif [ -n "$left" ]; then
        fail "SIGKILL to schedctl during a probe: the probe outlived it:" $left
    else
        echo "ok: SIGKILL to schedctl ends the probe, daemon included"
    fi
    rm -f "$tmp/daemon.pid"
    for p in $left; do kill -KILL "$p" 2>/dev/null; done
else
    echo "skip: daemons of the probe: no /proc"
fi

# A name with no terminating NUL is refused, read no further than a name
# can be long.
expect "check refuses an unterminated name" 1 \
    "schedctl: plugin $hostile/longname.so refused: its descriptor's name is not a string of at most 255 bytes (it is longer, or not terminated); it must be \"longname\", as its file name is" \
    env SCHED_BACKEND=longname SCHED_PLUGIN_PATH="$hostile" "$schedctl" check

# SCHEDCTL_PROBE_TIMEOUT out of range or not a number is an error.
for v in 0 -1 abc 86401 "" " 2" 2x 99999999999999999999; do
    expect "SCHEDCTL_PROBE_TIMEOUT=\"$v\" is refused" 2 \
        "schedctl: SCHEDCTL_PROBE_TIMEOUT=\"$v\" is invalid: use a whole number of seconds from 1 to 86400" \
        env SCHEDCTL_PROBE_TIMEOUT="$v" "$schedctl" check
done

# A failed write of the output is an error (a full disk, here /dev/full).
if [ -w /dev/full ]; then
    expect "list reports a failed write" 1 \
        "schedctl: cannot write the output: No space left on device" \
        sh -c '"$1" list >/dev/full' sh "$schedctl"
fi

# info reads the backend's settings from its plugin in a child too.
expect "info survives a plugin crashing in its entry function" 1 \
    "schedctl: $fixtures/crashentry.so: crashed with signal 11" \
    env SCHED_BACKEND=crashentry SCHED_PLUGIN_PATH="$fixtures" "$schedctl" info
grep -q '^config file: ' "$tmp/out" || fail "info printed nothing before the crash: $(cat "$tmp/out")"
# conform and bench write their config into the temporary directory: with
# a crash, a failure or a pass, nothing is left there and its path is in
# no message.
mkdir "$tmp/t"
env TMPDIR="$tmp/t" SCHED_PLUGIN_PATH="$fixtures" "$schedctl" conform crashcreate >"$tmp/out" 2>&1
status=$?
case $status:$(cat "$tmp/out") in
    "1:conform: backend crashcreate cannot be opened: $fixtures/crashcreate.so: crashed with signal 11 ("*")")
        echo "ok: conform reports a plugin crashing in create()" ;;
    *) fail "conform reports a plugin crashing in create(): $status: $(cat "$tmp/out")" ;;
esac
[ -z "$(ls -A "$tmp/t")" ] || fail "conform left a file behind after a crash: $(ls -A "$tmp/t")"
expect "bench reports a plugin crashing in create()" 1 \
    "schedctl: $fixtures/crashcreate.so: crashed with signal 11" \
    env TMPDIR="$tmp/t" SCHED_PLUGIN_PATH="$fixtures" "$schedctl" bench --quick --backend crashcreate
[ -z "$(ls -A "$tmp/t")" ] || fail "bench left a file behind after a crash: $(ls -A "$tmp/t")"
env TMPDIR="$tmp/t" SCHED_PLUGIN_PATH="$fixtures" "$schedctl" conform nosuch >"$tmp/out" 2>&1
case $(cat "$tmp/out") in
    *"$tmp/t"*) fail "conform names its temporary config: $(cat "$tmp/out")" ;;
    *"(the generated config"*) echo "ok: conform keeps its temporary config's path out of messages" ;;
    *) fail "conform nosuch: $(cat "$tmp/out")" ;;
esac
[ -z "$(ls -A "$tmp/t")" ] || fail "conform left a file behind: $(ls -A "$tmp/t")"

cp "$fixtures/valid.so" "$tmp/valid.so"
chmod 666 "$tmp/valid.so"
expect "check refuses a world-writable plugin" 1 \
    "schedctl: plugin $tmp/valid.so refused: the file is writable by group or others" \
    env SCHED_BACKEND=valid SCHED_PLUGIN_PATH="$tmp" "$schedctl" check

printf 'not an ELF file\n' >"$tmp/notso.so"
out=$(env SCHED_BACKEND=notso SCHED_PLUGIN_PATH="$tmp" "$schedctl" check 2>&1)
status=$?
case $status:$out in
    "1:schedctl: plugin $tmp/notso.so refused: it is not a loadable shared object ($tmp/notso.so: "*")") echo "ok: check refuses a file that is not a shared object" ;;
    *) fail "check refuses a file that is not a shared object: $status: $out" ;;
esac

# (The suite runs with SCHED_NOSYSTEM=1: nothing installed shows.)
expect "check reports a backend not found" 1 \
    "schedctl: backend \"nosuch\" (set at \$SCHED_BACKEND) not found: searched $tmp/nosuch.so; available backends: notso, valid" \
    env SCHED_BACKEND=nosuch SCHED_PLUGIN_PATH="$tmp" "$schedctl" check
# Without it the built-in directory is searched last (what it lists
# depends on what this machine has installed).
plugindir=$("$schedctl" --version | sed -n 's/^plugin directory: //p')
out=$(env SCHED_NOSYSTEM=0 SCHED_BACKEND=nosuch SCHED_PLUGIN_PATH="$tmp" "$schedctl" check 2>&1)
case $out in
    *"not found: searched $tmp/nosuch.so, $plugindir/nosuch.so; "*)
        echo "ok: check searches the built-in directory last" ;;
    *) fail "check searches the built-in directory last: $out" ;;
esac

# A config error names file, line and setting.
printf 'backend = "linux";\n\nlinux: { threads = 5000; };\n' >"$tmp/bad.conf"
expect "check reports an out-of-range setting with its line" 1 \
    "schedctl: $tmp/bad.conf:3: setting \"linux.threads\" is 5000, outside [0, 1024]" \
    env SCHED_PLUGIN_PATH="$builtin_path" "$schedctl" check -c "$tmp/bad.conf"
printf 'backend = "linux";\nlinux: { threads = ; };\n' >"$tmp/syntax.conf"
expect "check reports a syntax error with its line" 1 \
    "schedctl: $tmp/syntax.conf:2: syntax error near \"linux: { threads = ; };\"" \
    "$schedctl" check --config "$tmp/syntax.conf"

# Hostile configs (sched.conf(5)): refused at once, with file and line.
printf 'backend = "linux";\nlinux: { threads = 4294967300; };\n' >"$tmp/big.conf"
expect "check refuses an integer libconfig would truncate" 1 \
    "schedctl: $tmp/big.conf:2: setting \"linux.threads\" is 4294967300, outside the range of an integer [-2147483648, 2147483647] (write 4294967300L for a 64-bit integer)" \
    env SCHED_PLUGIN_PATH="$builtin_path" "$schedctl" check -c "$tmp/big.conf"
printf 'backend = "linux"; "\nlinux: { threads = 5000; };\n' >"$tmp/open.conf"
expect "check refuses a string that swallows the rest of the file" 1 \
    "schedctl: $tmp/open.conf:1: a string opened on this line is never closed (a '\"' is missing)" \
    "$schedctl" check -c "$tmp/open.conf"
printf 'backend = "linux";\n@include "%s"\n' "$tmp" >"$tmp/incdir.conf"
expect "check survives an @include of a directory" 1 \
    "schedctl: $tmp/incdir.conf:2: cannot @include \"$tmp\": not a regular file" \
    "$schedctl" check -c "$tmp/incdir.conf"
mkfifo "$tmp/fifo.conf"
expect "check refuses a FIFO without blocking" 1 \
    "schedctl: cannot read config file $tmp/fifo.conf: not a regular file" \
    timeout 60 "$schedctl" check -c "$tmp/fifo.conf"
expect "SCHED_CONFIG naming a FIFO is refused without blocking" 1 \
    "schedctl: cannot read config file $tmp/fifo.conf: not a regular file" \
    env SCHED_CONFIG="$tmp/fifo.conf" timeout 60 "$schedctl" check

printf 'backend = "linux";\nlinux: { threads = 2; };\n' >"$tmp/good.conf"
expect "check accepts a good config" 0 "" "$schedctl" check -c "$tmp/good.conf"
grep -qx "$tmp/good.conf: ok, backend \"linux\" (.*/linux.so)" "$tmp/out" ||
    fail "check output: $(cat "$tmp/out")"

# list: every backend built, the selected one marked, the rest explained.
expect "list runs" 0 "" "$schedctl" list
grep -q '^\* linux  *[^ ]*  *1\.1  *.*/plugins/linux/\.libs/linux\.so$' "$tmp/out" ||
    fail "list does not mark linux as selected: $(cat "$tmp/out")"
for b in test cloudflare-sim; do
    grep -q "^  $b  *[^ ]*  *1\.1  *.*/$b\.so\$" "$tmp/out" || fail "list lacks $b"
done
for b in mac windows; do
    grep -q "^  $b  " "$tmp/out" || fail "list lacks $b (built or missing)"
done
grep -q '^selected:    linux (set at (built-in):' "$tmp/out" || fail "list does not say what is selected"
expect "list marks a fixture refusal" 0 "" env SCHED_PLUGIN_PATH="$fixtures" "$schedctl" list
grep -qx "  abi2 *refused: it was built for plugin ABI 2.0, and this host implements ABI 1.1 ($fixtures/abi2.so)" "$tmp/out" ||
    fail "list does not show the refusal: $(cat "$tmp/out")"
grep -qx "  crashentry *$fixtures/crashentry.so: crashed with signal 11" "$tmp/out" ||
    fail "list does not show the crash: $(cat "$tmp/out")"
grep -q "^  valid  *1\.2\.3 " "$tmp/out" || fail "list stops at a crashing plugin: $(cat "$tmp/out")"

# info: values and where they came from.
expect "info runs" 0 "" env SCHED_BACKEND=linux "$schedctl" info -c "$tmp/good.conf"
grep -q "^config file: $tmp/good.conf (given by the program)\$" "$tmp/out" || fail "info: config file line"
grep -q '^  backend  *= linux  *# \$SCHED_BACKEND$' "$tmp/out" || fail "info: backend origin"
grep -q "^  linux.threads  *= 2  *# $tmp/good.conf:2\$" "$tmp/out" || fail "info: threads origin"
grep -q '^  linux.threads (integer in \[0, 1024\]) = 2$' "$tmp/out" || fail "info: declared key"

# The usual options.
expect "--version" 0 "" "$schedctl" --version
grep -q '^schedctl (libsched) [0-9]' "$tmp/out" || fail "--version output"
expect "--help" 0 "" "$schedctl" --help
cp "$tmp/out" "$tmp/help"
for c in list check info; do
    grep -q "^  $c " "$tmp/help" || fail "--help lacks $c"
    expect "help $c" 0 "" "$schedctl" help "$c"
    grep -q "^usage: schedctl $c" "$tmp/out" || fail "help $c output"
    expect "$c --help" 0 "" "$schedctl" "$c" --help
done
expect "unknown command" 2 'schedctl: unknown command "frobnicate" (try "schedctl --help")' \
    "$schedctl" frobnicate
"$schedctl" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no command should exit 2"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
