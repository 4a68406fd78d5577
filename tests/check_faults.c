/* check_faults.c - the real kbindex under faults: kills, a full disk, bad files, two at once. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "kbx.h"
#include "testutil.h"
#include "util.h"

/* Kills in `make check`, half per kill test; KB_FAULT_KILLS sets others. */
#define DEFAULT_KILLS 30
#define NOBODY 65534

static char *dir;	/* the test's private folder */
static char *docs;	/* the articles given to kbindex */
static char *dbpath;	/* the live index */
static char *taxpath;	/* the taxonomy, given with --taxonomy */

static void
setup(void)
{
	dir = kb_test_tmpdir();
	docs = kb_test_path(dir, "docs");
	dbpath = kb_test_path(dir, "kb.db");
	taxpath = kb_test_path(dir, "taxonomy.json");
	kb_test_write(dir, "taxonomy.json", kb_test_taxonomy);
	mkdir(docs, 0755);
}

static void
teardown(void)
{
	char *p;

	/* What a bad-file test made unreadable must go too. */
	p = kb_test_path(docs, "sub");
	chmod(p, 0755);
	free(p);
	kb_test_rmtree(dir);
	free(docs);
	free(dbpath);
	free(taxpath);
	free(dir);
}

/* ---- running kbindex ------------------------------------------------- */

struct child_opts {
	long long fsize;  /* RLIMIT_FSIZE in bytes, or -1 */
	bool nobody;	  /* run as nobody when we are root */
	bool no_taxonomy; /* let kbindex look for its taxonomy */
	const char *extra; /* one more argument (e.g. --full), or NULL */
	const char *root2; /* a second folder to index, or NULL */
};

static bool
as_nobody(const struct child_opts *o)
{
	return o != NULL && o->nobody && geteuid() == 0;
}

/* In the child, before exec: limits and identity for kbindex only. */
static void
child_setup(void *arg)
{
	const struct child_opts *o = arg;
	struct rlimit rl;

	/* A kbindex that hangs is killed instead of hanging the suite. */
	alarm(120);
	if (o == NULL)
		return;
	if (o->fsize >= 0) {
		/* Writes past it fail with EFBIG, as on a full disk. */
		signal(SIGXFSZ, SIG_IGN);
		rl.rlim_cur = rl.rlim_max = (rlim_t)o->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(125);
	}
	if (as_nobody(o) &&
	    (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
	     setuid(NOBODY) != 0)) {
		fprintf(stderr, "cannot become nobody: %s\n", strerror(errno));
		_exit(126);
	}
}

static void
copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	ck_assert_msg(in >= 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(out >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert(write(out, buf, (size_t)n) == n);
	ck_assert(n == 0);
	close(in);
	close(out);
}

/*
 * The kbindex to run: root's file permissions are no test of anything, so
 * as root, the cases about them run a copy of kbindex (which nobody may
 * execute wherever the build is) as nobody, in a folder nobody may write.
 */
static const char *
kbindex_prog(const struct child_opts *o)
{
	static char *copy;

	if (!as_nobody(o))
		return kb_test_prog("kbindex");
	free(copy);
	copy = kb_test_path(dir, "kbindex");
	if (access(copy, X_OK) != 0) {
		copy_file(kb_test_prog("kbindex"), copy);
		ck_assert_int_eq(chmod(copy, 0755), 0);
	}
	ck_assert_int_eq(chmod(dir, 0777), 0);
	return copy;
}

static void
kbindex_on(struct kb_test_run *r, const char *db, const struct child_opts *o)
{
	const char *argv[12];
	size_t n = 0;

	argv[n++] = kbindex_prog(o);
	argv[n++] = "--db";
	argv[n++] = db;
	if (o == NULL || !o->no_taxonomy) {
		argv[n++] = "--taxonomy";
		argv[n++] = taxpath;
	}
	if (o != NULL && o->extra != NULL)
		argv[n++] = o->extra;
	argv[n++] = docs;
	if (o != NULL && o->root2 != NULL)
		argv[n++] = o->root2;
	argv[n] = NULL;
	kb_test_run_ex(r, argv, NULL, child_setup, (void *)o);
}

static void
kbindex(struct kb_test_run *r, const struct child_opts *o)
{
	kbindex_on(r, dbpath, o);
}

/* Run kbindex and insist that it succeeds. */
static void
index_ok(const char *db, const struct child_opts *o)
{
	struct kb_test_run r;

	kbindex_on(&r, db, o);
	ck_assert_msg(r.status == 0, "kbindex exited %d: %s", r.status, r.err);
	kb_test_run_free(&r);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static bool
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* No PATH.new, nor a journal of it, is left to trip the next run. */
static void
assert_no_temporary_files(const char *db)
{
	static const char *const suffix[] = { ".new", ".new-journal",
					      ".new-wal", ".new-shm",
					      "-journal", "-wal" };
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = kb_xasprintf("%s%s", db, suffix[i]);

		ck_assert_msg(!exists(p), "%s was left behind", p);
		free(p);
	}
}

/* ---- articles -------------------------------------------------------- */

static const char *const words[] = {
	"speaker", "battery", "charge",	 "cable",  "cord",    "port",
	"light",   "adapter", "reset",	 "socket", "lint",    "toothpick",
	"solder",  "board",   "replace", "unplug", "volume",  "pair",
	"wall",	   "usb",     "firmware", "drains", "quickly", "dead",
};

/* Generated article i in revision rev: six sections, some LED facts. */
static void
write_article(int i, int rev)
{
	unsigned x = (unsigned)i * 2654435761u + (unsigned)rev * 40503u + 1;
	struct kb_buf b;
	char name[64];
	int k, w;

	kb_buf_init(&b);
	kb_buf_printf(&b, "---\ntitle: Speaker fix %d, revision %d\n"
			  "symptoms: [%s]\n---\n",
		      i, rev, i % 3 ? "wont-hold-charge" : "wont-charge");
	for (k = 0; k < 6; k++) {
		kb_buf_printf(&b, "## Step %d for speaker %d\n\n", k, i);
		for (w = 0; w < 40; w++) {
			x = x * 1103515245u + 12345u;
			kb_buf_printf(&b, "%s ",
				      words[(x >> 16) % (sizeof(words) /
							 sizeof(words[0]))]);
		}
		kb_buf_printf(&b, "quux%d rev%d.\n\n", i, rev);
		if (k == 2 && i % 4 == 0)
			kb_buf_adds(&b, "- Solid red: charging\n"
					"- Blinking white: battery low\n\n");
	}
	snprintf(name, sizeof(name), "gen/a%05d.md", i);
	kb_test_write(docs, name, b.data);
	kb_buf_free(&b);
}

#define CORPUS_A 240

/* The knowledge base before a run. */
static void
corpus_a(void)
{
	int i;

	for (i = 0; i < CORPUS_A; i++)
		write_article(i, 0);
}

/* ... and as the run finds it: 20 removed, 30 changed, 40 added. */
static void
corpus_b(void)
{
	char name[64];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "%s/gen/a%05d.md", docs, i);
		ck_assert_int_eq(unlink(name), 0);
	}
	for (i = 20; i < 50; i++)
		write_article(i, 1);
	for (i = CORPUS_A; i < CORPUS_A + 40; i++)
		write_article(i, 0);
}

/* ---- what an index answers ------------------------------------------- */

struct snap {
	char *paths;	 /* "path hash\n" for every article, by path */
	char digest[17]; /* every row the index answers from */
	char *answers;	 /* kbsearch --json for a few queries, untimed */
};

static char *
sql_rows(sqlite3 *sql, const char *query)
{
	sqlite3_stmt *st = NULL;
	struct kb_buf b;
	int i, rc;

	kb_buf_init(&b);
	ck_assert_msg(sqlite3_prepare_v2(sql, query, -1, &st, NULL) ==
			      SQLITE_OK,
		      "%s: %s", query, sqlite3_errmsg(sql));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const void *v = sqlite3_column_blob(st, i);
			int n = sqlite3_column_bytes(st, i);

			kb_buf_printf(&b, "%d:%d:", sqlite3_column_type(st, i),
				      n);
			if (n > 0)
				kb_buf_add(&b, v, (size_t)n);
			kb_buf_addc(&b, i + 1 < sqlite3_column_count(st)
						? '\t'
						: '\n');
		}
	}
	ck_assert_msg(rc == SQLITE_DONE, "%s: %s", query, sqlite3_errmsg(sql));
	sqlite3_finalize(st);
	return kb_buf_steal(&b);
}

/* kbsearch --json for q, with the timing (the only thing that varies) cut. */
static char *
answer(const char *db, const char *q)
{
	const char *argv[] = { kb_test_prog("kbsearch"), "--db", db, "--json",
			       q, NULL };
	struct kb_test_run r;
	json_error_t e;
	json_t *j;
	char *s;

	kb_test_run(&r, argv, NULL);
	ck_assert_msg(r.status == 0 || r.status == 1,
		      "kbsearch %s exited %d: %s", q, r.status, r.err);
	j = json_loads(r.out, 0, &e);
	ck_assert_msg(j != NULL, "kbsearch %s: bad JSON: %s", q, e.text);
	json_object_del(j, "processingTimeMs");
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	kb_test_run_free(&r);
	return s;
}

/*
 * Check the index at db through and through and record what it answers.
 * The checks: SQLite's integrity_check; kbx_verify, which compares the
 * search index (term lists and postings) with the sections and titles it
 * was built from; FTS5's integrity-check of the title index against the
 * articles.  FTS5 runs its check as a write, which may wait for a kbindex
 * reading the live file, so they run on a copy; kbsearch answers from the
 * live file itself.
 */
static void
snap_take(struct snap *s, const char *db)
{
	static const char *const tables[] = {
		"SELECT * FROM articles ORDER BY id",
		"SELECT * FROM sections ORDER BY id",
		"SELECT * FROM leds ORDER BY id",
		"SELECT * FROM vocab ORDER BY word",
		"SELECT * FROM terms ORDER BY id",
		"SELECT * FROM postings ORDER BY id",
		"SELECT * FROM fwd ORDER BY id",
		"SELECT key, value FROM meta WHERE key = 'kbx'",
		"SELECT key, value FROM meta WHERE key IN ('schema',"
		" 'taxonomy_hash') ORDER BY key",
	};
	static const char *const queries[] = { "charging cable", "quux30",
					       "solid red", "quux5 drains",
					       "quux250" };
	struct kb_buf all;
	struct kb_error kerr;
	sqlite3 *sql = NULL;
	char *ok, *one, *copy = kb_test_path(dir, "check.db");
	size_t i;

	copy_file(db, copy);
	ck_assert_msg(sqlite3_open_v2(copy, &sql, SQLITE_OPEN_READWRITE,
				      NULL) == SQLITE_OK,
		      "%s does not open", db);
	ck_assert_int_eq(kb_db_configure(sql, 0), SQLITE_OK);
	ok = sql_rows(sql, "PRAGMA integrity_check");
	ck_assert_msg(strcmp(ok, "3:2:ok\n") == 0, "%s: integrity_check: %s",
		      db, ok);
	free(ok);
	ck_assert_msg(kbx_verify(sql, &kerr) == KB_OK, "%s: %s", db, kerr.msg);
	ck_assert_msg(sqlite3_exec(sql,
				   "INSERT INTO titles(titles, rank) VALUES"
				   " ('integrity-check', 1)",
				   NULL, NULL, NULL) == SQLITE_OK,
		      "%s: FTS5 integrity-check of the titles: %s", db,
		      sqlite3_errmsg(sql));
	s->paths = sql_rows(sql, "SELECT path, hash FROM articles"
				 " ORDER BY path");
	kb_buf_init(&all);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		one = sql_rows(sql, tables[i]);
		kb_buf_adds(&all, one);
		kb_buf_addc(&all, '\f');
		free(one);
	}
	kb_hash_hex(all.data, all.len, s->digest);
	kb_buf_free(&all);
	ck_assert_int_eq(sqlite3_close(sql), SQLITE_OK);
	unlink(copy);
	free(copy);

	kb_buf_init(&all);
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		one = answer(db, queries[i]);
		kb_buf_adds(&all, one);
		kb_buf_addc(&all, '\n');
		free(one);
	}
	s->answers = kb_buf_steal(&all);
}

static bool
snap_eq(const struct snap *a, const struct snap *b)
{
	return strcmp(a->paths, b->paths) == 0 &&
	       strcmp(a->digest, b->digest) == 0 &&
	       strcmp(a->answers, b->answers) == 0;
}

static void
snap_free(struct snap *s)
{
	free(s->paths);
	free(s->answers);
	memset(s, 0, sizeof(*s));
}

/* Put a saved index back as the live one, the way kbindex does. */
static void
restore(const char *saved)
{
	char *tmp = kb_xasprintf("%s.restore", dbpath);

	copy_file(saved, tmp);
	ck_assert_int_eq(rename(tmp, dbpath), 0);
	free(tmp);
}

/* What a run with o makes of the saved index, measured on a copy. */
static double
run_on_copy(const char *saved, const struct child_opts *o, struct snap *after)
{
	char *copy = kb_test_path(dir, "after.db");
	double t0;

	copy_file(saved, copy);
	t0 = kb_now();
	index_ok(copy, o);
	t0 = kb_now() - t0;
	snap_take(after, copy);
	unlink(copy);
	free(copy);
	return t0;
}

/*
 * The before and after of one run: the live index of corpus A (saved
 * beside it), and what a run over corpus B with o makes of it.  Returns
 * how long that run took.
 */
static double
before_and_after(struct snap *before, struct snap *after, char **saved,
		 const struct child_opts *o)
{
	double took;

	corpus_a();
	index_ok(dbpath, NULL);
	*saved = kb_test_path(dir, "before.db");
	copy_file(dbpath, *saved);
	snap_take(before, dbpath);
	corpus_b();
	took = run_on_copy(*saved, o, after);
	ck_assert_msg(!snap_eq(before, after), "the run changed nothing");
	return took;
}

/* ---- SIGKILL at random moments -------------------------------------- */

static int
kills_wanted(void)
{
	const char *e = getenv("KB_FAULT_KILLS");
	long n = e != NULL ? strtol(e, NULL, 10) : 0;

	return n > 0 && n < 1000000 ? (int)n : DEFAULT_KILLS;
}

static unsigned
seed_for(const char *what)
{
	const char *e = getenv("KB_FAULT_SEED");
	unsigned seed = e != NULL && *e ? (unsigned)strtoul(e, NULL, 10)
					 : (unsigned)time(NULL) ^
						   (unsigned)getpid();

	fprintf(stderr, "%s: KB_FAULT_SEED=%u\n", what, seed);
	return seed;
}

static pid_t
spawn_kbindex(bool full)
{
	char *errpath = kb_test_path(dir, "kbindex.err");
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDWR);
		int err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(in, 0);
		dup2(in, 1);
		dup2(err, 2);
		if (full)
			execl(kb_test_prog("kbindex"), "kbindex", "--full",
			      "--db", dbpath, "--taxonomy", taxpath, docs,
			      (char *)NULL);
		else
			execl(kb_test_prog("kbindex"), "kbindex", "--db",
			      dbpath, "--taxonomy", taxpath, docs,
			      (char *)NULL);
		_exit(127);
	}
	free(errpath);
	return pid;
}

static void
sleep_for(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Start a run over corpus B, SIGKILL it at a random moment between its
 * start and a little past the time a whole run takes, and look at the
 * live index: it must pass every check and answer exactly as before the
 * run or exactly as after a completed one.  Again and again; the leftovers
 * of each killed run stay for the next one to deal with.
 */
static void
kill_again_and_again(bool full)
{
	struct child_opts o = { -1, false, false, full ? "--full" : NULL,
				NULL };
	struct snap before, after, now;
	char *saved = NULL, *errpath = kb_test_path(dir, "kbindex.err");
	int rounds = kills_wanted() / 2, round, old = 0, new = 0, done = 0;
	unsigned seed = seed_for(full ? "kbindex --full" : "kbindex");
	double took, t0 = kb_now(), at = 0;
	struct kb_test_run r;

	took = before_and_after(&before, &after, &saved, &o);
	for (round = 0; round < (rounds > 0 ? rounds : 1); round++) {
		pid_t pid = spawn_kbindex(full);
		double start = kb_now();
		int st, gone = 0;

		at = took * 1.1 * (double)rand_r(&seed) / (double)RAND_MAX;
		while (kb_now() - start < at &&
		       !(gone = waitpid(pid, &st, WNOHANG) == pid))
			sleep_for(0.001);
		/*
		 * Keep the moments spread over the whole run as its speed
		 * changes with the machine's load: a run that finished took
		 * this long; one still going near the end is slower.
		 */
		if (gone) {
			took = kb_now() - start;
		} else {
			kill(pid, SIGKILL);
			ck_assert_int_eq(waitpid(pid, &st, 0), pid);
			if (at > took)
				took = at;
		}
		if (WIFEXITED(st)) {
			char *err = NULL;
			size_t len;
			struct kb_error e;

			if (WEXITSTATUS(st) != 0)
				kb_read_file(errpath, 1 << 20, &err, &len, &e);
			ck_assert_msg(WEXITSTATUS(st) == 0,
				      "round %d: kbindex exited %d: %s",
				      round, WEXITSTATUS(st),
				      err ? err : "");
		}
		snap_take(&now, dbpath);
		if (WIFEXITED(st)) {
			ck_assert_msg(snap_eq(&now, &after),
				      "round %d: a finished run left another "
				      "index than the new one",
				      round);
			done++;
			restore(saved);
		} else if (snap_eq(&now, &before)) {
			old++;
		} else {
			ck_assert_msg(snap_eq(&now, &after),
				      "round %d, killed %.3f s after the "
				      "start: the live index is neither the "
				      "old one nor the new one",
				      round, kb_now() - start);
			new++;
			restore(saved);
		}
		snap_free(&now);
	}
	/* Whatever the kills left behind, the next run completes. */
	kbindex(&r, &o);
	ck_assert_msg(r.status == 0, "after the kills: %s", r.err);
	kb_test_run_free(&r);
	snap_take(&now, dbpath);
	ck_assert(snap_eq(&now, &after));
	assert_no_temporary_files(dbpath);
	fprintf(stderr,
		"kbindex%s: %d runs: %d killed (%d left the old index, %d "
		"the new one), %d finished first; every check passed; "
		"%.1f s\n",
		full ? " --full" : "", round, old + new, old, new, done,
		kb_now() - t0);
	snap_free(&now);
	snap_free(&before);
	snap_free(&after);
	free(saved);
	free(errpath);
}

START_TEST(killing_a_rebuild_leaves_the_old_index_or_the_new_one)
{
	kill_again_and_again(true);
}
END_TEST

START_TEST(killing_an_update_leaves_the_old_index_or_the_new_one)
{
	kill_again_and_again(false);
}
END_TEST

/* ---- a full disk ----------------------------------------------------- */

static off_t
size_of(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

/*
 * One run that cannot write all it needs: either it fits after all and
 * the index is the new one, or kbindex says why it failed and the old
 * index answers as before, with nothing left to trip the next run.
 */
static bool
run_out_of_space(const struct child_opts *o, const struct snap *before,
		 const struct snap *after, const char *saved,
		 const char *const *says, size_t nsays)
{
	struct kb_test_run r;
	struct snap now;
	bool failed;
	size_t i;

	kbindex(&r, o);
	snap_take(&now, dbpath);
	failed = r.status != 0;
	if (!failed) {
		ck_assert(snap_eq(&now, after));
		restore(saved);
	} else {
		ck_assert_msg(r.status == 1, "exit status %d: %s", r.status,
			      r.err);
		ck_assert_msg(count_lines(r.err) == 1, "%s", r.err);
		for (i = 0; i < nsays; i++)
			if (strstr(r.err, says[i]) != NULL)
				break;
		ck_assert_msg(i < nsays, "the message does not say why: %s",
			      r.err);
		ck_assert_msg(strstr(r.err, "previous index is unchanged"),
			      "%s", r.err);
		ck_assert_msg(snap_eq(&now, before),
			      "the live index changed: %s", r.err);
		assert_no_temporary_files(dbpath);
	}
	kb_test_run_free(&r);
	snap_free(&now);
	return failed;
}

START_TEST(a_file_size_limit_fails_the_run_cleanly_and_the_next_works)
{
	static const char *const says[] = { "File too large" };
	struct child_opts o = { -1, false, false, NULL, NULL };
	struct child_opts of = { -1, false, false, "--full", NULL };
	struct snap before, after, after_full, now;
	char *saved = NULL;
	long long size, limits[6];
	size_t i;
	int full;

	before_and_after(&before, &after, &saved, &o);
	run_on_copy(saved, &of, &after_full);
	size = (long long)size_of(dbpath);
	limits[0] = 0;
	limits[1] = 4096;
	limits[2] = 65536;
	limits[3] = size / 2;
	limits[4] = size - 4096;
	limits[5] = size + 65536;
	for (full = 0; full < 2; full++) {
		o.extra = full ? "--full" : NULL;
		for (i = 0; i < 6; i++) {
			o.fsize = limits[i];
			/* Whatever it tried to write, it could not all fit. */
			ck_assert_msg(run_out_of_space(&o, &before,
						       full ? &after_full
							    : &after,
						       saved, says, 1) ||
					      limits[i] >= size,
				      "a %lld-byte limit did not stop a "
				      "%lld-byte index",
				      limits[i], size);
		}
	}
	/* The next run, with room to write, works. */
	index_ok(dbpath, NULL);
	snap_take(&now, dbpath);
	ck_assert(snap_eq(&now, &after));
	snap_free(&now);
	snap_free(&before);
	snap_free(&after);
	snap_free(&after_full);
	free(saved);
}
END_TEST

/*
 * The same on a real full file system: a tmpfs just larger than the
 * index, mounted in a mount namespace of this test's own, which needs
 * root.  Without it this says so and tests nothing; the file size limit
 * above runs everywhere.
 */
START_TEST(a_full_file_system_fails_the_run_cleanly_and_the_next_works)
{
	static const char *const says[] = { "disk full",
					    "No space left on device" };
	struct child_opts o = { -1, false, false, NULL, NULL };
	struct snap before, after, now;
	char *saved = NULL, *mnt = kb_test_path(dir, "small"), *opts;
	char *live = dbpath;
	long long size;
	int full;

	before_and_after(&before, &after, &saved, &o);
	size = (long long)size_of(dbpath);
	mkdir(mnt, 0755);
	opts = kb_xasprintf("size=%lld", size + 256 * 1024);
	if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
	    /* "none": a propagation change ignores the source and type,
	       but memcheck checks them as strings. */
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
		fprintf(stderr,
			"full file system: not tested (%s): needs root and "
			"mount(2)\n",
			geteuid() != 0 ? "not root" : strerror(errno));
		goto out;
	}
	dbpath = kb_test_path(mnt, "kb.db");
	copy_file(saved, dbpath);
	for (full = 0; full < 2; full++) {
		o.extra = full ? "--full" : NULL;
		/* Neither a copy of the index nor a new one fits. */
		ck_assert_msg(run_out_of_space(&o, &before, &after, saved,
					       says, 2),
			      "the run fit in %s", opts);
	}
	/* Room again: the next run works. */
	ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
	free(dbpath);
	dbpath = live;
	o.extra = NULL;
	index_ok(dbpath, &o);
	snap_take(&now, dbpath);
	ck_assert(snap_eq(&now, &after));
	snap_free(&now);
out:
	dbpath = live;
	snap_free(&before);
	snap_free(&after);
	free(saved);
	free(opts);
	free(mnt);
}
END_TEST

/* ---- two at once ----------------------------------------------------- */

/* CK_TIMEOUT_MULTIPLIER, which stretches Check's own timeouts too. */
static double
timeout_multiplier(void)
{
	const char *e = getenv("CK_TIMEOUT_MULTIPLIER");
	char *end;
	double m;

	if (e == NULL || *e == '\0')
		return 1;
	m = strtod(e, &end);
	return end != e && *end == '\0' && m > 0 ? m : 1;
}

START_TEST(a_second_indexer_is_refused_naming_the_first_one)
{
	struct child_opts o = { -1, false, false, NULL, NULL };
	struct snap before, after, now;
	struct kb_test_run r;
	char *saved = NULL, *lock = kb_xasprintf("%s.lock", dbpath);
	char want[32], held[32], *msg;
	double deadline;
	pid_t first;
	int st, fd;
	ssize_t n;

	before_and_after(&before, &after, &saved, &o);
	first = spawn_kbindex(false);
	/*
	 * kbindex writes its pid into PATH.lock once it holds the lock.  The
	 * wait starts now, not before the index above was built, and
	 * stretches as Check's timeouts do (make valgrind: memcheck takes
	 * seconds to start a program).
	 */
	deadline = kb_now() + 20 * timeout_multiplier();
	snprintf(want, sizeof(want), "%ld\n", (long)first);
	for (;;) {
		fd = open(lock, O_RDONLY);
		n = fd >= 0 ? read(fd, held, sizeof(held) - 1) : -1;
		if (fd >= 0)
			close(fd);
		held[n > 0 ? n : 0] = '\0';
		if (strcmp(held, want) == 0)
			break;
		ck_assert_msg(waitpid(first, &st, WNOHANG) == 0,
			      "the first kbindex ended before the test saw "
			      "it run");
		ck_assert_msg(kb_now() < deadline, "no lock taken");
		sleep_for(0.0005);
	}
	/* Hold the first one mid-run, so the second surely meets it. */
	ck_assert_int_eq(kill(first, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(first, &st, WUNTRACED), first);
	ck_assert(WIFSTOPPED(st));

	kbindex(&r, &o);
	ck_assert_int_eq(r.status, 1);
	msg = kb_xasprintf("kbindex: %s is being updated by another kbindex "
			   "(pid %ld); try again when it has finished\n",
			   dbpath, (long)first);
	ck_assert_str_eq(r.err, msg);
	ck_assert_str_eq(r.out, "");
	free(msg);
	kb_test_run_free(&r);
	snap_take(&now, dbpath);
	ck_assert_msg(snap_eq(&now, &before), "the refused run changed it");
	snap_free(&now);

	ck_assert_int_eq(kill(first, SIGCONT), 0);
	ck_assert_int_eq(waitpid(first, &st, 0), first);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snap_take(&now, dbpath);
	ck_assert(snap_eq(&now, &after));
	snap_free(&now);

	/* With the first gone, the second runs, and finds nothing to do. */
	kbindex(&r, &o);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "(0 new, 0 changed, 0 removed)"));
	kb_test_run_free(&r);
	snap_take(&now, dbpath);
	ck_assert(snap_eq(&now, &after));
	snap_free(&now);
	snap_free(&before);
	snap_free(&after);
	free(saved);
	free(lock);
}
END_TEST

/* ---- bad files ------------------------------------------------------- */

/*
 * Every bad-file case starts from an index of four good articles; then
 * victim.md (or the folder sub/) goes bad and fresh.md appears.
 */
static const char victim_md[] =
	"---\ntitle: Zanzibar charging guide\nsymptoms: [wont-charge]\n---\n"
	"## Check the zanzibar cable\n\nA zanzibar cable is fine.\n";

static void
good_articles(void)
{
	kb_test_write(docs, "victim.md", victim_md);
	kb_test_write(docs, "one.md",
		      "# Reset\n\n## Hold the button\n\nHold the power "
		      "button for kumquat ten seconds.\n");
	kb_test_write(docs, "two.txt",
		      "Pairing help\n\nForget the speaker on the phone, "
		      "then pair it again.\n");
	kb_test_write(docs, "sub/deep.md",
		      "## Deep fix\n\nThe marmalade method works.\n");
}

static char *
docs_path(const char *name)
{
	return kb_test_path(docs, name);
}

static void
replace_victim(void)
{
	char *p = docs_path("victim.md");

	ck_assert_int_eq(unlink(p), 0);
	free(p);
}

static void
bad_unreadable_file(void)
{
	char *p = docs_path("victim.md");

	ck_assert_int_eq(chmod(p, 0), 0);
	free(p);
}

static void
bad_unreadable_folder(void)
{
	char *p = docs_path("sub");

	ck_assert_int_eq(chmod(p, 0), 0);
	free(p);
}

static void
bad_dangling_symlink(void)
{
	char *p = docs_path("victim.md");

	replace_victim();
	ck_assert_int_eq(symlink("gone.md", p), 0);
	free(p);
}

static void
bad_symlink_loop(void)
{
	char *p = docs_path("victim.md"), *q = docs_path("loop");

	replace_victim();
	ck_assert_int_eq(symlink("loop", p), 0);
	ck_assert_int_eq(symlink("victim.md", q), 0);
	free(p);
	free(q);
}

static void
bad_folder_loop(void)
{
	char *p = docs_path("sub/up");

	ck_assert_int_eq(symlink("..", p), 0);
	free(p);
}

static void
bad_fifo(void)
{
	char *p = docs_path("victim.md");

	replace_victim();
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	free(p);
}

static void
bad_fifo_taxonomy(void)
{
	char *p = docs_path("taxonomy.json");

	ck_assert_int_eq(mkfifo(p, 0644), 0);
	free(p);
}

/* A device node where root may make one, else a link to /dev/null. */
static void
bad_device(void)
{
	char *p = docs_path("victim.md");

	replace_victim();
	if (mknod(p, S_IFCHR | 0644, makedev(1, 3)) != 0)
		ck_assert_int_eq(symlink("/dev/null", p), 0);
	free(p);
}

static void
write_bytes(const char *name, const void *data, size_t len)
{
	char *p = docs_path(name);
	FILE *fp = fopen(p, "wb");

	ck_assert_msg(fp != NULL, "%s: %s", p, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	free(p);
}

/* What an image saved under an article's name looks like. */
static void
bad_binary(void)
{
	unsigned char png[4096];
	unsigned x = 7;
	size_t i;

	memcpy(png, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10", 20);
	for (i = 20; i < sizeof(png); i++) {
		x = x * 1103515245u + 12345u;
		png[i] = (unsigned char)(x >> 16);
	}
	write_bytes("victim.md", png, sizeof(png));
}

static void
bad_empty(void)
{
	write_bytes("victim.md", "", 0);
}

static void
bad_huge(void)
{
	static const char para[] =
		"## Step\n\nUnplug the speaker and wait before trying the "
		"cable again, then charge it for an hour.\n\n";
	char *p = docs_path("victim.md");
	FILE *fp = fopen(p, "wb");
	size_t n;

	ck_assert_ptr_nonnull(fp);
	for (n = 0; n < 50u * 1024 * 1024; n += sizeof(para) - 1)
		fputs(para, fp);
	ck_assert_int_eq(fclose(fp), 0);
	free(p);
}

static void
bad_front_matter(void)
{
	kb_test_write(docs, "victim.md",
		      "---\ntitle: Zanzibar\nmodels: [unclosed\n---\n## Body\n"
		      "\ntext\n");
}

/* An article in every encoding people save text in. */
static const char ref_md[] =
	"---\n"
	"title: Caf\xC3\xA9 speaker won\xE2\x80\x99t charge \xF0\x9F\x94\x8B\n"
	"models: [Anker Soundcore 2]\n"
	"symptoms: [wont-charge]\n"
	"---\n"
	"The speaker stays dark at 25 \xC2\xB0""C. Na\xC3\xAFve fixes first.\n"
	"\n"
	"## Check the c\xC3\xA2""ble\n"
	"\n"
	"Try another cable.\n"
	"\n"
	"- Solid red: charging\n"
	"- Blinking white: battery low\n"
	"\n"
	"## Reset the speaker\n"
	"\n"
	"Hold the power button for ten seconds.\n";

/* The same with only Latin-1 characters, for the Latin-1 file. */
static const char ref_latin1_md[] =
	"---\n"
	"title: Caf\xC3\xA9 speaker won't charge\n"
	"symptoms: [wont-charge]\n"
	"---\n"
	"The speaker stays dark at 25 \xC2\xB0""C. Na\xC3\xAFve fixes first.\n"
	"\n"
	"## Check the c\xC3\xA2""ble\n"
	"\n"
	"Try another cable \xC2\xAB""quickly\xC2\xBB.\n"
	"\n"
	"- Solid red: charging\n";

enum enc { LATIN1, UTF16LE, UTF16BE, UTF8BOM, CRLF };

/* ref in enc, as victim.md; ref itself as ref.md to compare with. */
static void
encode_as(const char *ref, enum enc enc)
{
	struct kb_buf b;
	size_t i, n = strlen(ref), k;
	uint32_t cp;

	kb_buf_init(&b);
	if (enc == UTF16LE)
		kb_buf_add(&b, "\xFF\xFE", 2);
	else if (enc == UTF16BE)
		kb_buf_add(&b, "\xFE\xFF", 2);
	else if (enc == UTF8BOM)
		kb_buf_add(&b, "\xEF\xBB\xBF", 3);
	for (i = 0; i < n; i += k) {
		k = kb_utf8_decode(ref + i, n - i, &cp);
		if (enc == UTF8BOM) {
			kb_buf_add(&b, ref + i, k);
		} else if (enc == CRLF) {
			if (cp == '\n')
				kb_buf_addc(&b, '\r');
			kb_buf_add(&b, ref + i, k);
		} else if (enc == LATIN1) {
			ck_assert(cp < 0x100);
			kb_buf_addc(&b, (char)cp);
		} else {
			uint32_t u[2];
			int m = 1, j;

			if (cp >= 0x10000) {
				u[0] = 0xD800 + ((cp - 0x10000) >> 10);
				u[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
				m = 2;
			} else {
				u[0] = cp;
			}
			for (j = 0; j < m; j++) {
				char hi = (char)(u[j] >> 8), lo = (char)u[j];

				kb_buf_addc(&b, enc == UTF16LE ? lo : hi);
				kb_buf_addc(&b, enc == UTF16LE ? hi : lo);
			}
		}
	}
	write_bytes("victim.md", b.data, b.len);
	kb_test_write(docs, "ref.md", ref);
	kb_buf_free(&b);
}

static void
enc_latin1(void)
{
	encode_as(ref_latin1_md, LATIN1);
}

static void
enc_utf16le(void)
{
	encode_as(ref_md, UTF16LE);
}

static void
enc_utf16be(void)
{
	encode_as(ref_md, UTF16BE);
}

static void
enc_utf8bom(void)
{
	encode_as(ref_md, UTF8BOM);
}

static void
enc_crlf(void)
{
	encode_as(ref_md, CRLF);
}

enum outcome {
	SKIPPED, /* one line naming the file; its old version stays */
	READ,	 /* read as the reference article, silently */
};

static const struct bad_case {
	const char *what;
	void (*prepare)(void);
	bool nobody;	  /* file permissions are the point */
	bool no_taxonomy; /* kbindex looks for taxonomy.json itself */
	enum outcome outcome;
	const char *names; /* what the message names */
	const char *says;  /* and why */
} bad_cases[] = {
	{ "unreadable file", bad_unreadable_file, true, false, SKIPPED,
	  "docs/victim.md", "Permission denied" },
	{ "unreadable folder", bad_unreadable_folder, true, false, SKIPPED,
	  "docs/sub", "Permission denied" },
	{ "dangling symlink", bad_dangling_symlink, false, false, SKIPPED,
	  "docs/victim.md", "broken symbolic link" },
	{ "file symlink loop", bad_symlink_loop, false, false, SKIPPED,
	  "docs/victim.md", "Too many levels of symbolic links" },
	{ "folder symlink loop", bad_folder_loop, false, false, SKIPPED,
	  "docs/sub/up", "symbolic link loop" },
	{ "FIFO", bad_fifo, false, false, SKIPPED, "docs/victim.md",
	  "not a regular file" },
	{ "FIFO as the taxonomy", bad_fifo_taxonomy, false, true, SKIPPED,
	  "docs/taxonomy.json", "not a regular file" },
	{ "device", bad_device, false, false, SKIPPED, "docs/victim.md",
	  "not a regular file" },
	{ "binary file", bad_binary, false, false, SKIPPED, "docs/victim.md",
	  "binary data" },
	{ "empty file", bad_empty, false, false, SKIPPED, "docs/victim.md",
	  "empty file" },
	{ "50 MB file", bad_huge, false, false, SKIPPED, "docs/victim.md",
	  "larger than 16 MiB" },
	{ "broken front matter", bad_front_matter, false, false, SKIPPED,
	  "docs/victim.md:4: front matter:", "expected ',' or ']'" },
	{ "UTF-8 with BOM", enc_utf8bom, false, false, READ, NULL, NULL },
	{ "UTF-16LE with BOM", enc_utf16le, false, false, READ, NULL, NULL },
	{ "UTF-16BE with BOM", enc_utf16be, false, false, READ, NULL, NULL },
	{ "CRLF line endings", enc_crlf, false, false, READ, NULL, NULL },
	{ "Latin-1", enc_latin1, false, false, READ, NULL, NULL },
};

/* An article as kbsearch --show --json prints it, less ids and paths. */
static json_t *
shown(const char *path)
{
	const char *argv[] = { kb_test_prog("kbsearch"), "--db", dbpath,
			       "--json", "--show", path, NULL };
	struct kb_test_run r;
	json_t *j;

	kb_test_run(&r, argv, NULL);
	ck_assert_msg(r.status == 0, "--show %s: %s", path, r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	kb_test_run_free(&r);
	return j;
}

static void
strip_ids(json_t *j)
{
	static const char *const keys[] = { "id", "path", "article",
					    "section" };
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			json_object_del(j, keys[i]);
		json_object_foreach(j, k, v)
			strip_ids(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			strip_ids(v);
	}
}

static void
assert_read_like_reference(void)
{
	json_t *got = shown("victim.md"), *want = shown("ref.md");
	char *g, *w;

	strip_ids(got);
	strip_ids(want);
	g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
	w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
	ck_assert_msg(json_equal(got, want), "read as\n%s\nnot as\n%s", g, w);
	ck_assert_uint_ge(json_array_size(json_object_get(got, "sections")),
			  2);
	free(g);
	free(w);
	json_decref(got);
	json_decref(want);
}

/* Every line of before is in after: no article lost or changed. */
static void
assert_kept(const char *before, const char *after)
{
	const char *p = before, *nl;

	for (; *p; p = nl + 1) {
		char *line;

		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		line = kb_xstrndup(p, (size_t)(nl - p + 1));
		ck_assert_msg(strstr(after, line) != NULL,
			      "lost or changed: %s", line);
		free(line);
	}
}

/*
 * A skipped bad file: exit status 1 and one line from kbindex that names
 * the file once and says what was wrong with it.
 */
static void
assert_one_message(const struct bad_case *c, const struct kb_test_run *r)
{
	const char *hit;

	ck_assert_msg(r->status == 1, "%s: exit status %d", c->what,
		      r->status);
	ck_assert_msg(count_lines(r->err) == 1 &&
			      strncmp(r->err, "kbindex: ", 9) == 0,
		      "%s: one message expected: %s", c->what, r->err);
	hit = strstr(r->err, c->names);
	ck_assert_msg(hit != NULL && !strstr(hit + 1, c->names),
		      "%s: the message does not name %s once: %s", c->what,
		      c->names, r->err);
	ck_assert_msg(strstr(r->err, c->says) != NULL,
		      "%s: the message does not say '%s': %s", c->what,
		      c->says, r->err);
}

START_TEST(a_bad_file_is_named_and_nothing_else_is_lost)
{
	const struct bad_case *c = &bad_cases[_i];
	struct child_opts o = { -1, c->nobody, c->no_taxonomy, NULL, NULL };
	struct snap before, after;
	struct kb_test_run r;
	char *hit;

	good_articles();
	index_ok(dbpath, &o);
	snap_take(&before, dbpath);
	c->prepare();
	kb_test_write(docs, "fresh.md", "## Fresh\n\nA persimmon tip.\n");
	kbindex(&r, &o);
	snap_take(&after, dbpath);
	ck_assert_msg(strstr(after.paths, "fresh.md") != NULL,
		      "%s: the rest was not indexed: %s", c->what, r.err);
	if (c->outcome == SKIPPED) {
		assert_one_message(c, &r);
		assert_kept(before.paths, after.paths);
		hit = answer(dbpath, "zanzibar");
		ck_assert_msg(strstr(hit, "\"path\":\"victim.md\""),
			      "%s: the old version does not answer", c->what);
		free(hit);
	} else {
		ck_assert_msg(r.status == 0 && *r.err == '\0',
			      "%s: exit status %d: %s", c->what, r.status,
			      r.err);
		assert_read_like_reference();
	}
	kb_test_run_free(&r);
	snap_free(&before);
	snap_free(&after);
}
END_TEST

/*
 * The same files in a build of a new index (--full), where the parsing
 * threads read them: each named once, in one line, and the rest indexed.
 */
START_TEST(a_bad_file_in_a_new_index_is_named_and_the_rest_is_indexed)
{
	const struct bad_case *c = &bad_cases[_i];
	struct child_opts o = { -1, c->nobody, c->no_taxonomy, "--full",
				NULL };
	struct snap after;
	struct kb_test_run r;

	good_articles();
	c->prepare();
	kb_test_write(docs, "fresh.md", "## Fresh\n\nA persimmon tip.\n");
	kbindex(&r, &o);
	snap_take(&after, dbpath);
	ck_assert_msg(strstr(after.paths, "fresh.md") != NULL,
		      "%s: the rest was not indexed: %s", c->what, r.err);
	if (c->outcome == SKIPPED) {
		assert_one_message(c, &r);
		if (strstr(c->names, "victim.md") != NULL)
			ck_assert_msg(strstr(after.paths, "victim.md") == NULL,
				      "%s: indexed anyway", c->what);
	} else {
		ck_assert_msg(r.status == 0 && *r.err == '\0',
			      "%s: exit status %d: %s", c->what, r.status,
			      r.err);
		assert_read_like_reference();
	}
	kb_test_run_free(&r);
	snap_free(&after);
}
END_TEST

/* A folder given that is gone (unmounted, renamed) removes nothing. */
START_TEST(a_folder_given_that_cannot_be_read_removes_nothing)
{
	char *more = kb_test_path(dir, "more"), *moved;
	struct child_opts o = { -1, false, false, NULL, NULL };
	struct snap before, after;
	struct kb_test_run r;

	good_articles();
	kb_test_write(more, "extra/elsewhere.md",
		      "## Elsewhere\n\nThe quince remedy.\n");
	o.root2 = more;
	index_ok(dbpath, &o);
	snap_take(&before, dbpath);
	ck_assert_ptr_nonnull(strstr(before.paths, "extra/elsewhere.md"));
	moved = kb_test_path(dir, "moved");
	ck_assert_int_eq(rename(more, moved), 0);
	kb_test_write(docs, "fresh.md", "## Fresh\n\nA persimmon tip.\n");
	kbindex(&r, &o);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(count_lines(r.err) == 1 && strstr(r.err, more) &&
			      strstr(r.err, "No such file or directory"),
		      "%s", r.err);
	snap_take(&after, dbpath);
	assert_kept(before.paths, after.paths);
	ck_assert_ptr_nonnull(strstr(after.paths, "fresh.md"));
	kb_test_run_free(&r);
	snap_free(&before);
	snap_free(&after);
	free(moved);
	free(more);
}
END_TEST

/* ---- the suite ------------------------------------------------------- */

static Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *kills = tcase_create("kills");
	TCase *disk = tcase_create("disk");
	TCase *lock = tcase_create("lock");
	TCase *bad = tcase_create("bad");
	int n = kills_wanted();

	/* About a second a kill even under the sanitizers. */
	tcase_set_timeout(kills, 60 + n);
	tcase_add_checked_fixture(kills, setup, teardown);
	tcase_add_test(kills,
		       killing_a_rebuild_leaves_the_old_index_or_the_new_one);
	tcase_add_test(kills,
		       killing_an_update_leaves_the_old_index_or_the_new_one);
	suite_add_tcase(s, kills);

	tcase_set_timeout(disk, 120);
	tcase_add_checked_fixture(disk, setup, teardown);
	tcase_add_test(
		disk, a_file_size_limit_fails_the_run_cleanly_and_the_next_works);
	tcase_add_test(
		disk, a_full_file_system_fails_the_run_cleanly_and_the_next_works);
	suite_add_tcase(s, disk);

	tcase_set_timeout(lock, 60);
	tcase_add_checked_fixture(lock, setup, teardown);
	tcase_add_test(lock, a_second_indexer_is_refused_naming_the_first_one);
	suite_add_tcase(s, lock);

	tcase_set_timeout(bad, 60);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_loop_test(bad, a_bad_file_is_named_and_nothing_else_is_lost,
			    0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_loop_test(
		bad, a_bad_file_in_a_new_index_is_named_and_the_rest_is_indexed,
		0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(bad, a_folder_given_that_cannot_be_read_removes_nothing);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(faults_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
