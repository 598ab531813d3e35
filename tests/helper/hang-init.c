/* An /init that never finishes: the hang the harness must catch. */
#include <unistd.h>

int main(void)
{
	for (;;)
		pause();
}
