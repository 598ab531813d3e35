/* Kernel knobs: the THP switches and the pcp high fraction, saved before
 * a benchmark and restored after it (after the kernel's
 * tools/testing/selftests/mm/thp_settings.c), and set for one mTHP size. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_KNOBS 32
static struct {
	char path[128];
	char value[32];
} saved[MAX_KNOBS];
static int nsaved;

static int save_one(const char *path)
{
	char buf[256];

	if (nsaved == MAX_KNOBS || read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (parse_knob(buf, saved[nsaved].value, sizeof(saved[nsaved].value)))
		return -1;
	snprintf(saved[nsaved].path, sizeof(saved[nsaved].path), "%s", path);
	nsaved++;
	return 0;
}

int knobs_save(void)
{
	DIR *d = opendir(THP_DIR);
	struct dirent *e;
	char path[300];

	nsaved = 0;
	/* pt_reclaim changes the pcp limits for a moment to settle its list. */
	if (access(PCP_FRACTION_KNOB, F_OK) == 0)
		save_one(PCP_FRACTION_KNOB);
	if (!d)
		return nsaved;	/* no THP: nothing else a benchmark can change */
	save_one(THP_DIR "/enabled");
	save_one(THP_DIR "/defrag");
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		snprintf(path, sizeof(path), THP_DIR "/%s/enabled", e->d_name);
		save_one(path);
	}
	closedir(d);
	return nsaved;
}

int knobs_restore(void)
{
	char buf[256], now[32];
	int bad = 0;

	for (int i = 0; i < nsaved; i++) {
		if (read_text(saved[i].path, buf, sizeof(buf)) > 0 &&
		    !parse_knob(buf, now, sizeof(now)) && !strcmp(now, saved[i].value))
			continue;
		if (write_text(saved[i].path, saved[i].value)) {
			fprintf(stderr, "error: cannot restore '%s' to '%s': %s\n", saved[i].path,
				saved[i].value, strerror(errno));
			bad = -1;
		}
	}
	return bad;
}

int thp_write(const char *rel, const char *value)
{
	char path[400];

	snprintf(path, sizeof(path), THP_DIR "/%s", rel);
	return write_text(path, value);
}

static int thp_set(const char *rel, const char *value, struct why *w)
{
	if (thp_write(rel, value))
		return why_set(w, HELP_MISSING, "cannot write '%s' to %s/%s: %s (run as root on a THP kernel)",
			       value, THP_DIR, rel, strerror(errno));
	return HELP_OK;
}

int thp_only_size_set(unsigned long kb, const char *mode, char *mthp_dir, size_t cap, struct why *w)
{
	DIR *d = opendir(THP_DIR);
	struct dirent *e;
	char rel[300], path[400], want[64];
	int found = 0, ret = HELP_OK;

	if (!d)
		return why_set(w, HELP_MISSING, "no %s: kernel without CONFIG_TRANSPARENT_HUGEPAGE", THP_DIR);
	snprintf(want, sizeof(want), "hugepages-%lukB", kb);
	while (ret == HELP_OK && (e = readdir(d))) {
		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		snprintf(rel, sizeof(rel), "%s/enabled", e->d_name);
		snprintf(path, sizeof(path), THP_DIR "/%s", rel);
		if (access(path, F_OK))
			continue;	/* a size without its own switch */
		if (!strcmp(e->d_name, want)) {
			found = 1;
			ret = thp_set(rel, mode, w);
		} else {
			ret = thp_set(rel, "never", w);
		}
	}
	closedir(d);
	if (ret == HELP_OK && kb && !found)
		return why_set(w, HELP_MISSING, "no %s/%s: this kernel has no %lu kB mTHP size", THP_DIR,
			       want, kb);
	if (kb)
		snprintf(mthp_dir, cap, THP_DIR "/%s", want);
	return ret;
}
