/* libFuzzer: /proc/vmstat, /proc/self/status, smaps, zoneinfo and THP knob text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), choice[32];
	uint64_t v;
	long long kb;
	struct pcp_state pcp;

	memcpy(text, data, size);
	text[size] = '\0';
	parse_vmstat(text, "pglazyfreed", &v);
	parse_status_kb(text, "VmPTE", &kb);
	parse_knob(text, choice, sizeof(choice));
	smaps_kb(text, "AnonHugePages", 0x1000, 0x200000);
	parse_pcp(text, 0, &pcp);
	free(text);
	return 0;
}
