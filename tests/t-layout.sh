#!/bin/sh
# The shape of the code, checked so it stays so: no function in runners/
# or bench/ longer than 100 lines; no file of runners/ that holds a command
# holds what another file uses; no helper of bench/ that calls the
# benchmark layer; no test named by its output.
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

# Commands apart from the library, read from the objects' symbols.
cmdfiles=$top/tests/helper/command-files.sh
mkdir -p "$work/obj/runners" "$work/obj/bench"
printf 'int cmd_a(void);\nint main(void) { return cmd_a(); }\n' > "$work/main.c"
printf 'int shared(void) { return 0; }\nint cmd_a(void) { return shared(); }\n' > "$work/a.c"
printf 'int shared(void);\nint other(void) { return shared(); }\n' > "$work/b.c"
cc -c -o "$work/obj/runners/main.o" "$work/main.c" && cc -c -o "$work/obj/runners/a.o" "$work/a.c" &&
	cc -c -o "$work/obj/runners/b.o" "$work/b.c"
sh "$cmdfiles" "$work/obj" > "$work/cmd.out"
rc=$?
sed 's/^/# /' "$work/cmd.out"
[ $rc = 1 ] && [ "$(cat "$work/cmd.out")" = "a.c: shared <- b " ]
ok $? "the check lists a command's file that holds a function another file calls, and fails"

if [ -f "$top/build/obj/runners/main.o" ]; then
	sh "$cmdfiles" "$top/build/obj" > "$work/cmd.out"
	rc=$?
	sed 's/^/# /' "$work/cmd.out"
	[ $rc = 0 ]
	ok $? "no file in runners/ holds both a command and what another file uses"
else
	skip "no objects in build/obj: make all first"
fi

# bench/'s helpers on libc alone, read from the objects' symbols.
helpercalls=$top/tests/helper/helper-calls.sh
mkdir -p "$work/hobj/bench"
printf 'int metric(void) { return 0; }\n' > "$work/lib.c"
printf 'int metric(void);\nint parse(void) { return metric(); }\n' > "$work/bad.c"
printf 'int strlen_of(const char *s) { return s[0]; }\n' > "$work/good.c"
cc -c -o "$work/hobj/bench/lib.o" "$work/lib.c" && cc -c -o "$work/hobj/bench/bad.o" "$work/bad.c" &&
	cc -c -o "$work/hobj/bench/good.o" "$work/good.c"
sh "$helpercalls" "$work/hobj" bench/bad.c bench/good.c > "$work/helper.out"
rc=$?
sed 's/^/# /' "$work/helper.out"
[ $rc = 1 ] && [ "$(cat "$work/helper.out")" = "bad.o: metric <- lib.o" ]
ok $? "the check lists a helper that calls the benchmark layer, not one on libc alone, and fails"

if [ -f "$top/build/obj/bench/lib.o" ]; then
	sh "$helpercalls" "$top/build/obj" $(sed -n 's/^BENCH_HELPERS := //p' "$top/Makefile") > "$work/helper.out"
	rc=$?
	sed 's/^/# /' "$work/helper.out"
	[ $rc = 0 ]
	ok $? "no helper of bench/ calls the benchmark layer"
else
	skip "no objects in build/obj: make all first"
fi

# Test names: the same in every run, so a test is known by its name.
names=$top/tests/helper/test-names.py
printf '%s\n' 'for v in a b; do ok $? "fixed $v"; done' 'ok $? "fixed" "diagnostic $(date)"' \
	'ok $? "named by its exit ($rc)"' 'ok $? "named by output: $(cat f)"' > "$work/names.sh"
python3 "$names" "$work/names.sh" > "$work/names.out"
rc=$?
sed 's/^/# /' "$work/names.out"
[ $rc = 1 ] && [ "$(cut -d: -f2 "$work/names.out" | tr '\n' ' ')" = "3 4 " ]
ok $? "the check lists names holding a value or output, not loop names or diagnostics, and fails"

for f in "$top"/tests/t-*.sh "$top"/tests/experiments/*.sh; do [ -f "$f" ] && echo "$f"; done |
	xargs python3 "$names" > "$work/names.out"
rc=$?
sed 's/^/# /' "$work/names.out"
[ $rc = 0 ]
ok $? "no test in tests/ is named by a value or an output"
done_testing
