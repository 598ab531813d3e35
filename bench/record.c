#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static int needs_escape(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '%' || c == '=' || c == '*';
}

int record_field(char *payload, size_t cap, const char *key, const char *value)
{
	size_t n = strlen(payload);
	int w = snprintf(payload + n, cap - n, " %s=", key);

	if (w < 0 || (size_t)w >= cap - n)
		return -1;
	n += w;
	for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
		if (n + 4 >= cap)
			return -1;
		if (needs_escape(*v))
			n += sprintf(payload + n, "%%%02X", *v);
		else
			payload[n++] = *v;
	}
	payload[n] = '\0';
	return 0;
}

int record_frame(char *out, size_t cap, unsigned long seq, const char *payload)
{
	int n = snprintf(out, cap, RECORD_MAGIC " %lu %s", seq, payload);

	if (n < 0 || (size_t)n + 12 >= cap)
		return -1;
	return n + snprintf(out + n, cap - n, " *%08x\n", crc32_update(0, out, n));
}

/* %XX: exactly two hex digits (sscanf's %x would take a sign or one
 * digit), never a NUL, which would cut the value short unseen. */
static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		int hi, lo;

		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if ((hi = hex(r[1])) < 0 || (lo = hex(r[2])) < 0 || !(hi | lo))
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

int record_parse(const char *line, struct record *r, const char **why)
{
	size_t len = strcspn(line, "\r\n");
	char *star, *end, *tok, *save;
	unsigned long crc;

	memset(r, 0, sizeof(*r));
	if (len >= sizeof(r->buf)) {
		*why = "line too long";
		return -1;
	}
	memcpy(r->buf, line, len);
	r->buf[len] = '\0';
	star = strrchr(r->buf, '*');
	if (strncmp(r->buf, RECORD_MAGIC " ", 4) || !star || star == r->buf || star[-1] != ' ') {
		*why = "not a record line";
		return -1;
	}
	crc = strtoul(star + 1, &end, 16);
	if (end != star + 9 || *end) {
		*why = "malformed checksum";
		return -1;
	}
	if (crc != crc32_update(0, r->buf, star - 1 - r->buf)) {
		*why = "bad checksum";
		return -1;
	}
	star[-1] = '\0';
	tok = strtok_r(r->buf + 4, " ", &save);
	errno = 0;
	if (!tok || strspn(tok, "0123456789") != strlen(tok) || (r->seq = strtoul(tok, &end, 10), *end) ||
	    errno == ERANGE) {
		*why = "bad sequence number";
		return -1;
	}
	tok = strtok_r(NULL, " ", &save);
	if (!tok || strlen(tok) >= sizeof(r->kind)) {
		*why = "bad record kind";
		return -1;
	}
	strcpy(r->kind, tok);
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || r->nfields == RECORD_MAX_FIELDS) {
			*why = "bad field";
			return -1;
		}
		*eq = '\0';
		for (int i = 0; i < r->nfields; i++)
			if (!strcmp(r->key[i], tok)) {
				*why = "repeated field";
				return -1;
			}
		if (unescape(eq + 1)) {
			*why = "bad escape";
			return -1;
		}
		r->key[r->nfields] = tok;
		r->val[r->nfields++] = eq + 1;
	}
	return 0;
}

const char *record_get(const struct record *r, const char *key)
{
	for (int i = 0; i < r->nfields; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NULL;
}
