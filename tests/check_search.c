/* check_search.c - ranking, relaxation, filters, paging and snippets over a real index. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"
#include "db.h"
#include "escape.h"
#include "index.h"
#include "search.h"
#include "testutil.h"

static char *dir;
static char *dbpath;
static struct kb_db *db;

static void
setup(void)
{
	struct kb_error err;

	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "kb.db");
	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
}

static void
teardown(void)
{
	kb_db_close(db);
	kb_test_rmtree(dir);
	free(dbpath);
	free(dir);
}

static struct kb_result *
search(const char *q, const char *model, const char *symptom, size_t limit,
       size_t offset)
{
	struct kb_search_opts o = { q, model, symptom, limit, offset };
	struct kb_result *r = NULL;
	struct kb_error err;

	kb_error_clear(&err);
	ck_assert_msg(kb_search(db, &o, &r, &err) == KB_OK, "%s: %s", q,
		      err.msg);
	return r;
}

START_TEST(the_section_whose_heading_matches_ranks_first)
{
	struct kb_result *r = search("replace battery", NULL, NULL, 10, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Replace the battery");
	ck_assert_str_eq(r->hits[0].path, "battery.md");
	ck_assert_str_eq(r->hits[0].title, "Speaker won't hold a charge");
	ck_assert_str_eq(r->hits[0].anchor, "replace-the-battery");
	ck_assert_int_eq(r->hits[0].relax, 0);
	kb_result_free(r);
}
END_TEST

START_TEST(an_apostrophe_query_matches_the_words_as_written)
{
	struct kb_result *r = search("won't hold charge", NULL, NULL, 3, 0);
	struct kb_result *r2 = search("wont hold charge", NULL, NULL, 3, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].path, "battery.md");
	ck_assert_uint_eq(r->nhits, r2->nhits);
	ck_assert_int_eq(r->hits[0].id, r2->hits[0].id);
	kb_result_free(r);
	kb_result_free(r2);
}
END_TEST

START_TEST(an_unknown_word_is_dropped_instead_of_answering_nothing)
{
	struct kb_result *r = search("battery xyzzyplugh", NULL, NULL, 10, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_int_ne(r->relax, 0);
	ck_assert_str_eq(r->hits[0].path, "battery.md");
	kb_result_free(r);
}
END_TEST

START_TEST(words_never_found_together_fall_back_to_any_word)
{
	/* "toothpick" and "firmware" are in different articles. */
	struct kb_result *r = search("toothpick firmware", NULL, NULL, 10, 0);

	ck_assert_uint_eq(r->nhits, 2);
	ck_assert_uint_eq(r->total, 2);
	ck_assert_int_ne(r->relax, 0);
	kb_result_free(r);
}
END_TEST

START_TEST(exact_matches_are_listed_before_relaxed_ones)
{
	/* One section has both words; others only "speaker". */
	struct kb_result *r = search("speaker toothpick lint", NULL, NULL, 10,
				     0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Clean the port");
	kb_result_free(r);
}
END_TEST

START_TEST(a_model_filter_accepts_an_alias_and_keeps_only_that_model)
{
	struct kb_result *r = search("port OR light OR charging", "sound core 2",
				     NULL, 10, 0);
	size_t i;

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->model, "Anker Soundcore 2");
	for (i = 0; i < r->nhits; i++)
		ck_assert_str_eq(r->hits[i].path, "sc2/led.md");
	kb_result_free(r);
}
END_TEST

START_TEST(a_symptom_filter_keeps_only_tagged_sections)
{
	struct kb_result *r = search("phone speaker", NULL, "connection-drops",
				     10, 0);
	size_t i;

	ck_assert_uint_ge(r->nhits, 1);
	for (i = 0; i < r->nhits; i++)
		ck_assert_str_eq(r->hits[i].path, "flip.txt");
	kb_result_free(r);
	r = search("battery", NULL, "no-such-symptom", 10, 0);
	ck_assert_uint_eq(r->nhits, 0);
	kb_result_free(r);
}
END_TEST

START_TEST(pages_joined_together_give_the_full_list)
{
	struct kb_result *all = search("speaker charging battery phone", NULL,
				       NULL, 100, 0);
	size_t i;

	ck_assert_uint_ge(all->nhits, 4);
	for (i = 0; i < all->nhits; i++) {
		struct kb_result *p = search("speaker charging battery phone",
					     NULL, NULL, 1, i);

		ck_assert_uint_eq(p->nhits, 1);
		ck_assert_int_eq(p->hits[0].id, all->hits[i].id);
		ck_assert_uint_eq(p->offset, i);
		kb_result_free(p);
	}
	kb_result_free(all);
}
END_TEST

START_TEST(limits_are_capped_and_default_to_ten)
{
	struct kb_result *r = search("speaker", NULL, NULL, 0, 0);

	ck_assert_uint_eq(r->limit, 10);
	kb_result_free(r);
	r = search("speaker", NULL, NULL, 100000, 0);
	ck_assert_uint_eq(r->limit, KB_SEARCH_MAX_LIMIT);
	kb_result_free(r);
}
END_TEST

START_TEST(snippets_mark_the_matched_words)
{
	struct kb_result *r = search("toothpick", NULL, NULL, 10, 0);
	char *html;

	ck_assert_uint_eq(r->nhits, 1);
	ck_assert_ptr_nonnull(strchr(r->hits[0].snippet, KB_HL_START));
	html = kb_snippet_html(r->hits[0].snippet);
	ck_assert_ptr_nonnull(strstr(html, "<mark>toothpick</mark>"));
	free(html);
	kb_result_free(r);
}
END_TEST

START_TEST(hits_carry_model_and_symptom_tags)
{
	struct kb_result *r = search("toothpick", NULL, NULL, 10, 0);

	ck_assert_uint_eq(r->hits[0].models.n, 1);
	ck_assert_str_eq(r->hits[0].models.v[0], "Anker Soundcore 2");
	kb_result_free(r);
	r = search("distance phone", NULL, NULL, 10, 0);
	ck_assert_uint_ge(r->nhits, 1);
	ck_assert(kb_strv_contains(&r->hits[0].models, "JBL Flip 5"));
	ck_assert(kb_strv_contains(&r->hits[0].symptoms, "connection-drops"));
	kb_result_free(r);
}
END_TEST

static const char *const hostile[] = {
	"won't", "usb-c", "\"", "*", "AND", "OR", "NOT", "foo:bar",
	"\xF0\x9F\x94\x8B\xF0\x9F\x94\x8C", "NEAR(a b)", "a AND OR NOT b",
	"title:battery", "{title body}: x", "^", "-battery", "+battery",
	"\"unterminated", "((((", "))))", "battery*", "*battery",
	"'; DROP TABLE fts; --", "\xC3\x28", "\xED\xA0\x80", "", " ",
	"rank:bm25", "rowid = 1", "\\", "%", "_",
};

START_TEST(no_input_produces_an_error)
{
	struct kb_result *r = search(hostile[_i], NULL, NULL, 10, 0);

	ck_assert_ptr_nonnull(r->query);
	kb_result_free(r);
}
END_TEST

START_TEST(a_five_kilobyte_query_answers)
{
	struct kb_buf b;
	struct kb_result *r;

	kb_buf_init(&b);
	while (b.len < 5 * 1024)
		kb_buf_adds(&b, "my speaker won't hold a charge \"and\" the "
				"battery * drains NEAR( fast ) ");
	r = search(b.data, NULL, NULL, 10, 0);
	ck_assert_uint_ge(r->nhits, 1);
	kb_result_free(r);
	kb_buf_free(&b);
}
END_TEST

START_TEST(an_led_question_is_answered_with_the_fact_for_that_model)
{
	struct kb_result *r = search("soundcore 2 solid red", NULL, NULL, 10,
				     0);

	ck_assert_str_eq(r->understood.model, "Anker Soundcore 2");
	ck_assert_str_eq(r->understood.color, "red");
	ck_assert_str_eq(r->understood.pattern, "solid");
	ck_assert_uint_eq(r->nleds, 1);
	ck_assert_str_eq(r->leds[0].model, "Anker Soundcore 2");
	ck_assert_ptr_nonnull(strstr(r->leds[0].meaning, "charging"));
	ck_assert_str_eq(r->leds[0].path, "sc2/led.md");
	ck_assert_str_eq(r->leds[0].anchor, "what-the-light-means");
	kb_result_free(r);
	/* No model named: every model's facts for that state. */
	r = search("blinking red light", NULL, NULL, 10, 0);
	ck_assert_uint_eq(r->nleds, 1);
	ck_assert_str_eq(r->leds[0].pattern, "blinking");
	kb_result_free(r);
	/* No LED state, no LED answer. */
	r = search("replace battery", NULL, NULL, 10, 0);
	ck_assert_uint_eq(r->nleds, 0);
	kb_result_free(r);
}
END_TEST

/*
 * Two sections with the same words, "solid red" among them: one gives the
 * meaning of that light (an LED fact), the other does not, and comes
 * first in the index, so on words alone it would rank first.  Other notes
 * keep the words rare.
 */
static void
led_setup(void)
{
	static const struct kb_test_doc docs[] = {
		{ "a-says.md", "---\ntitle: Status light\n---\n"
			       "## Status light\n\n"
			       "The battery is charging. Solid red.\n" },
		{ "b-means.md", "---\ntitle: Status light\n---\n"
				"## Status light\n\n"
				"- Solid red: the battery is charging\n" },
		{ "c.md", "## Part 1\n\nCharge it for an hour.\n" },
		{ "d.md", "## Part 2\n\nTry another cable.\n" },
		{ "e.md", "## Part 3\n\nClean the port.\n" },
		{ "f.md", "## Part 4\n\nUpdate the firmware.\n" },
	};
	struct kb_error err;

	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "led.db");
	ck_assert_int_eq(kb_test_index(dbpath, docs,
				       sizeof(docs) / sizeof(docs[0]),
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
}

static size_t
led_facts_of(const char *path)
{
	struct kb_db_article *a = NULL;
	struct kb_error err;
	size_t n;

	ck_assert_int_eq(kb_db_article(db, path, &a, &err), KB_OK);
	n = a->nleds;
	kb_db_article_free(a);
	return n;
}

START_TEST(a_section_giving_the_lights_meaning_ranks_above_one_naming_it)
{
	struct kb_result *r;

	/* What the ranking below rests on. */
	ck_assert_uint_eq(led_facts_of("b-means.md"), 1);
	ck_assert_uint_eq(led_facts_of("a-says.md"), 0);
	r = search("solid red", NULL, NULL, 10, 0);
	ck_assert_str_eq(r->understood.color, "red");
	ck_assert_str_eq(r->understood.pattern, "solid");
	ck_assert_uint_eq(r->nhits, 2);
	ck_assert_str_eq(r->hits[0].path, "b-means.md");
	ck_assert_str_eq(r->hits[1].path, "a-says.md");
	kb_result_free(r);
	/* A colour alone is enough. */
	r = search("red light", NULL, NULL, 10, 0);
	ck_assert_uint_ge(r->nhits, 2);
	ck_assert_str_eq(r->hits[0].path, "b-means.md");
	kb_result_free(r);
	/* Another state: the words decide, in index order. */
	r = search("blinking red", NULL, NULL, 10, 0);
	ck_assert_uint_ge(r->nhits, 2);
	ck_assert_str_eq(r->hits[0].path, "a-says.md");
	kb_result_free(r);
}
END_TEST

/* Set one meta value of the index (the db is closed meanwhile). */
static void
set_meta(const char *key, const char *value)
{
	sqlite3 *sql;
	sqlite3_stmt *st;

	kb_db_close(db);
	db = NULL;
	ck_assert_int_eq(sqlite3_open(dbpath, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(sql,
					    "UPDATE meta SET value = ?"
					    " WHERE key = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	ck_assert_int_eq(sqlite3_changes(sql), 1);
	sqlite3_finalize(st);
	sqlite3_close(sql);
}

static void
reopen(void)
{
	struct kb_error err;

	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
}

/*
 * A reader loads the taxonomy kbindex packed with its tables, and falls
 * back to the JSON when the packed copy is unusable.
 */
/*
 * kbsearch reads pages into a cache instead of mapping the file
 * (kb_db_one_shot); the answers are the same.  (Check runs each test in
 * a process of its own, so the mode stays with this one.)
 */
START_TEST(an_index_read_for_one_search_answers_as_a_mapped_one)
{
	static const char *const qs[] = { "won't hold a charge",
					  "soundcore 2 solid red", "cable",
					  "speaker not charging firmware" };
	struct kb_db *mapped = db, *read = NULL;
	struct kb_error err;
	size_t i, k;

	kb_db_one_shot();
	ck_assert_int_eq(kb_db_open(dbpath, &read, &err), KB_OK);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct kb_result *a, *b;

		db = mapped;
		a = search(qs[i], NULL, NULL, 10, 0);
		db = read;
		b = search(qs[i], NULL, NULL, 10, 0);
		ck_assert_uint_gt(a->nhits, 0);
		ck_assert_uint_eq(a->nhits, b->nhits);
		ck_assert_uint_eq(a->nleds, b->nleds);
		for (k = 0; k < a->nhits; k++) {
			ck_assert_int_eq(a->hits[k].id, b->hits[k].id);
			ck_assert_str_eq(a->hits[k].snippet,
					 b->hits[k].snippet);
			ck_assert_double_eq(a->hits[k].score,
					    b->hits[k].score);
		}
		kb_result_free(a);
		kb_result_free(b);
	}
	db = mapped;
	kb_db_close(read);
}
END_TEST

START_TEST(the_packed_taxonomy_is_read_and_the_json_stands_in_for_it)
{
	struct kb_result *r;

	/* JSON unreadable, packed copy intact: models still understood. */
	set_meta("taxonomy", "{");
	reopen();
	r = search("soundcore 2 solid red", NULL, NULL, 10, 0);
	ck_assert_ptr_nonnull(r->understood.model);
	ck_assert_str_eq(r->understood.model, "Anker Soundcore 2");
	ck_assert_uint_eq(r->nleds, 1);
	kb_result_free(r);
	/* Both unusable: no taxonomy, words still searched. */
	set_meta("taxonomy_packed", "KBTX damaged");
	reopen();
	r = search("soundcore 2 solid red", NULL, NULL, 10, 0);
	ck_assert_ptr_null(r->understood.model);
	ck_assert_uint_ge(r->nhits, 1);
	kb_result_free(r);
	/* Packed copy damaged, JSON good: the JSON is parsed instead. */
	set_meta("taxonomy", kb_test_taxonomy);
	reopen();
	r = search("soundcore 2 solid red", NULL, NULL, 10, 0);
	ck_assert_ptr_nonnull(r->understood.model);
	ck_assert_str_eq(r->understood.model, "Anker Soundcore 2");
	kb_result_free(r);
}
END_TEST

START_TEST(a_typo_is_corrected_and_suggested)
{
	struct kb_result *r = search("toothpik", NULL, NULL, 10, 0);

	ck_assert_ptr_nonnull(r->did_you_mean);
	ck_assert_str_eq(r->did_you_mean, "toothpick");
	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Clean the port");
	kb_result_free(r);
	/* Numbers are never corrected. */
	r = search("flip 6", NULL, NULL, 10, 0);
	ck_assert_ptr_null(r->did_you_mean);
	kb_result_free(r);
	/* Four letters the index has never seen: one typo. */
	r = search("cble", NULL, NULL, 10, 0);
	ck_assert_ptr_nonnull(r->did_you_mean);
	ck_assert_str_eq(r->did_you_mean, "cable");
	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Check the cable");
	kb_result_free(r);
	/*
	 * A letter slipped in front: the word is looked for under the
	 * second letter, whether that sorts before the first or after it.
	 */
	r = search("xcable", NULL, NULL, 10, 0);
	ck_assert_ptr_nonnull(r->did_you_mean);
	ck_assert_str_eq(r->did_you_mean, "cable");
	kb_result_free(r);
	r = search("acable", NULL, NULL, 10, 0);
	ck_assert_ptr_nonnull(r->did_you_mean);
	ck_assert_str_eq(r->did_you_mean, "cable");
	kb_result_free(r);
	/* Three: none. */
	r = search("cbl", NULL, NULL, 10, 0);
	ck_assert_ptr_null(r->did_you_mean);
	ck_assert_uint_eq(r->nhits, 0);
	kb_result_free(r);
}
END_TEST

START_TEST(the_last_word_matches_as_a_prefix_while_typing)
{
	struct kb_result *r = search("toothp", NULL, NULL, 10, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Clean the port");
	kb_result_free(r);
	/* A trailing space means the word is finished. */
	r = search("toothp ", NULL, NULL, 10, 0);
	ck_assert_uint_eq(r->nhits, 0);
	kb_result_free(r);
}
END_TEST

START_TEST(synonyms_from_the_taxonomy_find_other_words)
{
	/* The test taxonomy says cable = cord. */
	struct kb_result *r = search("cord", NULL, NULL, 10, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].heading, "Check the cable");
	kb_result_free(r);
}
END_TEST

START_TEST(facets_count_models_and_symptoms_over_all_matches)
{
	struct kb_result *r = search("speaker", NULL, NULL, 1, 0);
	size_t i;
	bool flip = false;

	ck_assert_uint_ge(r->nfacet_models, 1);
	for (i = 0; i < r->nfacet_models; i++)
		if (!strcmp(r->facet_models[i].value, "JBL Flip 5"))
			flip = r->facet_models[i].count >= 1;
	ck_assert(flip);
	ck_assert_uint_ge(r->nfacet_symptoms, 1);
	kb_result_free(r);
}
END_TEST

START_TEST(the_model_asked_for_ranks_above_generic_advice)
{
	/* Both articles speak of the port; only one is the Soundcore's. */
	struct kb_result *r = search("soundcore 2 port lint", NULL, NULL, 10,
				     0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].path, "sc2/led.md");
	kb_result_free(r);
	/* Another model named: its pages sink below generic ones. */
	r = search("flip 5 cable", NULL, NULL, 10, 0);
	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_ne(r->hits[0].path, "sc2/led.md");
	kb_result_free(r);
}
END_TEST

START_TEST(a_symptom_phrase_is_understood)
{
	struct kb_result *r = search("battery drains fast", NULL, NULL, 10, 0);

	ck_assert(kb_strv_contains(&r->understood.symptoms,
				   "wont-hold-charge"));
	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].path, "battery.md");
	kb_result_free(r);
}
END_TEST

START_TEST(a_pasted_ticket_finds_the_fix)
{
	struct kb_result *r = search(
		"Hello support, thanks for your help last time. Order 55512-A. "
		"My speaker was a present from my sister two years ago and it "
		"has been great, but since last month the music keeps cutting "
		"and the connection keeps dropping whenever I walk into the "
		"kitchen with my phone. I already tried turning everything off "
		"and on again, no luck. It is not the battery, it is fully "
		"charged. Could you tell me what to do? Many thanks, Sam",
		NULL, NULL, 10, 0);

	ck_assert_uint_ge(r->nhits, 1);
	ck_assert_str_eq(r->hits[0].path, "flip.txt");
	kb_result_free(r);
}
END_TEST


/* ---- pages past the re-ranked window ---- */

#define DEEP_N 260

static void
deep_setup(void)
{
	struct kb_test_doc docs[DEEP_N];
	struct kb_error err;
	char *text[DEEP_N], *path[DEEP_N];
	size_t i;

	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "deep.db");
	for (i = 0; i < DEEP_N; i++) {
		/* every article holds "gasket", some more often than others */
		path[i] = kb_xasprintf("g%03zu.md", i);
		text[i] = kb_xasprintf("---\ntitle: Note %zu\n---\n## Part "
				       "%zu\n\nThe gasket%s sits under the "
				       "lid of unit %zu.\n",
				       i, i, i % 3 ? "" : " and gasket seal", i);
		docs[i].path = path[i];
		docs[i].text = text[i];
	}
	ck_assert_int_eq(kb_test_index(dbpath, docs, DEEP_N, NULL, false,
				       NULL),
			 KB_OK);
	for (i = 0; i < DEEP_N; i++) {
		free(path[i]);
		free(text[i]);
	}
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * MANY_MODELS models, each with one article about its hinge, and every
 * third with a second: more facet values than a window's count starts
 * with room for.
 */
#define MANY_MODELS 120

static void
many_setup(void)
{
	struct kb_test_doc docs[MANY_MODELS + MANY_MODELS / 3];
	struct kb_error err;
	struct kb_buf tax;
	size_t i, n = 0;

	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "many.db");
	kb_buf_init(&tax);
	kb_buf_adds(&tax, "{\"models\": [");
	for (i = 0; i < MANY_MODELS; i++) {
		char *m = kb_xasprintf("%s{\"id\": \"acme-hx-%zu\", \"brand\": "
				       "\"Acme\", \"name\": \"Acme HX %zu\"}",
				       i ? ", " : "", i, i);

		kb_buf_adds(&tax, m);
		free(m);
	}
	kb_buf_adds(&tax, "], \"symptoms\": []}");
	for (i = 0; i < MANY_MODELS; i++) {
		size_t k;

		for (k = 0; k < (i % 3 ? 1u : 2u); k++) {
			docs[n].path = kb_xasprintf("hx%03zu-%zu.md", i, k);
			docs[n].text = kb_xasprintf(
			    "---\ntitle: Hinge %zu of the Acme HX %zu\n"
			    "models: [Acme HX %zu]\n---\n## Tighten the "
			    "hinge\n\nA loose hinge on this unit needs a "
			    "quarter turn.\n",
			    k, i, i);
			n++;
		}
	}
	ck_assert_int_eq(kb_test_index(dbpath, docs, n, tax.data, false, NULL),
			 KB_OK);
	for (i = 0; i < n; i++) {
		free((char *)docs[i].path);
		free((char *)docs[i].text);
	}
	kb_buf_free(&tax);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
}

START_TEST(every_model_of_the_window_is_one_facet_with_its_count)
{
	struct kb_result *r = search("hinge", NULL, NULL, 10, 0);
	bool seen[MANY_MODELS] = { false };
	size_t i, n;

	ck_assert_uint_eq(r->nfacet_models, MANY_MODELS);
	for (i = 0; i < r->nfacet_models; i++) {
		const struct kb_count *c = &r->facet_models[i];

		ck_assert_msg(sscanf(c->value, "Acme HX %zu", &n) == 1 &&
				      n < MANY_MODELS,
			      "facet %s", c->value);
		ck_assert_msg(!seen[n], "%s counted twice", c->value);
		seen[n] = true;
		/* each article's section holds its model once */
		ck_assert_msg(c->count == (n % 3 ? 1 : 2), "%s: %lld",
			      c->value, (long long)c->count);
		/* most first, then by name */
		if (i > 0)
			ck_assert(r->facet_models[i - 1].count > c->count ||
				  (r->facet_models[i - 1].count == c->count &&
				   strcmp(r->facet_models[i - 1].value,
					  c->value) < 0));
	}
	kb_result_free(r);
}
END_TEST

START_TEST(pages_past_the_first_two_hundred_list_every_other_match_once)
{
	int64_t ids[DEEP_N + 10];
	size_t n = 0, off, i;

	for (off = 0; off < DEEP_N + 10; off += 7) {
		struct kb_result *r = search("gasket", NULL, NULL, 7, off);

		ck_assert_uint_ge(r->total, DEEP_N);
		for (i = 0; i < r->nhits; i++)
			ids[n++] = r->hits[i].id;
		/* full pages until every match has been listed */
		ck_assert_uint_eq(r->nhits,
				  off >= DEEP_N ? 0
				  : DEEP_N - off < 7 ? DEEP_N - off
						    : 7);
		kb_result_free(r);
	}
	ck_assert_uint_eq(n, DEEP_N);
	qsort(ids, n, sizeof(*ids), cmp_i64);
	for (i = 1; i < n; i++)
		ck_assert_int_ne(ids[i - 1], ids[i]);
}
END_TEST

START_TEST(a_page_straddling_the_window_joins_both_parts)
{
	struct kb_result *all = search("gasket", NULL, NULL, 100, 190);
	struct kb_result *mid = search("gasket", NULL, NULL, 20, 195);
	size_t i;

	ck_assert_uint_eq(all->nhits, 70);
	ck_assert_uint_eq(mid->nhits, 20);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(mid->hits[i].id, all->hits[i + 5].id);
	/* hits past the window are filled like the others */
	for (i = 0; i < all->nhits; i++) {
		ck_assert_ptr_nonnull(strstr(all->hits[i].snippet, "gasket"));
		ck_assert_int_eq(all->hits[i].path[0], 'g');
	}
	kb_result_free(all);
	kb_result_free(mid);
}
END_TEST

static Suite *
search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("search");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_section_whose_heading_matches_ranks_first);
	tcase_add_test(tc, an_apostrophe_query_matches_the_words_as_written);
	tcase_add_test(tc,
		       an_unknown_word_is_dropped_instead_of_answering_nothing);
	tcase_add_test(tc, words_never_found_together_fall_back_to_any_word);
	tcase_add_test(tc, exact_matches_are_listed_before_relaxed_ones);
	tcase_add_test(
		tc, a_model_filter_accepts_an_alias_and_keeps_only_that_model);
	tcase_add_test(tc, a_symptom_filter_keeps_only_tagged_sections);
	tcase_add_test(tc, pages_joined_together_give_the_full_list);
	tcase_add_test(tc, limits_are_capped_and_default_to_ten);
	tcase_add_test(tc, snippets_mark_the_matched_words);
	tcase_add_test(tc, hits_carry_model_and_symptom_tags);
	tcase_add_loop_test(tc, no_input_produces_an_error, 0,
			    (int)(sizeof(hostile) / sizeof(hostile[0])));
	tcase_add_test(tc, a_five_kilobyte_query_answers);
	tcase_add_test(tc,
		       an_led_question_is_answered_with_the_fact_for_that_model);
	tcase_add_test(tc, a_typo_is_corrected_and_suggested);
	tcase_add_test(tc, the_last_word_matches_as_a_prefix_while_typing);
	tcase_add_test(tc, synonyms_from_the_taxonomy_find_other_words);
	tcase_add_test(tc, facets_count_models_and_symptoms_over_all_matches);
	tcase_add_test(tc, the_model_asked_for_ranks_above_generic_advice);
	tcase_add_test(tc, a_symptom_phrase_is_understood);
	tcase_add_test(tc, a_pasted_ticket_finds_the_fix);
	tcase_add_test(tc,
		       the_packed_taxonomy_is_read_and_the_json_stands_in_for_it);
	tcase_add_test(tc, an_index_read_for_one_search_answers_as_a_mapped_one);
	suite_add_tcase(s, tc);
	tc = tcase_create("LED ranking");
	tcase_add_unchecked_fixture(tc, led_setup, teardown);
	tcase_add_test(tc,
		       a_section_giving_the_lights_meaning_ranks_above_one_naming_it);
	suite_add_tcase(s, tc);
	tc = tcase_create("deep pages");
	tcase_add_unchecked_fixture(tc, deep_setup, teardown);
	tcase_add_test(tc,
		       pages_past_the_first_two_hundred_list_every_other_match_once);
	tcase_add_test(tc, a_page_straddling_the_window_joins_both_parts);
	suite_add_tcase(s, tc);
	tc = tcase_create("many models");
	tcase_add_unchecked_fixture(tc, many_setup, teardown);
	tcase_add_test(tc, every_model_of_the_window_is_one_facet_with_its_count);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(search_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
