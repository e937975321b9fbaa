#!/bin/sh
# SPDX-License-Identifier: MIT
# The layering of core/ (core/README), checked: every .c and .h file of
# the directory belongs to a layer, and none includes a header of a
# higher layer or names a function or variable defined in one.
#
#   usage: layers.sh COREDIR [README]
#
# README defaults to COREDIR/README; its lines "L<n> <name>: <files>" are
# the layers, lowest first, and "shared: <files>" the headers of
# declarations every layer may include.  A name is a function's or a
# variable's (sched_* or sched__*) when a file defines it: a line that
# starts in column 0, is not static, extern or a prototype (ending in
# ");"), and names it before "(", "=" or "[".  Comments and string
# literals are not read.  One line per breach on stdout; exit 1 when
# there is any, 2 when the input cannot be read.
dir=${1:?usage: layers.sh COREDIR [README]}
readme=${2:-$dir/README}
[ -d "$dir" ] || { echo "layers.sh: no directory $dir" >&2; exit 2; }
[ -r "$readme" ] || { echo "layers.sh: cannot read $readme" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The table: "file layer-number layer-name", shared files as layer -1.
awk '
    /^L[0-9]+ [^:]*:/ {
        n = substr($1, 2) + 0
        name = $0; sub(/^L[0-9]+ /, "", name); sub(/:.*/, "", name)
        files = $0; sub(/^[^:]*:/, "", files)
        k = split(files, f, /[ \t]+/)
        for (i = 1; i <= k; i++) if (f[i] != "") print f[i], n, name
        next
    }
    /^shared:/ {
        files = $0; sub(/^shared:/, "", files)
        k = split(files, f, /[ \t]+/)
        for (i = 1; i <= k; i++) if (f[i] != "") print f[i], -1, "shared"
    }
' "$readme" > "$tmp/table"
[ -s "$tmp/table" ] || { echo "layers.sh: $readme lists no layers" >&2; exit 2; }

# Each source without its comments and string literals (kept line by
# line, so that line numbers stay), as FILE.s in $tmp.
strip() {
    awk '
    {
        out = ""; n = length($0); i = 1
        while (i <= n) {
            c = substr($0, i, 1); d = substr($0, i, 2)
            if (incomment) {
                if (d == "*/") { incomment = 0; i += 2; out = out " " } else i++
                continue
            }
            if (d == "/*") { incomment = 1; i += 2; continue }
            if (d == "//") break
            if (c == "\"" || c == "\047") {
                q = c; out = out q; i++
                while (i <= n) {
                    c = substr($0, i, 1)
                    if (c == "\\") { i += 2; continue }
                    i++
                    if (c == q) break
                }
                out = out q
                continue
            }
            out = out c; i++
        }
        print out
    }' "$1"
}

status=0
: > "$tmp/defs"
: > "$tmp/files"
for path in "$dir"/*.c "$dir"/*.h; do
    [ -f "$path" ] || continue
    f=${path##*/}
    if ! grep -q "^$f " "$tmp/table"; then
        echo "$f: belongs to no layer (add it to a layer of core/README)"
        status=1
        continue
    fi
    strip "$path" > "$tmp/$f.s"
    echo "$f" >> "$tmp/files"
    # Definitions, from the stripped text of the .c files (a header's
    # prototypes declare, they do not define).
    case $f in *.c)
        awk -v f="$f" '
            /^[A-Za-z_]/ && !/^(static|extern|typedef)[ \t]/ && !/\)[ \t]*;[ \t]*$/ &&
            match($0, /sched_[a-z0-9_]*[ \t]*(\(|=|\[)/) {
                name = substr($0, RSTART, RLENGTH)
                sub(/[ \t]*[(=[]$/, "", name)
                print name, f
            }' "$tmp/$f.s" >> "$tmp/defs" ;;
    esac
done

# Uses and includes, against the table and the definitions.
for f in $(cat "$tmp/files"); do
    awk -v f="$f" -v orig="$dir/$f" '
        FILENAME == ARGV[1] { layer[$1] = $2; lname[$1] = $3; for (i = 4; i <= NF; i++) lname[$1] = lname[$1] " " $i; next }
        FILENAME == ARGV[2] { def[$1] = $2; next }
        FILENAME == ARGV[3] { text[FNR] = $0; next }
        {
            lno = FNR; me = layer[f]
            if (me < 0)
                next    # shared declarations: no code to check
            # #include "x" outside comments: the stripped line still holds it.
            if (text[lno] ~ /^[ \t]*#[ \t]*include[ \t]*"/ && match($0, /"[^"]*"/)) {
                h = substr($0, RSTART + 1, RLENGTH - 2); sub(/.*\//, "", h)
                if ((h in layer) && layer[h] > me)
                    printf "%s:%d: includes %s, of layer L%d %s, above its own L%d %s\n", f, lno, h, layer[h], lname[h], me, lname[f]
                next
            }
            line = text[lno]
            while (match(line, /sched_[a-z0-9_]*/)) {
                name = substr(line, RSTART, RLENGTH)
                before = RSTART > 1 ? substr(line, RSTART - 1, 1) : ""
                line = substr(line, RSTART + RLENGTH)
                if (before ~ /[A-Za-z0-9_]/)
                    continue
                if (!(name in def) || def[name] == f)
                    continue
                d = def[name]
                if (layer[d] > me)
                    printf "%s:%d: names %s, defined in %s of layer L%d %s, above its own L%d %s\n", f, lno, name, d, layer[d], lname[d], me, lname[f]
            }
        }' "$tmp/table" "$tmp/defs" "$tmp/$f.s" "$dir/$f" > "$tmp/out"
    if [ -s "$tmp/out" ]; then
        cat "$tmp/out"
        status=1
    fi
done
exit $status
