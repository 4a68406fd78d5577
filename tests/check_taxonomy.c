/* check_taxonomy.c - word normalisation, taxonomy loading, matching. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"
#include "textnorm.h"
#include "util.h"

#define DATA "tests/data/taxonomy/"
#define N_ELEMS(a) (sizeof(a) / sizeof(*(a)))

static struct kb_taxonomy *small;

static void
load_small(void)
{
	struct kb_error err;

	kb_error_clear(&err);
	if (kb_taxonomy_load(DATA "small.json", &small, &err) != KB_OK)
		ck_abort_msg("cannot load small.json: %s", err.msg);
}

static void
free_small(void)
{
	kb_taxonomy_free(small);
	small = NULL;
}

/* small.json packed and unpacked: every matching test runs on it too. */
static void
load_small_packed(void)
{
	struct kb_taxonomy *t;
	struct kb_error err;
	struct kb_buf b;

	load_small();
	kb_buf_init(&b);
	kb_taxonomy_pack(small, &b);
	kb_taxonomy_free(small);
	small = NULL;
	kb_error_clear(&err);
	if (kb_taxonomy_unpack(b.data, b.len, &t, &err) != KB_OK)
		ck_abort_msg("cannot unpack small.json: %s", err.msg);
	small = t;
	kb_buf_free(&b);
}

/* The norms of text joined by '|', for compact expectations. */
static char *
norms_of(const char *text)
{
	char *s = kb_normalize(text), *p;

	/* Norms never hold a space: kb_normalize's separator marks them. */
	for (p = s; *p; p++)
		if (*p == ' ')
			*p = '|';
	return s;
}

/* ---- textnorm ---- */

static const struct {
	const char *text;
	const char *norms;
} tokenize_cases[] = {
	{"Hello World", "hello|world"},
	{"Été à Straße, ÆON", "ete|a|strasse|aeon"},
	{"Łódź Œuvre ĳ", "lodz|oeuvre|ij"},
	{"won't won’t can`t", "wont|wont|can|t"},
	{"Soundcore 2's battery, the speakers' case", "soundcore|2|battery|the|"
						     "speakers|case"},
	{"it's", "it"},
	{"usb-c micro-usb a/b x_y", "usb|c|micro|usb|a|b|x|y"},
	{"red\xF0\x9F\x94\xB4light \xC3\x97" "2 \xE2\x80\x9Cquoted\xE2\x80\x9D "
	 "\xE2\x80\x94 dash",
	 "red|light|2|quoted|dash"},
	{"e\xCC\x81t\xC3\xA9", "ete"},
	{"\xCE\x91\xCE\x92 \xD0\x9F\xD1\x80\xD0\xB8",
	 "\xCE\xB1\xCE\xB2|\xD0\xBF\xD1\x80\xD0\xB8"},
	{"\xEF\xBC\xA1\xEF\xBC\x91", "a1"},
	{"ab\xFF" "cd\xC3", "ab|cd"},
	{"'quoted' 'tis", "quoted|tis"},
	{"", ""},
	{"  ... --- ", ""},
	{"\xCC\x81\xCC\x81", ""},
};

START_TEST(words_are_lowercased_folded_and_split)
{
	char *got = norms_of(tokenize_cases[_i].text);

	ck_assert_msg(strcmp(got, tokenize_cases[_i].norms) == 0,
		      "\"%s\": got \"%s\", want \"%s\"",
		      tokenize_cases[_i].text, got, tokenize_cases[_i].norms);
	free(got);
}
END_TEST

START_TEST(token_offsets_point_at_the_word_as_written)
{
	const char *text = "  Won’t Été's x";
	struct kb_token *tok;
	size_t n;

	kb_tokenize(text, &tok, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(tok[0].start, 2);
	ck_assert_uint_eq(tok[0].end, 2 + strlen("Won’t"));
	ck_assert_str_eq(tok[0].norm, "wont");
	ck_assert_uint_eq(tok[1].start, 2 + strlen("Won’t "));
	ck_assert_uint_eq(tok[1].end, tok[1].start + strlen("Été's"));
	ck_assert_str_eq(tok[1].norm, "ete");
	ck_assert_str_eq(tok[2].norm, "x");
	kb_tokens_free(tok);
}
END_TEST

/* djb2 as kb_token.hash is documented: h = h * 33 + byte, from 5381. */
static uint32_t
djb2(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

START_TEST(tokens_carry_their_norms_length_and_hash)
{
	const char *text = "Won’t CHARGE; Été's ＡＢ12 batteries x";
	struct kb_token *tok;
	char a[64], b[64];
	size_t n, i, ka, kb;
	bool sa, na, sb, nb;
	uint32_t ha[2], hb[2];

	kb_tokenize(text, &tok, &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(tok[3].norm, "ab12"); /* fullwidth, folded */
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(tok[i].len, strlen(tok[i].norm));
		ck_assert_uint_eq(tok[i].hash, djb2(tok[i].norm));
		/* stemming a token is stemming its norm */
		ka = kb_stem_token(&tok[i], a, sizeof(a), &sa, &na, &ha[0],
				   &ha[1]);
		kb = kb_stem_hashed(tok[i].norm, b, sizeof(b), &sb, &nb,
				    &hb[0], &hb[1]);
		ck_assert_uint_eq(ka, kb);
		ck_assert_str_eq(a, b);
		ck_assert(sa == sb && na == nb);
		ck_assert_uint_eq(ha[0], hb[0]);
		ck_assert_uint_eq(ha[1], hb[1]);
		ck_assert_uint_eq(ha[0],
				  (uint32_t)kb_fnv1a(tok[i].norm, tok[i].len));
	}
	ck_assert(na == false);
	kb_stem_token(&tok[0], a, sizeof(a), &sa, &na, &ha[0], &ha[1]);
	ck_assert(na); /* "wont" negates */
	kb_stem_token(&tok[4], a, sizeof(a), &sa, &na, &ha[0], &ha[1]);
	ck_assert_str_eq(a, "batteri");
	ck_assert_uint_eq(ha[1], (uint32_t)kb_fnv1a("batteri", 7));
	kb_tokens_free(tok);
}
END_TEST

START_TEST(tokenizing_a_prefix_stops_at_its_length)
{
	struct kb_token *tok;
	size_t n;

	kb_tokenize_n("solid red light", 9, &tok, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(tok[1].norm, "red");
	kb_tokens_free(tok);
	kb_tokenize_n("abc", 0, &tok, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(tok);
	kb_tokens_free(NULL);
}
END_TEST

START_TEST(normalize_joins_norms_with_single_spaces)
{
	char *s = kb_normalize("  Won't\tHOLD -- a Charge! ");

	ck_assert_str_eq(s, "wont hold a charge");
	free(s);
	s = kb_normalize("!!!");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

static const struct {
	const char *word;
	bool stop;
} stopword_cases[] = {
	{"a", true},	 {"the", true},	   {"my", true},   {"is", true},
	{"it", true},	 {"to", true},	   {"of", true},   {"and", true},
	{"or", true},	 {"for", true},	   {"in", true},   {"with", true},
	{"your", true},	 {"youve", true},  {"about", true}, {"yours", true},
	{"on", false},	 {"off", false},   {"not", false}, {"no", false},
	{"never", false}, {"wont", false}, {"up", false},  {"out", false},
	{"once", false}, {"red", false},   {"charge", false}, {"", false},
};

START_TEST(stop_words_keep_negations_and_light_words)
{
	ck_assert_msg(kb_is_stopword(stopword_cases[_i].word) ==
			      stopword_cases[_i].stop,
		      "\"%s\"", stopword_cases[_i].word);
}
END_TEST

START_TEST(every_negated_contraction_is_a_negation)
{
	static const char *const yes[] = {"not",  "wont",  "cant",  "cannot",
					  "dont", "doesnt", "isnt", "arent"};
	static const char *const no[] = {"no", "never", "note", "won", ""};
	size_t i;

	for (i = 0; i < N_ELEMS(yes); i++)
		ck_assert_msg(kb_is_negation(yes[i]), "%s", yes[i]);
	for (i = 0; i < N_ELEMS(no); i++)
		ck_assert_msg(!kb_is_negation(no[i]), "%s", no[i]);
}
END_TEST

/* Expected stems are those SQLite FTS5's porter tokenizer produces. */
static const struct {
	const char *word;
	const char *stem;
} stem_cases[] = {
	{"charges", "charg"},	    {"charging", "charg"},
	{"charged", "charg"},	    {"charge", "charg"},
	{"batteries", "batteri"},   {"battery", "batteri"},
	{"blinking", "blink"},	    {"flashes", "flash"},
	{"draining", "drain"},	    {"drains", "drain"},
	{"caresses", "caress"},	    {"ponies", "poni"},
	{"hopping", "hop"},	    {"filing", "file"},
	{"agreed", "agre"},	    {"relational", "relat"},
	{"generalizations", "gener"}, {"electrical", "electr"},
	{"adjustment", "adjust"},   {"controlling", "control"},
	{"archaeology", "archaeolog"}, {"sky", "sky"},
	{"is", "is"},		    {"ies", "ie"},
	{"sses", "sse"},	    {"eed", "e"},
	{"yyed", "y"},		    {"2s", "2s"},
};

START_TEST(stems_agree_with_the_fts5_porter_stemmer)
{
	char out[80];
	size_t n = kb_stem(stem_cases[_i].word, out, sizeof(out));

	ck_assert_msg(strcmp(out, stem_cases[_i].stem) == 0,
		      "%s: got %s, want %s", stem_cases[_i].word, out,
		      stem_cases[_i].stem);
	ck_assert_uint_eq(n, strlen(stem_cases[_i].stem));
}
END_TEST

START_TEST(stemming_leaves_long_words_alone_and_truncates_safely)
{
	char long_word[100], out[128], tiny[4];
	size_t n;

	memset(long_word, 'x', 70);
	memcpy(long_word + 70, "ing", 4);
	n = kb_stem(long_word, out, sizeof(out));
	ck_assert_uint_eq(n, 73);
	ck_assert_str_eq(out, long_word);
	n = kb_stem("charging", tiny, sizeof(tiny));
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(tiny, "cha");
	ck_assert_uint_eq(kb_stem("charging", NULL, 0), 5);
}
END_TEST

/* ---- loading ---- */

START_TEST(the_small_taxonomy_loads_with_every_part)
{
	ck_assert_uint_eq(small->nmodels, 4);
	ck_assert_uint_eq(small->nsymptoms, 4);
	ck_assert_uint_eq(small->ncolors, 4);
	ck_assert_uint_eq(small->npatterns, 3);
	ck_assert_uint_eq(small->nsynonyms, 2);
	ck_assert_str_eq(small->models[0].brand, "Anker");
	ck_assert_str_eq(small->models[3].brand, "");
	ck_assert_uint_eq(small->models[0].aliases.n, 3);
	ck_assert_str_eq(small->symptoms[3].label, "charging-port");
	ck_assert_uint_eq(small->colors[2].synonyms.n, 0);
	ck_assert_ptr_nonnull(strstr(small->json, "\"jbl-flip-5\""));
	ck_assert_ptr_nonnull(small->index);
}
END_TEST

static const struct {
	const char *file;
	const char *msg;
	int line;
} error_cases[] = {
	{"syntax.json", DATA "syntax.json:4: invalid JSON: ", 4},
	{"missing-name.json",
	 DATA "missing-name.json:7: models[1]: missing \"name\"", 7},
	{"duplicate-id.json",
	 DATA "duplicate-id.json:7: symptoms[2].id: duplicate id \"Wont "
	      "Charge\" (also symptoms[0])",
	 7},
	{"wrong-type.json",
	 DATA "wrong-type.json:6: models[0].aliases: expected an array of "
	      "strings",
	 6},
	{"bad-synonym.json",
	 DATA "bad-synonym.json:6: led.colors[1].synonyms[1]: expected a "
	      "string",
	 6},
	{"not-object.json",
	 DATA "not-object.json:1: the top level must be an object", 1},
};

START_TEST(bad_files_are_refused_naming_the_line_and_path)
{
	struct kb_taxonomy *t = (struct kb_taxonomy *)1;
	struct kb_error err;
	char path[256];

	kb_error_clear(&err);
	snprintf(path, sizeof(path), DATA "%s", error_cases[_i].file);
	ck_assert_int_eq(kb_taxonomy_load(path, &t, &err), KB_ERR_PARSE);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(err.status, KB_ERR_PARSE);
	ck_assert_int_eq(err.line, error_cases[_i].line);
	ck_assert_msg(strncmp(err.msg, error_cases[_i].msg,
			      strlen(error_cases[_i].msg)) == 0,
		      "got \"%s\", want \"%s...\"", err.msg,
		      error_cases[_i].msg);
}
END_TEST

static const struct {
	const char *json;
	const char *msg;
} inline_error_cases[] = {
	{"{\"models\": {}}", "t.json:1: models: expected an array"},
	{"{\"models\": [1]}", "t.json:1: models[0]: expected an object"},
	{"{\"models\": [{\"name\": \"x\"}]}",
	 "t.json:1: models[0]: missing \"id\""},
	{"{\"models\": [{\"id\": \"\", \"name\": \"x\"}]}",
	 "t.json:1: models[0].id: must not be empty"},
	{"{\"models\": [{\"id\": \"--\", \"name\": \"x\"}]}",
	 "t.json:1: models[0].id: id \"--\" has no letters or digits"},
	{"{\"models\": [{\"id\": \"a\", \"name\": 5}]}",
	 "t.json:1: models[0].name: expected a string"},
	{"{\"led\": []}", "t.json:1: led: expected an object"},
	{"{\"led\": {\"patterns\": [{\"id\": \"x\"}, {\"id\": \"X\"}]}}",
	 "t.json:1: led.patterns[1].id: duplicate id \"X\" (also "
	 "led.patterns[0])"},
	{"{\"synonyms\": [[\"a\"], \"b\"]}",
	 "t.json:1: synonyms[1]: expected an array of strings"},
	{"{\"a\": 1, \"a\": 2}",
	 "t.json:1: invalid JSON: duplicate object key"},
	{"", "t.json:1: invalid JSON: "},
	{"{\"symptoms\": [{\"id\": \"x\", \"phrases\": [\"a\", null]}]}",
	 "t.json:1: symptoms[0].phrases[1]: expected a string"},
};

START_TEST(inline_taxonomy_errors_name_the_json_path)
{
	struct kb_taxonomy *t = NULL;
	struct kb_error err;
	const char *json = inline_error_cases[_i].json;

	kb_error_clear(&err);
	ck_assert_int_eq(kb_taxonomy_parse("t.json", json, strlen(json), &t,
					   &err),
			 KB_ERR_PARSE);
	ck_assert_ptr_null(t);
	ck_assert_msg(strncmp(err.msg, inline_error_cases[_i].msg,
			      strlen(inline_error_cases[_i].msg)) == 0,
		      "got \"%s\", want \"%s...\"", err.msg,
		      inline_error_cases[_i].msg);
}
END_TEST

START_TEST(a_missing_file_is_an_io_error)
{
	struct kb_taxonomy *t = NULL;
	struct kb_error err;

	kb_error_clear(&err);
	ck_assert_int_eq(kb_taxonomy_load(DATA "no-such-file.json", &t, &err),
			 KB_ERR_IO);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err.msg, "no-such-file.json"));
}
END_TEST

START_TEST(parsing_from_memory_keeps_the_text_and_accepts_a_bom)
{
	static const char json[] = "\xEF\xBB\xBF{\"models\": [{\"id\": \"m\", "
				   "\"name\": \"Boom Box\"}]}";
	struct kb_taxonomy *t = NULL;
	struct kb_error err;

	ck_assert_int_eq(kb_taxonomy_parse("mem", json, strlen(json), &t,
					   &err),
			 KB_OK);
	ck_assert_str_eq(t->json, json);
	ck_assert_ptr_nonnull(kb_taxonomy_model(t, "boombox"));
	kb_taxonomy_free(t);
	kb_taxonomy_free(NULL);
}
END_TEST

START_TEST(an_empty_taxonomy_finds_nothing_but_works)
{
	struct kb_taxonomy *t = kb_taxonomy_new_empty();
	struct kb_match *m = NULL;
	size_t n = 0;

	kb_taxonomy_find_models(t, "Soundcore 2 blinking red", &m, &n);
	kb_taxonomy_find_symptoms(t, "won't charge", &m, &n);
	kb_taxonomy_find_colors(t, "red", &m, &n);
	kb_taxonomy_find_patterns(t, "blinking", &m, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(kb_taxonomy_model(t, "x"));
	ck_assert_ptr_null(kb_taxonomy_symptom(t, "x"));
	ck_assert_str_eq(t->json, "{}");
	free(m);
	kb_taxonomy_free(t);
}
END_TEST

/* ---- lookups ---- */

static const struct {
	const char *name;
	int model; /* -1: none */
} model_lookup_cases[] = {
	{"anker-soundcore-2", 0}, {"Anker Soundcore 2", 0},
	{"SOUNDCORE 2", 0},	  {"sound core-2", 0},
	{"soundcore2", 0},	  {"Soundcore 2 Pro", 1},
	{"flip 5", 2},		  {"JBL FLIP5", 2},
	{"jbl-flip-5", 2},	  {"generic speaker", 3},
	{"Anker", 0},		  {"JBL", -1},
	{"Soundcore", -1},	  {"", -1},
	{"--", -1},
};

START_TEST(models_are_looked_up_by_any_name_in_any_case_or_spacing)
{
	const struct kb_model *m =
		kb_taxonomy_model(small, model_lookup_cases[_i].name);

	if (model_lookup_cases[_i].model < 0)
		ck_assert_msg(m == NULL, "\"%s\" found %s",
			      model_lookup_cases[_i].name, m ? m->id : "");
	else
		ck_assert_msg(m == &small->models[model_lookup_cases[_i].model],
			      "\"%s\" found %s", model_lookup_cases[_i].name,
			      m ? m->id : "nothing");
}
END_TEST

START_TEST(symptoms_colours_and_patterns_are_looked_up_by_any_name)
{
	ck_assert_ptr_eq(kb_taxonomy_symptom(small, "wont-charge"),
			 &small->symptoms[1]);
	ck_assert_ptr_eq(kb_taxonomy_symptom(small, "Won't hold a charge"),
			 &small->symptoms[0]);
	ck_assert_ptr_eq(kb_taxonomy_symptom(small, "NOT CHARGING"),
			 &small->symptoms[1]);
	ck_assert_ptr_null(kb_taxonomy_symptom(small, "charging"));
	ck_assert_ptr_eq(kb_taxonomy_color(small, "Amber"), &small->colors[3]);
	ck_assert_ptr_eq(kb_taxonomy_color(small, "blue"), &small->colors[2]);
	ck_assert_ptr_null(kb_taxonomy_color(small, "green"));
	ck_assert_ptr_eq(kb_taxonomy_pattern(small, "Stays On"),
			 &small->patterns[0]);
	ck_assert_ptr_eq(kb_taxonomy_pattern(small, "blinking"),
			 &small->patterns[1]);
	ck_assert_ptr_null(kb_taxonomy_pattern(small, "pulsing"));
	ck_assert_ptr_null(kb_taxonomy_model(NULL, "x"));
	ck_assert_ptr_null(kb_taxonomy_model(small, NULL));
}
END_TEST

/* ---- finding in text ---- */

typedef void (*find_fn)(const struct kb_taxonomy *, const char *,
			struct kb_match **, size_t *);

/*
 * Render matches as "index:matched text" joined by '|', so a table row
 * states exactly what must be found and where.
 */
static char *
render_matches(const char *text, find_fn find)
{
	struct kb_match *m = NULL;
	struct kb_buf b;
	size_t n = 0, i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	find(small, text, &m, &n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_le(m[i].start, m[i].end);
		ck_assert_uint_le(m[i].end, strlen(text));
		if (i > 0) {
			ck_assert_uint_le(m[i - 1].end, m[i].start);
			kb_buf_addc(&b, '|');
		}
		kb_buf_printf(&b, "%zu:%.*s", m[i].index,
			      (int)(m[i].end - m[i].start), text + m[i].start);
	}
	free(m);
	return kb_buf_steal(&b);
}

struct find_case {
	const char *text;
	const char *want;
};

static void
check_find(const struct find_case *c, find_fn find)
{
	char *got = render_matches(c->text, find);

	ck_assert_msg(strcmp(got, c->want) == 0,
		      "\"%s\": got \"%s\", want \"%s\"", c->text, got, c->want);
	free(got);
}

static const struct find_case model_cases[] = {
	{"my soundcore2 is dead", "0:soundcore2"},
	{"Sound Core 2 won't charge", "0:Sound Core 2"},
	{"the soundcore 2", "0:soundcore 2"},
	{"Soundcore-2 battery", "0:Soundcore-2"},
	{"SOUNDCORE 2's port", "0:SOUNDCORE 2's"},
	{"Anker Soundcore 2 manual", "0:Anker Soundcore 2"},
	{"An Anker SoundCore2", "0:Anker SoundCore2"},
	{"Anker Soundcore 2 Pro", "1:Anker Soundcore 2 Pro"},
	{"soundcore 2 pro", "1:soundcore 2 pro"},
	{"flip 5 and Soundcore 2", "2:flip 5|0:Soundcore 2"},
	{"JBL Flip5", "2:JBL Flip5"},
	{"Generic Speaker", "3:Generic Speaker"},
	{"flip 5 times, Flip 5 hours", ""},
	{"the Flip 5 lasts 12 hours", "2:Flip 5"},
	{"flip 5%", ""},
	{"soundcore 20", ""},
	{"soundcore2x", ""},
	{"mysoundcore 2", ""},
	{"Anker speakers", ""},
	{"JBL", ""},
	{"5 stars", ""},
	{"soundcore. 2", ""},
	{"soundcore\n2", ""},
	{"", ""},
};

START_TEST(models_are_found_in_any_spacing_but_on_word_boundaries)
{
	check_find(&model_cases[_i], kb_taxonomy_find_models);
}
END_TEST

static const struct find_case symptom_cases[] = {
	{"won't hold a charge", "0:won't hold a charge"},
	{"My speaker won't hold charge", "0:won't hold charge"},
	{"WON’T HOLD THE CHARGE", "0:WON’T HOLD THE CHARGE"},
	{"it doesn't hold a charge", "0:doesn't hold a charge"},
	{"will not hold a charge", "0:not hold a charge"},
	{"the battery drains fast", "0:battery drains fast"},
	{"battery drained fast", "0:battery drained fast"},
	{"it is not charging", "1:not charging"},
	{"won't charge. Won't fully charge", "1:won't charge|2:Won't fully "
					      "charge"},
	{"won't fully charge", "2:won't fully charge"},
	{"a dirty socket", "3:dirty socket"},
	{"dirty ports", "3:dirty ports"},
	{"won't. Charge", ""},
	{"hold the charge button", ""},
	{"the it is", ""},
	{"", ""},
};

START_TEST(symptoms_match_across_stop_words_word_forms_and_synonyms)
{
	check_find(&symptom_cases[_i], kb_taxonomy_find_symptoms);
}
END_TEST

static const struct find_case color_cases[] = {
	{"blinking red then white", "0:red|1:white"},
	{"an amber glow, a Yellow light", "3:amber|3:Yellow"},
	{"blue", "2:blue"},
	{"reddish", ""},
};

START_TEST(colours_match_by_id_and_synonym)
{
	check_find(&color_cases[_i], kb_taxonomy_find_colors);
}
END_TEST

static const struct find_case pattern_cases[] = {
	{"it stays on white", "0:stays on"},
	{"the light stayed on", "0:stayed on"},
	{"Flashes red, then steady", "1:Flashes|0:steady"},
	{"there is no light at all", "2:no light"},
	{"the LED isn't lit", "2:isn't lit"},
	{"the LED is lit", "0:lit"},
	{"blinking", "1:blinking"},
};

START_TEST(patterns_match_multi_word_synonyms_longest_first)
{
	check_find(&pattern_cases[_i], kb_taxonomy_find_patterns);
}
END_TEST

START_TEST(matches_are_appended_to_what_the_caller_has)
{
	struct kb_match *m = NULL;
	size_t n = 0;

	kb_taxonomy_find_colors(small, "red", &m, &n);
	kb_taxonomy_find_colors(small, "white and blue", &m, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(m[0].index, 0);
	ck_assert_uint_eq(m[1].index, 1);
	ck_assert_uint_eq(m[2].index, 2);
	ck_assert_uint_eq(m[2].start, 10);
	free(m);
}
END_TEST

START_TEST(a_taxonomy_built_by_hand_still_matches)
{
	struct kb_taxonomy t;
	struct kb_led_term color;
	struct kb_match *m = NULL;
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	color.id = "green";
	kb_strv_init(&color.synonyms);
	kb_strv_push(&color.synonyms, "lime");
	t.colors = &color;
	t.ncolors = 1;
	kb_taxonomy_find_colors(&t, "a lime or green light", &m, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(kb_taxonomy_color(&t, "LIME"), &color);
	free(m);
	kb_strv_free(&color.synonyms);
}
END_TEST

START_TEST(arbitrary_bytes_never_break_matching)
{
	unsigned int seed = 12345;
	char text[512];
	struct kb_match *m = NULL;
	size_t n = 0, i, len;
	int round;
	static const char *const pieces[] = {
		"sound",     "core",  "2",	  " ",	     "-",      "won't",
		"\xE2\x80\x99", "\xFF", "\xC3\xA9", "red",   "blinking", ". ",
		"|",	     "\n",    "no light", "stays", "on",     "charge",
	};

	for (round = 0; round < 2000; round++) {
		len = 0;
		while (len < sizeof(text) - 16) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 23 == 0)
				break;
			i = (seed >> 8) % N_ELEMS(pieces);
			memcpy(text + len, pieces[i], strlen(pieces[i]));
			len += strlen(pieces[i]);
		}
		text[len] = '\0';
		kb_taxonomy_find_models(small, text, &m, &n);
		kb_taxonomy_find_symptoms(small, text, &m, &n);
		kb_taxonomy_find_colors(small, text, &m, &n);
		kb_taxonomy_find_patterns(small, text, &m, &n);
		for (i = 0; i < n; i++)
			ck_assert_uint_le(m[i].end, len);
		free(m);
		m = NULL;
		n = 0;
	}
}
END_TEST

START_TEST(arbitrary_json_never_crashes_the_loader)
{
	static const char *const docs[] = {
		"{\"models\": [{\"id\": \"a\", \"name\": \"A\", \"aliases\": "
		"[\"\", \"   \", \"\\u00e9\"]}]}",
		"{\"models\": [{\"id\": \"a\\\"b\", \"name\": \"A\"}, "
		"{\"id\": \"A\\\"B\", \"name\": \"B\"}]}",
		"{\"symptoms\": [{\"id\": \"s\", "
		"\"phrases\": [\"the\", \"\"]}]}",
		"{\"synonyms\": [[], [\"a\", \"a\"], [\"the\", \"an\"]]}",
		"{\"led\": {\"colors\": [{\"id\": \"x\", \"synonyms\": "
		"[\"won't\", \"not\"]}]}}",
		"null",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		"{\"models\": [{\"id\": \"a\", \"name\": \"A\"}",
		"{\"models\"\0: []}",
	};
	struct kb_taxonomy *t;
	struct kb_error err;
	size_t i;

	for (i = 0; i < N_ELEMS(docs); i++) {
		t = NULL;
		kb_error_clear(&err);
		if (kb_taxonomy_parse("f", docs[i], strlen(docs[i]) + (i == 8),
				      &t, &err) == KB_OK) {
			ck_assert_ptr_nonnull(t);
			kb_taxonomy_free(t);
		} else {
			ck_assert_ptr_null(t);
			ck_assert_msg(strncmp(err.msg, "f", 1) == 0, "%s",
				      err.msg);
		}
	}
}
END_TEST

START_TEST(a_long_text_is_matched_quickly)
{
	struct kb_buf b;
	struct kb_match *m = NULL;
	size_t n = 0, i;
	double t0;

	kb_buf_init(&b);
	for (i = 0; i < 20000; i++)
		kb_buf_adds(&b, "The sound core 2 won't hold a charge; "
				"blinking red light, ");
	t0 = kb_now();
	kb_taxonomy_find_models(small, b.data, &m, &n);
	ck_assert_uint_eq(n, 20000);
	kb_taxonomy_find_symptoms(small, b.data, &m, &n);
	ck_assert_uint_eq(n, 40000);
	ck_assert_msg(kb_now() - t0 < 5.0, "matching took %.2fs",
		      kb_now() - t0);
	free(m);
	kb_buf_free(&b);
}
END_TEST

/* ---- packing ---- */

static void
assert_same_strv(const struct kb_strv *a, const struct kb_strv *b,
		 const char *what)
{
	size_t i;

	ck_assert_msg(a->n == b->n, "%s: %zu strings, not %zu", what, b->n,
		      a->n);
	for (i = 0; i < a->n; i++)
		ck_assert_str_eq(a->v[i], b->v[i]);
}

static void
assert_same_terms(const struct kb_led_term *a, size_t na,
		  const struct kb_led_term *b, size_t nb)
{
	size_t i;

	ck_assert_uint_eq(na, nb);
	for (i = 0; i < na; i++) {
		ck_assert_str_eq(a[i].id, b[i].id);
		assert_same_strv(&a[i].synonyms, &b[i].synonyms, a[i].id);
	}
}

static void
assert_same_matches(const struct kb_taxonomy *t, const struct kb_taxonomy *u)
{
	void (*find[4])(const struct kb_taxonomy *, const char *,
			struct kb_match **, size_t *) = {
		kb_taxonomy_find_models, kb_taxonomy_find_symptoms,
		kb_taxonomy_find_colors, kb_taxonomy_find_patterns
	};
	struct kb_match *m1, *m2;
	struct kb_buf text;
	size_t i, j, n1, n2, k;

	kb_buf_init(&text);
	for (i = 0; i < t->nmodels; i++) {
		kb_buf_printf(&text, "%s and ", t->models[i].name);
		for (j = 0; j < t->models[i].aliases.n; j++)
			kb_buf_printf(&text, "%s, ", t->models[i].aliases.v[j]);
	}
	for (i = 0; i < t->nsymptoms; i++)
		for (j = 0; j < t->symptoms[i].phrases.n; j++)
			kb_buf_printf(&text, "%s; ", t->symptoms[i].phrases.v[j]);
	for (i = 0; i < t->ncolors; i++)
		kb_buf_printf(&text, "%s light, ", t->colors[i].id);
	for (i = 0; i < t->npatterns; i++)
		kb_buf_printf(&text, "%s light. ", t->patterns[i].id);
	for (k = 0; k < 4; k++) {
		m1 = m2 = NULL;
		n1 = n2 = 0;
		find[k](t, text.data, &m1, &n1);
		find[k](u, text.data, &m2, &n2);
		ck_assert_uint_gt(n1, 0);
		ck_assert_uint_eq(n1, n2);
		for (i = 0; i < n1; i++) {
			ck_assert_uint_eq(m1[i].index, m2[i].index);
			ck_assert_uint_eq(m1[i].start, m2[i].start);
			ck_assert_uint_eq(m1[i].end, m2[i].end);
		}
		free(m1);
		free(m2);
	}
	kb_buf_free(&text);
}

static struct kb_taxonomy *
repack(const struct kb_taxonomy *t, struct kb_buf *blob)
{
	struct kb_taxonomy *u = NULL;
	struct kb_error err;

	kb_buf_init(blob);
	kb_taxonomy_pack(t, blob);
	kb_error_clear(&err);
	ck_assert_msg(kb_taxonomy_unpack(blob->data, blob->len, &u, &err) ==
			      KB_OK,
		      "%s", err.msg);
	return u;
}

START_TEST(a_packed_taxonomy_unpacks_to_the_same_entries_and_tables)
{
	static const char *const files[] = { DATA "small.json",
					     "kb/taxonomy.json" };
	struct kb_taxonomy *t, *u, *w;
	struct kb_buf b1, b2;
	struct kb_error err;
	size_t i;

	kb_error_clear(&err);
	ck_assert_msg(kb_taxonomy_load(files[_i], &t, &err) == KB_OK, "%s",
		      err.msg);
	u = repack(t, &b1);
	ck_assert_ptr_null(u->json);
	ck_assert_uint_eq(u->nmodels, t->nmodels);
	ck_assert_uint_gt(u->nmodels, 1);
	for (i = 0; i < t->nmodels; i++) {
		ck_assert_str_eq(u->models[i].id, t->models[i].id);
		ck_assert_str_eq(u->models[i].name, t->models[i].name);
		ck_assert_msg((u->models[i].brand == NULL) ==
				      (t->models[i].brand == NULL),
			      "%s: brand", t->models[i].id);
		if (t->models[i].brand != NULL)
			ck_assert_str_eq(u->models[i].brand,
					 t->models[i].brand);
		assert_same_strv(&t->models[i].aliases, &u->models[i].aliases,
				 t->models[i].id);
	}
	ck_assert_uint_eq(u->nsymptoms, t->nsymptoms);
	for (i = 0; i < t->nsymptoms; i++) {
		ck_assert_str_eq(u->symptoms[i].id, t->symptoms[i].id);
		ck_assert_str_eq(u->symptoms[i].label ? u->symptoms[i].label
						      : "(none)",
				 t->symptoms[i].label ? t->symptoms[i].label
						      : "(none)");
		assert_same_strv(&t->symptoms[i].phrases,
				 &u->symptoms[i].phrases, t->symptoms[i].id);
	}
	assert_same_terms(t->colors, t->ncolors, u->colors, u->ncolors);
	assert_same_terms(t->patterns, t->npatterns, u->patterns,
			  u->npatterns);
	ck_assert_uint_eq(u->nsynonyms, t->nsynonyms);
	for (i = 0; i < t->nsynonyms; i++)
		assert_same_strv(&t->synonyms[i], &u->synonyms[i], "synonyms");
	/*
	 * The tables came across whole: packing again gives as many bytes
	 * (map slots may fall in another order), and matching a text made
	 * of every name, phrase and LED word finds the same entries at the
	 * same places.
	 */
	w = repack(u, &b2);
	ck_assert_uint_eq(b1.len, b2.len);
	assert_same_matches(t, u);
	assert_same_matches(t, w);
	/*
	 * Each model's aliases, name and brand come squashed (lowercase
	 * letters and digits of its words, nothing between), only from a
	 * blob, and nothing past them.
	 */
	for (i = 0; i < t->nmodels; i++) {
		const struct kb_model *m = &t->models[i];
		size_t k;

		for (k = 0; k < m->aliases.n + 2; k++) {
			const char *src = k < m->aliases.n ? m->aliases.v[k]
					  : k == m->aliases.n ? m->name
					  : m->brand ? m->brand : "";
			char *norm = kb_normalize(src), *to = norm, *r;

			for (r = norm; *r; r++)
				if (*r != ' ')
					*to++ = *r;
			*to = '\0';
			ck_assert_ptr_null(kb_taxonomy_model_form(t, i, k));
			ck_assert_ptr_nonnull(kb_taxonomy_model_form(u, i, k));
			ck_assert_str_eq(kb_taxonomy_model_form(u, i, k), norm);
			ck_assert_str_eq(kb_taxonomy_model_form(w, i, k), norm);
			free(norm);
		}
		ck_assert_ptr_null(kb_taxonomy_model_form(u, i, k));
	}
	ck_assert_ptr_null(kb_taxonomy_model_form(u, t->nmodels, 0));
	for (i = 0; i < t->nmodels; i++)
		ck_assert_ptr_eq(kb_taxonomy_model(u, t->models[i].name),
				 &u->models[kb_taxonomy_model(
						    t, t->models[i].name) -
					    t->models]);
	kb_taxonomy_free(t);
	kb_taxonomy_free(u);
	kb_taxonomy_free(w);
	kb_buf_free(&b1);
	kb_buf_free(&b2);
}
END_TEST

/* Matching on a taxonomy that unpacked must neither crash nor overrun. */
static void
exercise(const struct kb_taxonomy *t)
{
	static const char text[] = "my sound core 2 won't hold a charge, "
				   "blinking red light and a steady blue one";
	struct kb_match *m = NULL;
	size_t n = 0, i;

	kb_taxonomy_find_models(t, text, &m, &n);
	kb_taxonomy_find_symptoms(t, text, &m, &n);
	kb_taxonomy_find_colors(t, text, &m, &n);
	kb_taxonomy_find_patterns(t, text, &m, &n);
	for (i = 0; i < n; i++)
		ck_assert_uint_le(m[i].end, sizeof(text) - 1);
	free(m);
	(void)kb_taxonomy_model(t, "soundcore 2");
	(void)kb_taxonomy_symptom(t, "wont-charge");
}

START_TEST(a_damaged_or_foreign_packed_taxonomy_is_refused)
{
	struct kb_taxonomy *u;
	struct kb_error err;
	struct kb_buf b;
	size_t cut, at, refused = 0, tried = 0;
	char *copy, *v;

	kb_buf_init(&b);
	kb_taxonomy_pack(small, &b);
	copy = kb_xmalloc(b.len);
	/* Cut short anywhere: always refused. */
	for (cut = 0; cut < b.len; cut++) {
		u = (struct kb_taxonomy *)&err; /* must be reset */
		kb_error_clear(&err);
		ck_assert_int_eq(kb_taxonomy_unpack(b.data, cut, &u, &err),
				 KB_ERR_PARSE);
		ck_assert_ptr_null(u);
		ck_assert_msg(strstr(err.msg, "packed taxonomy") != NULL, "%s",
			      err.msg);
	}
	/* Any byte changed: refused, or a taxonomy that works. */
	for (at = 0; at < b.len; at++) {
		static const unsigned char flips[] = { 0x01, 0x80, 0xFF };
		size_t f;

		for (f = 0; f < sizeof(flips); f++) {
			memcpy(copy, b.data, b.len);
			copy[at] = (char)(copy[at] ^ flips[f]);
			u = NULL;
			tried++;
			if (kb_taxonomy_unpack(copy, b.len, &u, &err) != KB_OK) {
				ck_assert_ptr_null(u);
				refused++;
				continue;
			}
			exercise(u);
			kb_taxonomy_free(u);
		}
	}
	ck_assert_uint_gt(refused, tried / 4);
	/* Made by another build: refused, saying so. */
	memcpy(copy, b.data, b.len);
	v = memmem(copy, b.len, KB_VERSION, strlen(KB_VERSION));
	ck_assert_ptr_nonnull(v);
	v[0] = v[0] == '9' ? '8' : '9';
	kb_error_clear(&err);
	ck_assert_int_eq(kb_taxonomy_unpack(copy, b.len, &u, &err),
			 KB_ERR_PARSE);
	ck_assert_msg(strstr(err.msg, "not made by kbsearch " KB_VERSION) !=
			      NULL,
		      "%s", err.msg);
	free(copy);
	kb_buf_free(&b);
}
END_TEST

/* The matching tests, run on a parsed and on an unpacked taxonomy. */
static void
add_match_tests(TCase *tc)
{
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(
		tc, models_are_looked_up_by_any_name_in_any_case_or_spacing, 0,
		N_ELEMS(model_lookup_cases));
	tcase_add_test(tc,
		       symptoms_colours_and_patterns_are_looked_up_by_any_name);
	tcase_add_loop_test(
		tc, models_are_found_in_any_spacing_but_on_word_boundaries, 0,
		N_ELEMS(model_cases));
	tcase_add_loop_test(
		tc, symptoms_match_across_stop_words_word_forms_and_synonyms, 0,
		N_ELEMS(symptom_cases));
	tcase_add_loop_test(tc, colours_match_by_id_and_synonym, 0,
			    N_ELEMS(color_cases));
	tcase_add_loop_test(tc,
			    patterns_match_multi_word_synonyms_longest_first, 0,
			    N_ELEMS(pattern_cases));
	tcase_add_test(tc, matches_are_appended_to_what_the_caller_has);
	tcase_add_test(tc, arbitrary_bytes_never_break_matching);
	tcase_add_test(tc, a_long_text_is_matched_quickly);
}

static Suite *
taxonomy_suite(void)
{
	Suite *s = suite_create("taxonomy");
	TCase *tc;

	tc = tcase_create("textnorm");
	tcase_add_loop_test(tc, words_are_lowercased_folded_and_split, 0,
			    N_ELEMS(tokenize_cases));
	tcase_add_test(tc, token_offsets_point_at_the_word_as_written);
	tcase_add_test(tc, tokens_carry_their_norms_length_and_hash);
	tcase_add_test(tc, tokenizing_a_prefix_stops_at_its_length);
	tcase_add_test(tc, normalize_joins_norms_with_single_spaces);
	tcase_add_loop_test(tc, stop_words_keep_negations_and_light_words, 0,
			    N_ELEMS(stopword_cases));
	tcase_add_test(tc, every_negated_contraction_is_a_negation);
	tcase_add_loop_test(tc, stems_agree_with_the_fts5_porter_stemmer, 0,
			    N_ELEMS(stem_cases));
	tcase_add_test(tc,
		       stemming_leaves_long_words_alone_and_truncates_safely);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, load_small, free_small);
	tcase_add_test(tc, the_small_taxonomy_loads_with_every_part);
	tcase_add_loop_test(tc, bad_files_are_refused_naming_the_line_and_path,
			    0, N_ELEMS(error_cases));
	tcase_add_loop_test(tc, inline_taxonomy_errors_name_the_json_path, 0,
			    N_ELEMS(inline_error_cases));
	tcase_add_test(tc, a_missing_file_is_an_io_error);
	tcase_add_test(tc,
		       parsing_from_memory_keeps_the_text_and_accepts_a_bom);
	tcase_add_test(tc, an_empty_taxonomy_finds_nothing_but_works);
	tcase_add_test(tc, arbitrary_json_never_crashes_the_loader);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_checked_fixture(tc, load_small, free_small);
	add_match_tests(tc);
	tcase_add_test(tc, a_taxonomy_built_by_hand_still_matches);
	suite_add_tcase(s, tc);

	/* The same matching tests on the taxonomy packed and unpacked. */
	tc = tcase_create("match-packed");
	tcase_add_checked_fixture(tc, load_small_packed, free_small);
	add_match_tests(tc);
	suite_add_tcase(s, tc);

	tc = tcase_create("pack");
	tcase_add_checked_fixture(tc, load_small, free_small);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(
		tc, a_packed_taxonomy_unpacks_to_the_same_entries_and_tables,
		0, 2);
	tcase_add_test(tc, a_damaged_or_foreign_packed_taxonomy_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(taxonomy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
