/* fuzzutil.c - what the fuzzing harnesses share: failure reports, a taxonomy, a
 * small index. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "article.h"
#include "db.h"
#include "fuzz.h"
#include "index.h"
#include "taxonomy.h"
#include "util.h"

const struct kb_fuzz_target kb_fuzz_targets[] = {
    {"query", kb_fuzz_query},
    {"article_md", kb_fuzz_article_md},
    {"article_txt", kb_fuzz_article_txt},
    {"article_html", kb_fuzz_article_html},
    {"extract", kb_fuzz_extract},
    {"taxonomy", kb_fuzz_taxonomy},
    {"http", kb_fuzz_http},
};
const size_t kb_fuzz_ntargets =
    sizeof(kb_fuzz_targets) / sizeof(kb_fuzz_targets[0]);

const char *kb_fuzz_input_name;

void
kb_fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	if (kb_fuzz_input_name != NULL)
		fprintf(stderr, "%s: ", kb_fuzz_input_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *
kb_fuzz_string(const uint8_t *data, size_t size)
{
	char *s = kb_xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A taxonomy shaped like kb/taxonomy.json, small enough to read: aliases
 * with digits and spacing variants, a brand with two models, symptom
 * phrases with negations, LED words with synonyms, multi-word synonyms.
 */
static const char taxonomy_json[] =
    "{\"models\": ["
    " {\"id\": \"anker-soundcore-2\", \"brand\": \"Anker\","
    "  \"name\": \"Anker Soundcore 2\", \"aliases\": [\"soundcore 2\","
    "  \"soundcore2\", \"sound core 2\", \"soundcore ii\"]},"
    " {\"id\": \"anker-soundcore-3\", \"brand\": \"Anker\","
    "  \"name\": \"Anker Soundcore 3\", \"aliases\": [\"soundcore 3\"]},"
    " {\"id\": \"jbl-flip-5\", \"brand\": \"JBL\", \"name\": \"JBL Flip 5\","
    "  \"aliases\": [\"flip 5\", \"flip5\"]},"
    " {\"id\": \"ue-boom-3\", \"brand\": \"Ultimate Ears\","
    "  \"name\": \"Ultimate Ears Boom 3\", \"aliases\": [\"ue boom 3\","
    "  \"boom 3\", \"boom3\"]}],"
    "\"symptoms\": ["
    " {\"id\": \"wont-charge\", \"label\": \"Won't charge\","
    "  \"phrases\": [\"won't charge\", \"not charging\","
    "  \"doesn't charge\", \"no charging light\"]},"
    " {\"id\": \"wont-hold-charge\", \"label\": \"Won't hold a charge\","
    "  \"phrases\": [\"won't hold a charge\", \"battery drains fast\","
    "  \"dies after an hour\"]},"
    " {\"id\": \"wont-fully-charge\", \"label\": \"Won't fully charge\","
    "  \"phrases\": [\"not full\", \"never reaches 100%\"]},"
    " {\"id\": \"led-indicator\", \"label\": \"LED indicator\","
    "  \"phrases\": [\"led meaning\", \"light means\"]}],"
    "\"led\": {"
    " \"colors\": [{\"id\": \"red\", \"synonyms\": [\"red\"]},"
    "  {\"id\": \"white\", \"synonyms\": [\"white\"]},"
    "  {\"id\": \"blue\", \"synonyms\": [\"blue\"]},"
    "  {\"id\": \"amber\", \"synonyms\": [\"amber\", \"orange\","
    "  \"yellow\"]}],"
    " \"patterns\": [{\"id\": \"solid\", \"synonyms\": [\"solid\","
    "  \"steady\", \"constant\"]},"
    "  {\"id\": \"blinking\", \"synonyms\": [\"blinking\", \"flashing\","
    "  \"blinks\"]},"
    "  {\"id\": \"pulsing\", \"synonyms\": [\"pulsing\", \"breathing\"]},"
    "  {\"id\": \"off\", \"synonyms\": [\"off\", \"no light\"]}]},"
    "\"synonyms\": [[\"cable\", \"cord\", \"lead\"],"
    " [\"socket\", \"outlet\", \"wall socket\"],"
    " [\"disassemble\", \"take apart\", \"open up\"],"
    " [\"battery\", \"cell\"]]}";

/* The articles of the shared index: one of each format. */
static const struct {
	const char *path;
	const char *text;
} docs[] = {
    {"soundcore-2-led.md",
     "---\n"
     "title: Anker Soundcore 2 LED indicator meanings\n"
     "models: [Anker Soundcore 2]\n"
     "symptoms: [led-indicator, wont-fully-charge]\n"
     "summary: What the light on top says.\n"
     "---\n"
     "The light on top of the speaker tells you its state.\n\n"
     "## What the LED on top means\n\n"
     "| Light | Meaning |\n|---|---|\n"
     "| Solid red | Charging |\n| Solid white | Fully charged |\n"
     "| Blinking red | Battery low |\n\n"
     "## Solid red light that never turns white\n\n"
     "A *solid red* light means the speaker is charging. If it never "
     "turns white, try another **cable** and a wall socket.\n\n"
     "1. Unplug the cable.\n2. Wait 10 seconds.\n3. Plug it back in.\n"},
    {"speaker-wont-charge.md",
     "# Speaker won't charge\n\n"
     "Most speakers that won't charge have a dirty port or a bad "
     "cord.\n\n"
     "## Clean the charging port\n\n"
     "Blow out lint, then check the pins. `Don't` use metal.\n\n"
     "## Replace the battery\n\n"
     "If the JBL Flip 5 battery drains fast, take apart the case.\n\n"
     "- Flashing amber: the battery is too hot\n"
     "- No light at all: the battery is dead\n"},
    {"boom-3-reset.txt",
     "How to reset an Ultimate Ears Boom 3\n\n"
     "Reset the Speaker\n\n"
     "Hold the power and volume down buttons for 10 seconds until the "
     "light blinks blue.\n\n"
     "2. Update the Firmware\n\n"
     "Use the app. A steady white light means the update finished.\n"},
    {"soundcore-3-help.html",
     "<!DOCTYPE html><html><head><title>Soundcore 3 not charging"
     "</title><meta name=\"keywords\" content=\"Anker Soundcore 3\">"
     "</head><body><nav>Home</nav><h1>Soundcore 3 not charging</h1>"
     "<p>If your Soundcore 3 is not charging, read on.</p>"
     "<h2>Try another charger</h2><p>Use a 5&nbsp;V charger &amp; a "
     "good cable.</p><ul><li>Pulsing white &ndash; charging</li>"
     "<li>Off = fully charged</li></ul><script>var x = 1;</script>"
     "<h3>Still dead?</h3><p>Contact support.</p>"
     "<footer>(c)</footer></body></html>"},
};

static struct kb_taxonomy *tax;
static char *dir, *db_path;
static struct kb_db *db;

const char *
kb_fuzz_taxonomy_json(void)
{
	return taxonomy_json;
}

const struct kb_taxonomy *
kb_fuzz_taxonomy_get(void)
{
	struct kb_error err;

	if (tax == NULL &&
	    kb_taxonomy_parse("fuzz-taxonomy", taxonomy_json,
			      strlen(taxonomy_json), &tax, &err) != KB_OK)
		kb_fuzz_fail("built-in taxonomy: %s", err.msg);
	return tax;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
cleanup(void)
{
	kb_db_close(db);
	db = NULL;
	kb_taxonomy_free(tax);
	tax = NULL;
	if (dir != NULL)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(db_path);
	free(dir);
	db_path = dir = NULL;
}

static void
build_index(void)
{
	const char *base = getenv("TMPDIR");
	struct kb_index *ix = NULL;
	struct kb_error err;
	size_t i;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	dir = kb_xasprintf("%s/kbfuzz.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		kb_fuzz_fail("mkdtemp %s: %s", dir, strerror(errno));
	atexit(cleanup);
	db_path = kb_xasprintf("%s/kb.db", dir);
	if (kb_index_begin(db_path, true, kb_fuzz_taxonomy_get(), &ix, &err) !=
	    KB_OK)
		kb_fuzz_fail("index %s: %s", db_path, err.msg);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct kb_article *a = NULL;
		size_t len = strlen(docs[i].text);
		char hash[17];

		kb_hash_hex(docs[i].text, len, hash);
		kb_index_unchanged(ix, docs[i].path, hash);
		if (kb_article_parse(kb_article_format_of(docs[i].path),
				     docs[i].path, docs[i].text, len, &a,
				     &err) != KB_OK ||
		    kb_index_put(ix, docs[i].path, hash, a, &err) != KB_OK)
			kb_fuzz_fail("index %s: %s", docs[i].path, err.msg);
		kb_article_free(a);
	}
	if (kb_index_finish(ix, NULL, &err) != KB_OK)
		kb_fuzz_fail("index %s: %s", db_path, err.msg);
}

const char *
kb_fuzz_db_path(void)
{
	if (db_path == NULL)
		build_index();
	return db_path;
}

struct kb_db *
kb_fuzz_db(void)
{
	struct kb_error err;

	if (db == NULL && kb_db_open(kb_fuzz_db_path(), &db, &err) != KB_OK)
		kb_fuzz_fail("open %s: %s", db_path, err.msg);
	return db;
}

void
kb_fuzz_check_text(const char *what, const char *s)
{
	const unsigned char *p;

	KB_FUZZ_CHECK(s != NULL, "%s is NULL", what);
	KB_FUZZ_CHECK(kb_utf8_valid(s, strlen(s)), "%s is not UTF-8: '%s'",
		      what, s);
	for (p = (const unsigned char *)s; *p; p++)
		KB_FUZZ_CHECK(*p >= 0x20 || *p == '\t' || *p == '\n',
			      "%s holds control byte 0x%02x: '%s'", what, *p,
			      s);
}

/*
 * Is the URL starting at u one a page must never link to?  The same rule
 * cmark's safe mode follows: javascript:, vbscript:, file: and data:
 * except the four image types.
 */
static bool
unsafe_url(const char *u)
{
	static const char *const images[] = {"png", "gif", "jpeg", "webp"};
	size_t i;

	if (strncasecmp(u, "javascript:", 11) == 0 ||
	    strncasecmp(u, "vbscript:", 9) == 0 ||
	    strncasecmp(u, "file:", 5) == 0)
		return true;
	if (strncasecmp(u, "data:", 5) != 0)
		return false;
	if (strncasecmp(u + 5, "image/", 6) != 0)
		return true;
	for (i = 0; i < sizeof(images) / sizeof(images[0]); i++)
		if (strncasecmp(u + 11, images[i], strlen(images[i])) == 0)
			return false;
	return true;
}

void
kb_fuzz_check_html(const char *what, const char *page, size_t len)
{
	static const char *const attrs[] = {"href=\"", "src=\"", "action=\""};
	char *s = kb_xstrndup(page, len);
	const char *p;
	size_t i;

	KB_FUZZ_CHECK(strlen(s) == len, "%s holds NUL", what);
	KB_FUZZ_CHECK(kb_utf8_valid(s, len), "%s is not UTF-8", what);
	KB_FUZZ_CHECK(strcasestr(s, "<zzfz") == NULL,
		      "%s holds markup from its input", what);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		for (p = s; (p = strcasestr(p, attrs[i])) != NULL; p++)
			KB_FUZZ_CHECK(!unsafe_url(p + strlen(attrs[i])),
				      "%s links to '%.40s'", what,
				      p + strlen(attrs[i]));
	free(s);
}
