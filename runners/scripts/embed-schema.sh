#!/bin/sh
# Emit the numbered migrations of schema/ as a C array, in order; the
# position of each (1, 2, ...) is the PRAGMA user_version it brings.
set -eu
echo '/* generated from schema/ by runners/scripts/embed-schema.sh; do not edit */'
echo 'const char *const schema_sql[] = {'
n=0
for f in "$@"; do
	n=$((n + 1))
	case $(basename "$f") in
	"$(printf '%03d' $n)"_*.sql) ;;
	*) echo "embed-schema: '$f' should be numbered $(printf '%03d' $n)_NAME.sql" >&2; exit 2;;
	esac
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
	echo '	,'
done
echo '};'
echo "const int schema_count = $n;"
