#!/bin/sh
# SPDX-License-Identifier: MIT
# embed.sh NAME FILE: print a C file defining `const char NAME[]` holding
# FILE's bytes, so the compiled-in default is exactly the installed file.
name=$1
file=$2
printf '/* Generated from %s by embed.sh; do not edit. */\n' "$(basename "$file")"
printf 'const char %s[] = {\n' "$name"
od -An -v -tx1 "$file" | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^ *//'
printf '0x00 };\n'
