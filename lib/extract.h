/* extract.h - pull LED facts (colour + pattern -> meaning) out of article text. */
#ifndef KB_EXTRACT_H
#define KB_EXTRACT_H

#include <stddef.h>

#include "article.h"
#include "taxonomy.h"

struct kb_led_fact {
	char *model;   /* model display name, or NULL when generic */
	char *color;   /* colour id from the taxonomy, e.g. "red" */
	char *pattern; /* pattern id, e.g. "solid", "blinking" */
	char *meaning; /* short clause: "charging", "battery low" */
	size_t section; /* index into the article's sections */
};

struct kb_led_facts {
	struct kb_led_fact *v;
	size_t n;
};

/*
 * Extract LED facts from every section of a (tagged) article.  Shapes
 * recognised, in list items, table rows and sentences:
 *   "Solid Red: it indicates that the speaker is charging"
 *   "blinking red - battery low"  (also en/em dash, '=', '->')
 *   "a solid white light means it is fully charged"
 *   "| Solid red | Charging |"
 * A colour without a pattern word gets pattern "solid" only when the
 * sentence says "light"/"LED"/"indicator" and nothing suggests blinking.
 * The model is one named on the same line, else the section's single
 * model, else the article's single model, else NULL.  Duplicate facts
 * (same model, colour, pattern) keep the first.
 */
void kb_extract_leds(const struct kb_taxonomy *t, const struct kb_article *a,
		     const struct kb_strv *article_models,
		     struct kb_led_facts *out);
void kb_led_facts_free(struct kb_led_facts *f);

#endif
