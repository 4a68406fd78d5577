/* escape.c - the one place text is made safe for HTML and for terminals. */
#include <stdint.h>
#include <string.h>

#include "escape.h"

void
kb_html_escape(struct kb_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		kb_buf_add(b, run, (size_t)(s - run));
		kb_buf_adds(b, rep);
		run = s + 1;
	}
	kb_buf_add(b, run, (size_t)(s - run));
}

char *
kb_snippet_html(const char *marked)
{
	struct kb_buf b, piece;
	bool open = false;
	const char *s;

	kb_buf_init(&b);
	kb_buf_init(&piece);
	kb_buf_add(&b, "", 0);
	for (s = marked; *s; s++) {
		if (*s != KB_HL_START && *s != KB_HL_END) {
			kb_buf_addc(&piece, *s);
			continue;
		}
		if (piece.len) {
			kb_html_escape(&b, piece.data);
			kb_buf_reset(&piece);
		}
		if (*s == KB_HL_START && !open) {
			kb_buf_adds(&b, "<mark>");
			open = true;
		} else if (*s == KB_HL_END && open) {
			kb_buf_adds(&b, "</mark>");
			open = false;
		}
	}
	if (piece.len)
		kb_html_escape(&b, piece.data);
	if (open)
		kb_buf_adds(&b, "</mark>");
	kb_buf_free(&piece);
	return kb_buf_steal(&b);
}

char *
kb_snippet_plain(const char *marked)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (; *marked; marked++)
		if (*marked != KB_HL_START && *marked != KB_HL_END)
			kb_buf_addc(&b, *marked);
	return kb_buf_steal(&b);
}

static bool
term_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
	       (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
	       cp == 0x200F;
}

void
kb_term_text(struct kb_buf *b, const char *s, bool color)
{
	size_t n = strlen(s), i = 0, k;
	bool open = false;
	uint32_t cp;

	while (i < n) {
		if (s[i] == KB_HL_START || s[i] == KB_HL_END) {
			if (color && s[i] == KB_HL_START && !open) {
				kb_buf_adds(b, "\033[1;33m");
				open = true;
			} else if (color && s[i] == KB_HL_END && open) {
				kb_buf_adds(b, "\033[0m");
				open = false;
			}
			i++;
			continue;
		}
		k = kb_utf8_decode(s + i, n - i, &cp);
		if (cp == '\n' || cp == '\t')
			kb_buf_addc(b, ' ');
		else if (!term_unsafe(cp))
			kb_utf8_encode(b, cp);
		i += k;
	}
	if (open)
		kb_buf_adds(b, "\033[0m");
}
