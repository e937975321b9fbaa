#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/deps.sh - install what building and testing libsched needs on
# Debian 12 (bookworm).  Idempotent: when every package is already
# installed it changes nothing and needs no network.  Run as root.
set -eu

# One package per line, with what needs it.
packages="
build-essential
autoconf
automake
libtool
pkg-config
libconfig-dev
libcunit1-dev
mandoc
valgrind
util-linux
binutils
libglib2.0-dev
libuv1-dev
libevent-dev
mingw-w64
wine
wine64
dpkg-dev
clang-14
libclang-rt-14-dev
abigail-tools
bash-completion
debhelper
lintian
"
# build-essential .. pkg-config: the autotools build
# libconfig-dev, libcunit1-dev: the library and its test suites
# mandoc: manual page lint; valgrind: the memcheck pass
# util-linux (setpriv), binutils (nm): the secure_getenv and symbol tests
# libglib2.0-dev, libuv1-dev, libevent-dev: benchmark peers
# mingw-w64, wine, wine64, dpkg-dev: the Windows cross build and its tests
# clang-14, libclang-rt-14-dev (libFuzzer, the sanitizers' runtimes): the
#   fuzz pass (configure --enable-libfuzzer CC=clang-14)
# abigail-tools (abidw, abidiff): the ABI baseline and CI's abi pass
# bash-completion: schedctl's completion is tested through it
# debhelper, lintian: the Debian packages (CI's deb pass)

missing=
for p in $packages; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: everything is installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing:$missing; run this script as root (sudo $0)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
