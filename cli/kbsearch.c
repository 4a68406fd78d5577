/* kbsearch.c - search the index from a terminal: argument parsing and rendering. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "escape.h"
#include "json.h"
#include "search.h"
#include "taxonomy.h"
#include "util.h"

enum { EXIT_HITS = 0, EXIT_NONE = 1, EXIT_USAGE = 2, EXIT_NOINDEX = 3 };

struct opts {
	const char *db;
	const char *model;
	const char *symptom;
	const char *show;
	size_t limit;
	size_t offset;
	bool json;
	bool color;
	bool list_models;
	bool list_symptoms;
};

static void
usage(FILE *fp)
{
	fputs("usage: kbsearch [options] QUERY...\n"
	      "\n"
	      "Search the troubleshooting index built by kbindex.\n"
	      "\n"
	      "  --db PATH          index (default $KBSEARCH_DB, else ./kb.db)\n"
	      "  --model NAME       only sections about this model (name, id "
	      "or alias)\n"
	      "  --symptom ID       only sections about this symptom\n"
	      "  -n, --limit N      results to show (default 10, at most 100)\n"
	      "  --offset N         skip the first N results\n"
	      "  --json             print the JSON document the HTTP API "
	      "returns\n"
	      "  --color WHEN       auto (default), always or never\n"
	      "  --list-models      list the models the index knows\n"
	      "  --list-symptoms    list the symptoms the index knows\n"
	      "  --show ARTICLE     print one article (id or path)\n"
	      "  --help, --version\n"
	      "\n"
	      "Exit status: 0 results found, 1 none, 2 usage error, 3 no "
	      "usable index.\n",
	      fp);
}

static int
parse_size(const char *name, const char *s, size_t max, size_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    (unsigned long long)v > max) {
		fprintf(stderr,
			"kbsearch: %s must be a whole number from 0 to %zu, "
			"not '%s'\n",
			name, max, s);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static void
put(struct kb_buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
	kb_buf_reset(b);
}

static void
print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
}

static const char *
sgr(const struct opts *o, const char *code)
{
	return o->color ? code : "";
}

/* One line saying how the query was read. */
static void
print_understood(const struct opts *o, const struct kb_result *r)
{
	const struct kb_understanding *u = &r->understood;
	struct kb_strv parts;
	struct kb_buf b, t;
	size_t i;

	if (!u->model && !u->brand && !u->color && !u->pattern &&
	    u->symptoms.n == 0)
		return;
	kb_strv_init(&parts);
	kb_buf_init(&b);
	kb_buf_init(&t);
	if (u->model)
		kb_strv_push_own(&parts, kb_xasprintf("model %s", u->model));
	else if (u->brand)
		kb_strv_push_own(&parts, kb_xasprintf("brand %s", u->brand));
	if (u->color || u->pattern)
		kb_strv_push_own(&parts,
				 kb_xasprintf("light %s%s%s",
					      u->pattern ? u->pattern : "",
					      u->pattern && u->color ? " " : "",
					      u->color ? u->color : ""));
	for (i = 0; i < u->symptoms.n; i++)
		kb_buf_printf(&t, "%s%s", i ? ", " : "symptom ",
			      u->symptoms.v[i]);
	if (t.len)
		kb_strv_push_own(&parts, kb_buf_steal(&t));
	for (i = 0; i < u->terms.n; i++)
		kb_buf_printf(&t, "%s%s", i ? " " : "words: ", u->terms.v[i]);
	if (t.len)
		kb_strv_push_own(&parts, kb_buf_steal(&t));
	kb_buf_adds(&t, "Understood: ");
	for (i = 0; i < parts.n; i++)
		kb_buf_printf(&t, "%s%s", i ? " · " : "", parts.v[i]);
	kb_term_text(&b, t.data, false);
	printf("%s%s%s\n", sgr(o, "\033[2m"), b.data, sgr(o, "\033[0m"));
	kb_buf_free(&b);
	kb_buf_free(&t);
	kb_strv_free(&parts);
}

static const char *
light_colour(const char *color)
{
	static const char *const map[][2] = {
		{ "red", "\033[31m" },	  { "green", "\033[32m" },
		{ "orange", "\033[33m" }, { "blue", "\033[34m" },
		{ "purple", "\033[35m" }, { "white", "\033[97m" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(color, map[i][0]) == 0)
			return map[i][1];
	return "";
}

/* The answer card: what the light means, before any list. */
static void
print_answers(const struct opts *o, const struct kb_result *r)
{
	struct kb_buf b;
	size_t i;

	if (r->nleds == 0)
		return;
	kb_buf_init(&b);
	for (i = 0; i < r->nleds; i++) {
		const struct kb_led_answer *l = &r->leds[i];
		bool blink = strcmp(l->pattern, "solid") != 0 &&
			     strcmp(l->pattern, "off") != 0;

		printf("%s%s●%s ", o->color ? light_colour(l->color) : "",
		       o->color && blink ? "\033[5m" : "",
		       sgr(o, "\033[0m"));
		kb_buf_printf(&b, "%s %s", l->pattern, l->color);
		if (l->model)
			kb_buf_printf(&b, " on the %s", l->model);
		kb_buf_adds(&b, ": ");
		kb_term_text(&b, "", false);
		printf("%s", sgr(o, "\033[1m"));
		b.data[0] = (char)(b.data[0] >= 'a' && b.data[0] <= 'z'
					   ? b.data[0] - 'a' + 'A'
					   : b.data[0]);
		put(&b);
		kb_term_text(&b, l->meaning, false);
		put(&b);
		printf("%s\n  %s(", sgr(o, "\033[0m"), sgr(o, "\033[2m"));
		kb_term_text(&b, *l->heading ? l->heading : "", false);
		if (*l->heading)
			kb_buf_adds(&b, " — ");
		kb_term_text(&b, l->path, false);
		kb_buf_addc(&b, '#');
		kb_term_text(&b, l->anchor, false);
		put(&b);
		printf(")%s\n", sgr(o, "\033[0m"));
	}
	putchar('\n');
	kb_buf_free(&b);
}

static void
print_hits(const struct opts *o, const struct kb_result *r)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	print_understood(o, r);
	if (r->did_you_mean) {
		printf("Did you mean: %s", sgr(o, "\033[1m"));
		kb_term_text(&b, r->did_you_mean, false);
		put(&b);
		printf("%s\n", sgr(o, "\033[0m"));
	}
	if (r->understood.model || r->understood.color || r->did_you_mean ||
	    r->understood.symptoms.n)
		putchar('\n');
	print_answers(o, r);
	if (r->nhits == 0) {
		printf("No results for \"");
		kb_term_text(&b, r->query, false);
		put(&b);
		printf("\".\n");
		kb_buf_free(&b);
		return;
	}
	printf("%s%zu result%s%s for \"", sgr(o, "\033[2m"), r->total,
	       r->total == 1 ? "" : "s",
	       r->relax != 0 ? " with some of the words" : "");
	kb_term_text(&b, r->query, false);
	put(&b);
	printf("\" (%.1f ms)%s\n\n", r->ms, sgr(o, "\033[0m"));
	for (i = 0; i < r->nhits; i++) {
		const struct kb_hit *h = &r->hits[i];

		printf("%s%zu.%s %s", sgr(o, "\033[1m"), r->offset + i + 1,
		       sgr(o, "\033[0m"), sgr(o, "\033[1m"));
		kb_term_text(&b, *h->heading ? h->heading : h->title, false);
		put(&b);
		printf("%s", sgr(o, "\033[0m"));
		if (*h->heading) {
			printf(" %s— ", sgr(o, "\033[36m"));
			kb_term_text(&b, h->title, false);
			put(&b);
			printf("%s", sgr(o, "\033[0m"));
		}
		printf("\n   ");
		kb_term_text(&b, h->snippet, o->color);
		put(&b);
		printf("\n   %s", sgr(o, "\033[2m"));
		kb_term_text(&b, h->path, false);
		if (*h->anchor) {
			kb_buf_addc(&b, '#');
			kb_term_text(&b, h->anchor, false);
		}
		put(&b);
		printf("%s\n\n", sgr(o, "\033[0m"));
	}
	if (r->offset + r->nhits < r->total)
		printf("%s(more: --offset %zu)%s\n", sgr(o, "\033[2m"),
		       r->offset + r->nhits, sgr(o, "\033[0m"));
	kb_buf_free(&b);
}

static int
show_article(const struct opts *o, struct kb_db *db)
{
	struct kb_db_article *a = NULL;
	struct kb_error err;
	struct kb_buf b;
	size_t i;

	kb_error_clear(&err);
	if (kb_db_article(db, o->show, &a, &err) != KB_OK) {
		fprintf(stderr, "kbsearch: %s\n", err.msg);
		return err.status == KB_ERR_MISSING ? EXIT_NONE : EXIT_NOINDEX;
	}
	if (o->json) {
		json_t *j = kb_json_article(a);

		print_json(j);
		json_decref(j);
		kb_db_article_free(a);
		return EXIT_HITS;
	}
	kb_buf_init(&b);
	printf("%s", sgr(o, "\033[1m"));
	kb_term_text(&b, a->title, false);
	put(&b);
	printf("%s\n%s", sgr(o, "\033[0m"), sgr(o, "\033[2m"));
	kb_term_text(&b, a->path, false);
	put(&b);
	printf("  (article %lld)%s\n", (long long)a->id, sgr(o, "\033[0m"));
	for (i = 0; i < a->models.n; i++)
		printf("%s%s", i ? ", " : "model: ", a->models.v[i]);
	if (a->models.n)
		putchar('\n');
	for (i = 0; i < a->symptoms.n; i++)
		printf("%s%s", i ? ", " : "symptoms: ", a->symptoms.v[i]);
	if (a->symptoms.n)
		putchar('\n');
	for (i = 0; i < a->nleds; i++) {
		printf("LED: %s %s", a->leds[i].pattern, a->leds[i].color);
		if (a->leds[i].model)
			printf(" (%s)", a->leds[i].model);
		printf(" — ");
		kb_term_text(&b, a->leds[i].meaning, false);
		put(&b);
		putchar('\n');
	}
	for (i = 0; i < a->nsections; i++) {
		const struct kb_db_section *s = &a->sections[i];
		const char *p, *nl;

		putchar('\n');
		if (*s->heading) {
			printf("%s## ", sgr(o, "\033[1m"));
			kb_term_text(&b, s->heading, false);
			put(&b);
			printf("%s\n\n", sgr(o, "\033[0m"));
		}
		/* Line by line, so the body keeps its lists and paragraphs. */
		for (p = s->body; *p; p = *nl ? nl + 1 : nl) {
			char *line;

			nl = strchr(p, '\n');
			if (nl == NULL)
				nl = p + strlen(p);
			line = kb_xstrndup(p, (size_t)(nl - p));
			kb_term_text(&b, line, false);
			free(line);
			put(&b);
			putchar('\n');
		}
	}
	kb_buf_free(&b);
	kb_db_article_free(a);
	return EXIT_HITS;
}

static int
list_tags(const struct opts *o, struct kb_db *db, int kind)
{
	struct kb_error err;
	json_t *arr;
	size_t i;

	kb_error_clear(&err);
	arr = kb_json_tags(db, kind, &err);
	if (arr == NULL) {
		fprintf(stderr, "kbsearch: %s\n", err.msg);
		return EXIT_NOINDEX;
	}
	if (o->json) {
		print_json(arr);
	} else {
		for (i = 0; i < json_array_size(arr); i++) {
			json_t *e = json_array_get(arr, i);
			json_int_t n = json_integer_value(
				json_object_get(e, "sections"));

			printf("%-34s %-28s %5lld section%s\n",
			       json_string_value(json_object_get(
				       e, kind == KB_TAG_MODEL ? "name"
							       : "label")),
			       json_string_value(json_object_get(e, "id")),
			       (long long)n, n == 1 ? "" : "s");
		}
	}
	json_decref(arr);
	return EXIT_HITS;
}

static char *
join_args(int argc, char **argv)
{
	struct kb_buf b;
	int i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (i = 0; i < argc; i++) {
		if (i)
			kb_buf_addc(&b, ' ');
		kb_buf_adds(&b, argv[i]);
	}
	return kb_buf_steal(&b);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "model", required_argument, NULL, 'm' },
		{ "symptom", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "offset", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", required_argument, NULL, 'c' },
		{ "colour", required_argument, NULL, 'c' },
		{ "list-models", no_argument, NULL, 'M' },
		{ "list-symptoms", no_argument, NULL, 'S' },
		{ "show", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	struct kb_search_opts so = { 0 };
	struct kb_result *r = NULL;
	struct kb_db *db = NULL;
	struct kb_error err;
	const char *color = "auto", *nc;
	char *query = NULL;
	int c, status = EXIT_USAGE;

	o.db = getenv("KBSEARCH_DB");
	if (o.db == NULL || *o.db == '\0')
		o.db = "kb.db";
	o.limit = 10;
	while ((c = getopt_long(argc, argv, "n:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 'm':
			o.model = optarg;
			break;
		case 's':
			o.symptom = optarg;
			break;
		case 'n':
			if (parse_size("--limit", optarg, KB_SEARCH_MAX_LIMIT,
				       &o.limit) != 0)
				return EXIT_USAGE;
			if (o.limit == 0) {
				fputs("kbsearch: --limit must be at least 1\n",
				      stderr);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			if (parse_size("--offset", optarg, 100000,
				       &o.offset) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			o.json = true;
			break;
		case 'c':
			color = optarg;
			if (strcmp(color, "auto") && strcmp(color, "always") &&
			    strcmp(color, "never")) {
				fprintf(stderr,
					"kbsearch: --color must be auto, "
					"always or never, not '%s'\n",
					color);
				return EXIT_USAGE;
			}
			break;
		case 'M':
			o.list_models = true;
			break;
		case 'S':
			o.list_symptoms = true;
			break;
		case 'w':
			o.show = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_HITS;
		case 'V':
			printf("kbsearch %s\n", KB_VERSION);
			return EXIT_HITS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	nc = getenv("NO_COLOR");
	o.color = strcmp(color, "always") == 0 ||
		  (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO) &&
		   (nc == NULL || *nc == '\0'));
	if (optind >= argc && !o.show && !o.list_models && !o.list_symptoms) {
		fputs("kbsearch: no query given, e.g. kbsearch \"won't hold "
		      "charge\"\n",
		      stderr);
		usage(stderr);
		return EXIT_USAGE;
	}

	kb_error_clear(&err);
	kb_db_one_shot();
	if (kb_db_open(o.db, &db, &err) != KB_OK) {
		if (err.status == KB_ERR_MISSING)
			fprintf(stderr,
				"kbsearch: no index at %s: run `kbindex "
				"kb/` first (or set --db / KBSEARCH_DB)\n",
				o.db);
		else
			fprintf(stderr, "kbsearch: %s\n", err.msg);
		return EXIT_NOINDEX;
	}
	if (o.show) {
		status = show_article(&o, db);
		goto out;
	}
	if (o.list_models || o.list_symptoms) {
		status = list_tags(&o, db,
				   o.list_models ? KB_TAG_MODEL
						 : KB_TAG_SYMPTOM);
		goto out;
	}
	query = join_args(argc - optind, argv + optind);
	so.query = query;
	so.model = o.model;
	so.symptom = o.symptom;
	so.limit = o.limit;
	so.offset = o.offset;
	if (kb_search(db, &so, &r, &err) != KB_OK) {
		fprintf(stderr, "kbsearch: %s\n", err.msg);
		status = err.status == KB_ERR_ARG ? EXIT_USAGE : EXIT_NOINDEX;
		goto out;
	}
	if (o.json) {
		json_t *j = kb_json_result(r);

		print_json(j);
		json_decref(j);
	} else {
		print_hits(&o, r);
	}
	status = r->nhits > 0 ? EXIT_HITS : EXIT_NONE;
out:
	if (fflush(stdout) != 0 && status == EXIT_HITS)
		status = EXIT_NONE;
	kb_result_free(r);
	kb_db_close(db);
	free(query);
	return status;
}
