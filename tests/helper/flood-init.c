/* An /init that writes to the console without end: the flood the
 * harness must bound. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[4096];
	int fd = open("/dev/console", O_WRONLY);

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (;;)
		if (write(fd < 0 ? 1 : fd, line, sizeof(line)) < 0)
			pause();
}
