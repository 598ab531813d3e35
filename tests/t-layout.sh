#!/bin/sh
# The shape of the code, checked so it stays so: no function in runners/
# or bench/ longer than 100 lines.
. "$(dirname "$0")/lib.sh"
long=$top/tests/helper/long-functions.sh

# The check itself, on a function of 100 lines and one of 101.
fixture() {	# fixture NAME BODY-LINES: a function of BODY-LINES + 3 lines
	printf 'static int %s(void)\n{\n' "$1"
	i=0
	while [ $i -lt "$2" ]; do echo "	x++;"; i=$((i + 1)); done
	echo "}"
}
{ fixture fits 97; echo; fixture too_long 98; } > "$work/shape.c"
sh "$long" "$work/shape.c" > "$work/long.out"
rc=$?
sed 's/^/# /' "$work/long.out"
[ $rc = 1 ] && [ "$(wc -l < "$work/long.out")" = 1 ] && grep -q ':102: too_long() 101 lines$' "$work/long.out"
ok $? "the check lists a function of 101 lines, not one of 100, and fails"

(cd "$top" && sh "$long" runners/*.c runners/*.h bench/*.c bench/*.h) > "$work/long.out"
rc=$?
sed 's/^/# /' "$work/long.out"
[ $rc = 0 ]
ok $? "no function in runners/ or bench/ is longer than 100 lines"
done_testing
