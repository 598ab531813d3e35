/* The Markdown of reports/method.md as HTML, for the report's method page.
 * Only the subset that document uses: ATX headings, paragraphs, "- "
 * lists (continued by indented lines), fenced code blocks, pipe tables,
 * and `code` and **bold** inside text.  Every character of the document
 * goes out through html_text(); markup comes only from this file's own
 * strings, so nothing written in the document becomes markup. */
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

enum md_block { MD_NONE, MD_PARA, MD_ITEM, MD_TABLE, MD_CODE };

struct md {
	FILE *f;
	enum md_block in;
	int list_open, table_rows;
	char *text;		/* the paragraph or list item being gathered */
	size_t len, cap;
};

static void md_text(FILE *f, const char *s, size_t n)
{
	char *t = xasprintf("%.*s", (int)n, s);

	html_text(f, t);
	free(t);
}

/* Text with `code` and **bold** spans; an opening mark without its
 * closing one is text. */
static void md_inline(FILE *f, const char *s, size_t n, int bold_ok)
{
	size_t i = 0, start = 0;

	while (i < n) {
		const char *end;

		if (s[i] == '`' && (end = memchr(s + i + 1, '`', n - i - 1))) {
			md_text(f, s + start, i - start);
			fputs("<code>", f);
			md_text(f, s + i + 1, end - s - i - 1);
			fputs("</code>", f);
			i = start = end - s + 1;
		} else if (bold_ok && i + 1 < n && s[i] == '*' && s[i + 1] == '*' &&
			   (end = memmem(s + i + 2, n - i - 2, "**", 2))) {
			md_text(f, s + start, i - start);
			fputs("<strong>", f);
			md_inline(f, s + i + 2, end - s - i - 2, 0);
			fputs("</strong>", f);
			i = start = end - s + 2;
		} else {
			i++;
		}
	}
	md_text(f, s + start, n - start);
}

static void md_gather(struct md *m, const char *s, size_t n)
{
	if (m->len + n + 2 > m->cap) {
		m->cap = (m->len + n + 2) * 2;
		m->text = realloc(m->text, m->cap);
		if (!m->text)
			die(EXIT_INFRA, "out of memory");
	}
	if (m->len)
		m->text[m->len++] = '\n';
	memcpy(m->text + m->len, s, n);
	m->len += n;
}

/* Ends the block being gathered; a list stays open for its next item. */
static void md_flush(struct md *m)
{
	if (m->in == MD_PARA || m->in == MD_ITEM) {
		fputs(m->in == MD_PARA ? "<p>" : "<li>", m->f);
		md_inline(m->f, m->text, m->len, 1);
		fputs(m->in == MD_PARA ? "</p>\n" : "</li>\n", m->f);
	} else if (m->in == MD_TABLE) {
		fputs("</table>\n", m->f);
	}
	m->in = MD_NONE;
	m->len = 0;
}

static void md_end_list(struct md *m)
{
	md_flush(m);
	if (m->list_open)
		fputs("</ul>\n", m->f);
	m->list_open = 0;
}

/* A heading, with an id made of its letters and digits (nothing else of
 * the text reaches the attribute). */
static void md_heading(struct md *m, const char *line, size_t n)
{
	int level = 0;

	while (level < (int)n && line[level] == '#')
		level++;
	line += level, n -= level;
	while (n && *line == ' ')
		line++, n--;
	level = level > 6 ? 6 : level;
	fprintf(m->f, "<h%d id=\"", level);
	for (size_t i = 0, dash = 0; i < n; i++) {
		char c = line[i] | (line[i] >= 'A' && line[i] <= 'Z' ? 0x20 : 0);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash)
				fputc('-', m->f);
			fputc(c, m->f), dash = 0;
		} else {
			dash = 1;
		}
	}
	fputs("\">", m->f);
	md_inline(m->f, line, n, 1);
	fprintf(m->f, "</h%d>\n", level);
}

/* A row of a pipe table: the first is the header, a row of dashes is the
 * rule under it; "\|" is a bar inside a cell. */
static void md_table_row(struct md *m, const char *line, size_t n)
{
	const char *tag = m->table_rows ? "td" : "th";
	char *cell = malloc(n + 1);
	size_t c = 0;

	if (!cell)
		die(EXIT_INFRA, "out of memory");
	if (strspn(line, "|-: ") >= n) {
		free(cell);
		return;
	}
	if (m->in != MD_TABLE) {
		md_end_list(m);
		fputs("<table>\n", m->f);
		m->in = MD_TABLE, m->table_rows = 0;
		tag = "th";
	}
	fputs("<tr>", m->f);
	for (size_t i = 1; i < n; i++) {
		if (line[i] == '\\' && i + 1 < n && line[i + 1] == '|') {
			cell[c++] = '|', i++;
		} else if (line[i] != '|') {
			cell[c++] = line[i];
		} else {
			size_t b = 0, e = c;

			while (b < e && cell[b] == ' ')
				b++;
			while (e > b && cell[e - 1] == ' ')
				e--;
			fprintf(m->f, "<%s>", tag);
			md_inline(m->f, cell + b, e - b, 1);
			fprintf(m->f, "</%s>", tag);
			c = 0;
		}
	}
	fputs("</tr>\n", m->f);
	m->table_rows++;
	free(cell);
}

static void md_line(struct md *m, const char *line, size_t n)
{
	if (m->in == MD_CODE) {
		if (n >= 3 && !strncmp(line, "```", 3)) {
			fputs("</code></pre>\n", m->f);
			m->in = MD_NONE;
		} else {
			md_text(m->f, line, n);
			fputc('\n', m->f);
		}
	} else if (n >= 3 && !strncmp(line, "```", 3)) {
		md_end_list(m);
		fputs("<pre><code>", m->f);
		m->in = MD_CODE;
	} else if (strspn(line, " \t") >= n) {
		md_end_list(m);
	} else if (line[0] == '#') {
		md_end_list(m);
		md_heading(m, line, n);
	} else if (n >= 2 && line[0] == '-' && line[1] == ' ') {
		if (m->in != MD_ITEM)
			md_end_list(m);
		md_flush(m);
		if (!m->list_open)
			fputs("<ul>\n", m->f);
		m->list_open = 1, m->in = MD_ITEM;
		md_gather(m, line + 2, n - 2);
	} else if (line[0] == '|') {
		md_table_row(m, line, n);
	} else {
		if (m->in != MD_ITEM && m->in != MD_PARA) {
			md_end_list(m);
			m->in = MD_PARA;
		}
		while (n && *line == ' ')
			line++, n--;
		md_gather(m, line, n);
	}
}

void markdown_html(FILE *f, const char *md)
{
	struct md m = { .f = f };

	for (const char *line = md; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		md_line(&m, line, n);
		line += n + (nl != NULL);
	}
	if (m.in == MD_CODE)
		fputs("</code></pre>\n", f);
	else
		md_end_list(&m);
	free(m.text);
}
