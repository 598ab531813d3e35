/* libFuzzer: a variant spec file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runners/reclaimbench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct variant_set set;
	char *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	variants_parse(FIXTURES "/fuzz.conf", text, &set);
	variants_free(&set);
	free(text);
	return 0;
}
