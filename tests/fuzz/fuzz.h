/* fuzz.h - the fuzzing harnesses: one entry per target, shared by libFuzzer and
 * check_fuzz. */
#ifndef KB_FUZZ_H
#define KB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct kb_db;
struct kb_taxonomy;

/*
 * Each target takes any bytes and returns 0.  A broken invariant (output
 * that is not valid JSON, a fact naming a colour the taxonomy lacks ...)
 * is reported through kb_fuzz_fail, which aborts: libFuzzer records the
 * input as a crash, and check_fuzz's test fails.  Memory errors, leaks
 * and undefined behaviour are the sanitizers' to find.
 */
int kb_fuzz_query(const uint8_t *data, size_t size);
int kb_fuzz_article_md(const uint8_t *data, size_t size);
int kb_fuzz_article_txt(const uint8_t *data, size_t size);
int kb_fuzz_article_html(const uint8_t *data, size_t size);
int kb_fuzz_extract(const uint8_t *data, size_t size);
int kb_fuzz_taxonomy(const uint8_t *data, size_t size);
int kb_fuzz_http(const uint8_t *data, size_t size);

struct kb_fuzz_target {
	const char *name; /* as in tests/fuzz/seeds/NAME/ */
	int (*fn)(const uint8_t *data, size_t size);
};
extern const struct kb_fuzz_target kb_fuzz_targets[];
extern const size_t kb_fuzz_ntargets;

/* The input being run, named in failure messages when a runner sets it. */
extern const char *kb_fuzz_input_name;

void kb_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));
#define KB_FUZZ_CHECK(cond, ...)                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			kb_fuzz_fail(__VA_ARGS__);                             \
	} while (0)

struct kb_article;
struct kb_led_facts;
struct kb_strv;
/*
 * Facts name taxonomy colours and patterns, a meaning, a section, and a
 * taxonomy model or one of the article's models; none repeats another.
 */
void kb_fuzz_check_facts(const struct kb_article *a,
			 const struct kb_strv *models,
			 const struct kb_led_facts *f);
/* Text as it is indexed: valid UTF-8 without NUL or C0 controls but TAB and LF.
 */
void kb_fuzz_check_text(const char *what, const char *s);
/*
 * A page must not hold markup or a script link that came from its input:
 * "<zzfz" (a tag no template writes) or a javascript: URL.
 */
void kb_fuzz_check_html(const char *what, const char *page, size_t len);

/* data[0..size) as a NUL-terminated string (NULs inside kept). */
char *kb_fuzz_string(const uint8_t *data, size_t size);

/*
 * The harnesses' shared world, made on first use and removed at exit: a
 * taxonomy (models, symptoms, LED colours and patterns, synonyms) and an
 * index built from a few inline articles in Markdown, text and HTML.
 */
const struct kb_taxonomy *kb_fuzz_taxonomy_get(void);
const char *kb_fuzz_taxonomy_json(void);
const char *kb_fuzz_db_path(void);
struct kb_db *kb_fuzz_db(void);

#endif
