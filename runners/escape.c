/* The escapes of text that came from outside (a guest, a database, a
 * patch, a tree) on its way out: to a terminal, in JSON, in CSV.  The
 * report's own (gnuplot labels, HTML) are in report.c. */
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

/* The length of the valid UTF-8 sequence at s and its code point, or 0
 * when the bytes there are not UTF-8 (a stray continuation byte, an
 * overlong form, a surrogate, past U+10FFFF, cut short by the end). */
static int utf8_seq(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0], n, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, min = 0x80, *cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 2, min = 0x800, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, min = 0x10000, *cp = c & 0x07;
	else
		return 0;
	for (unsigned i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* the terminating NUL stops here too */
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* A control character: C0, DEL, or C1 (U+0080..U+009F, which some
 * terminals take as ESC [ and the like); and the invisible format
 * characters that reorder or hide what is shown around them: the
 * bidirectional marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A..E, U+2066..9), zero-width ones and the BOM. */
static int control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* Text for a terminal: each byte of a control character or of something
 * that is not UTF-8 becomes a visible \xNN, so no escape sequence (ESC,
 * CSI, a bare CR that overwrites the line) reaches the terminal; with
 * lines, '\n' and '\t' stay.  The result lives until eight more calls,
 * so one printf can show several. */
static const char *shown_text(const char *s, int lines)
{
	static char *ring[8];
	static unsigned next;
	char *out, *o;

	if (!s)
		return "";
	o = out = malloc(4 * strlen(s) + 1);
	if (!out)	/* not die(): its message comes through here */
		return "(text too long to show: out of memory)";
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned cp;
		int n = utf8_seq(p, &cp);

		if (n && (!control(cp) || (lines && (cp == '\n' || cp == '\t')))) {
			memcpy(o, p, n);
			o += n, p += n;
			continue;
		}
		for (int i = 0; i < (n ? n : 1); i++)
			o += sprintf(o, "\\x%02x", *p++);
	}
	*o = '\0';
	free(ring[next % 8]);
	ring[next++ % 8] = out;
	return out;
}

const char *shown(const char *s)
{
	return shown_text(s, 0);
}

const char *shown_lines(const char *s)
{
	return shown_text(s, 1);
}

/* A JSON string (RFC 8259): quote and backslash escaped, every control
 * character as \u00XX (C1 and DEL too, so a JSON file shown on a terminal
 * is safe), U+2028/U+2029 escaped for JavaScript's sake, and a byte that
 * is not UTF-8 as U+FFFD, so the output is always valid UTF-8. */
void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
		unsigned cp;
		int n = utf8_seq(p, &cp);

		if (!n)
			fputs("\\ufffd", f), n = 1;
		else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (control(cp) || cp == 0x2028 || cp == 0x2029)
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/* A CSV field (RFC 4180): the text as a terminal would be shown it (one
 * line, no control character, UTF-8), in double quotes with each quote
 * doubled when it holds a comma, a quote or a space at either end. */
void csv_field(FILE *f, const char *s)
{
	const char *t = shown(s);
	size_t len = strlen(t);

	if (!strpbrk(t, ",\"") && (!len || (t[0] != ' ' && t[len - 1] != ' '))) {
		fputs(t, f);
		return;
	}
	fputc('"', f);
	for (; *t; t++) {
		if (*t == '"')
			fputc('"', f);
		fputc(*t, f);
	}
	fputc('"', f);
}

/* Text in an HTML page (element content or a quoted attribute): markup
 * characters as entities, and what is not UTF-8 or is a control (but
 * newline and tab) as U+FFFD, so a page is valid UTF-8 and shows no
 * invisible reordering; whatever the text's length. */
void html_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
		unsigned cp;
		int n = utf8_seq(p, &cp);

		if (!n || (control(cp) && cp != '\n' && cp != '\t'))
			fputs("\xef\xbf\xbd", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
}
