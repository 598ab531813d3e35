/* libFuzzer: one guest record line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record r;
	char *line = malloc(size + 1);
	const char *why;

	memcpy(line, data, size);
	line[size] = '\0';
	if (record_parse(line, &r, &why) == 0) {
		for (int i = 0; i < r.nfields; i++)
			(void)record_get(&r, r.key[i]);
	}
	free(line);
	return 0;
}
