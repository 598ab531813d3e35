#!/bin/sh
# long-functions.sh [-m MAX] FILE...: the C functions longer than MAX lines
# (100 by default), counted from the line that names the function to its
# closing brace, one "FILE:LINE: NAME() N lines" each; exits 1 when it
# lists any.  It reads the layout every file here keeps (the kernel's): a
# function's body opens with "{" and closes with "}" at the start of a line.
max=100
if [ "$1" = -m ]; then max=$2; shift 2; fi
awk -v max="$max" '
FNR == 1 { head = 0; body = 0 }
!body && /^[A-Za-z_]/ { head = FNR; name = $0 }
!body && /^\{/ { body = 1; if (!head) head = FNR }
body && /^\}/ {
	len = FNR - head + 1
	if (len > max) {
		fn = name
		if (match(fn, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/))
			fn = substr(fn, RSTART, RLENGTH - 1)
		sub(/[ \t]+$/, "", fn)
		printf "%s:%d: %s() %d lines\n", FILENAME, head, fn, len
		long = 1
	}
	body = 0; head = 0
}
END { exit long }
' "$@"
