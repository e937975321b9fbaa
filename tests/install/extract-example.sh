#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/install/extract-example.sh PAGE N - print the Nth literal display
# (.Bd -literal ... .Ed) of PAGE's EXAMPLES section as plain text, roff
# escapes undone, so that the code a reader copies is the code tested.
page=${1:?usage: extract-example.sh PAGE N}
n=${2:?usage: extract-example.sh PAGE N}
awk -v want="$n" '
    /^\.Sh / { in_ex = ($0 == ".Sh EXAMPLES") }
    in_ex && /^\.Bd -literal/ { k++; if (k == want) { on = 1; next } }
    on && /^\.Ed/ { exit }
    on {
        gsub(/\\e/, "\\")
        gsub(/\\&/, "")
        print
    }' "$page"
