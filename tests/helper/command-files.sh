#!/bin/sh
# command-files.sh [OBJDIR]: the files of runners/ that hold a command (a
# cmd_* of main.c's table) and also a function or variable another file
# uses, from the objects in OBJDIR (build/obj): one "FILE.c: SYMBOL <- USERS"
# line each; exits 1 when it lists any.
o=${1:-build/obj}
cmds=$(nm -u "$o/runners/main.o" | awk '$2 ~ /^cmd_/ { print $2 }')
found=0
for obj in "$o"/runners/*.o; do
	[ "$obj" = "$o/runners/main.o" ] && continue
	globals=$(nm --defined-only "$obj" | awk '$2 ~ /^[TDBR]$/ { print $3 }')
	echo "$globals" | grep -qxF "$cmds" || continue
	for sym in $(echo "$globals" | grep -vxF "$cmds"); do
		users=$(for other in "$o"/runners/*.o "$o"/bench/*.o; do
			[ "$other" = "$obj" ] || [ ! -f "$other" ] && continue
			nm -u "$other" | awk -v s="$sym" '$2 == s { found = 1 } END { exit !found }' &&
				basename "$other" .o
		done | tr '\n' ' ')
		[ -n "$users" ] || continue
		echo "$(basename "$obj" .o).c: $sym <- $users"
		found=1
	done
done
exit $found
