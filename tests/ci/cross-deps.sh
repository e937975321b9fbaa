#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/cross-deps.sh - cross-build libsched's dependencies for Windows.
#
# Usage: tests/ci/cross-deps.sh DIR [HOST]
#
# Fetches Debian's source packages of libconfig and CUnit (the same
# versions the native build uses), cross-compiles them with mingw-w64 for
# HOST (default x86_64-w64-mingw32) and installs them into DIR/prefix.
# Then configure libsched with
#
#   ./configure --host=HOST PKG_CONFIG_PATH=DIR/prefix/lib/pkgconfig
#
# Nothing outside DIR is touched: apt-get runs with a private sources list,
# package lists and cache under DIR/apt, so /etc/apt needs no deb-src line.
# The script is idempotent: a dependency already installed in DIR/prefix
# (a stamp file per package) is not fetched or built again, so DIR can be
# kept between runs as a cache.
#
# Needs: apt-get, dpkg-source (dpkg-dev), make, mingw-w64, network access
# to the Debian archive.
set -eu

dir=${1:?usage: cross-deps.sh DIR [HOST]}
host=${2:-x86_64-w64-mingw32}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
prefix=$dir/prefix
apt=$dir/apt
src=$dir/src
mirror=${SCHED_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${SCHED_DEBIAN_SUITE:-bookworm}
jobs=${SCHED_CROSS_JOBS:-2}

# The packages, as Debian's source package names.
packages="libconfig cunit"

need_fetch=no
for p in $packages; do
    [ -f "$prefix/.stamp-$p" ] || need_fetch=yes
done
if [ "$need_fetch" = no ]; then
    echo "cross-deps: $prefix is up to date"
    exit 0
fi

command -v "$host-gcc" >/dev/null || {
    echo "cross-deps: $host-gcc not found (apt-get install mingw-w64)" >&2
    exit 1
}

# A private apt configuration: only deb-src of the Debian suite.
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$src" "$prefix"
cat > "$apt/sources.list" <<EOS
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main
EOS
set -- -o Dir::Etc::SourceList="$apt/sources.list" \
       -o Dir::Etc::SourceParts=/dev/null \
       -o Dir::State::Lists="$apt/lists" \
       -o Dir::Cache="$apt" \
       -o Dir::Cache::archives="$apt/archives" \
       -o Debug::NoLocking=1
if [ ! -f "$apt/.updated" ]; then
    apt-get "$@" -q update
    touch "$apt/.updated"
fi

# build_autotools PKG SRCDIR "STEPS" [CONFIGURE-ARGS...]: configure, then
# for each step DIR (or DIR:TARGET) run "make && make install" (or
# "make TARGET") in DIR only: the libraries, not docs, tests or examples.
# -no-undefined goes to libtool at make time (configure's link tests would
# reject it): without it libtool builds no DLL for a Windows host.
build_autotools() {
    p=$1; s=$2; dirs=$3; shift 3
    b=$src/build-$p
    rm -rf "$b"; mkdir -p "$b"
    (cd "$b" && "$s/configure" --host="$host" --prefix="$prefix" \
        --enable-shared --disable-static "$@" >configure.out 2>&1) || {
        tail -30 "$b/configure.out" >&2; exit 1; }
    for step in $dirs; do
        d=${step%%:*}
        if [ "$d" != "$step" ]; then
            (cd "$b/$d" && make "${step#*:}") >>"$b/make.out" 2>&1
        else
            (cd "$b/$d" && make -j"$jobs" LDFLAGS=-no-undefined &&
                make install) >>"$b/make.out" 2>&1
        fi || { tail -30 "$b/make.out" >&2; exit 1; }
    done
    touch "$prefix/.stamp-$p"
    echo "cross-deps: installed $p into $prefix"
}

# fetch PKG: unpack the source package into $src/PKG-*; print its dir.
fetch() {
    p=$1; shift
    d=$(find "$src" -maxdepth 1 -type d -name "$p-*" | head -1)
    if [ -z "$d" ]; then
        (cd "$src" && apt-get "$@" -q source --download-only "$p" >&2 &&
            dpkg-source -x --no-check "$p"_*.dsc >&2)
        d=$(find "$src" -maxdepth 1 -type d -name "$p-*" | head -1)
    fi
    echo "$d"
}

if [ ! -f "$prefix/.stamp-libconfig" ]; then
    s=$(fetch libconfig "$@")
    # Only the C library: the C++ binding and the examples are not needed.
    build_autotools libconfig "$s" lib --disable-cxx --disable-examples
fi

if [ ! -f "$prefix/.stamp-cunit" ]; then
    s=$(fetch cunit "$@")
    # Its shipped configure predates libtool's mingw-w64 support: regenerate
    # it, as Debian's own build does (dh --with autoreconf).
    if [ ! -f "$s/.sched-autoreconf" ]; then
        (cd "$s" && autoreconf -fi >/dev/null 2>&1 && touch .sched-autoreconf)
    fi
    build_autotools cunit "$s" "CUnit .:install-pkgconfigDATA"
fi
