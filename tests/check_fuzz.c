/* check_fuzz.c - every fuzzing seed and every input that once crashed, replayed
 * through the harnesses. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fuzz/fuzz.h"
#include "util.h"

/* Built with AddressSanitizer (make asan): its report names the input too. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_HOOKS 1
#endif

#define FUZZ_DIR "tests/fuzz/"

/* Say which input was running when a signal or a sanitizer ends the run. */
static void
say_input(void)
{
	const char *name = kb_fuzz_input_name;

	if (name == NULL)
		return;
	if (write(2, "fuzz: while running ", 20) < 0 ||
	    write(2, name, strlen(name)) < 0 || write(2, "\n", 1) < 0)
		return;
}

static void
on_fatal(int sig)
{
	say_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
watch_for_crashes(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
#ifdef HAVE_SANITIZER_HOOKS
	__sanitizer_set_death_callback(say_input);
#endif
}

/* Run every file in FUZZ_DIR/kind/target; returns how many there were. */
static size_t
replay(const struct kb_fuzz_target *t, const char *kind)
{
	char *dir = kb_xasprintf(FUZZ_DIR "%s/%s", kind, t->name);
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), i;
	size_t ran = 0;

	for (i = 0; i < n; i++) {
		char *path = kb_xasprintf("%s/%s", dir, ents[i]->d_name);
		struct kb_error err;
		char *data = NULL;
		size_t len = 0;

		if (ents[i]->d_name[0] != '.') {
			ck_assert_msg(kb_read_file(path, 1 << 20, &data, &len,
						   &err) == KB_OK,
				      "%s", err.msg);
			kb_fuzz_input_name = path;
			ck_assert_int_eq(t->fn((const uint8_t *)data, len), 0);
			kb_fuzz_input_name = NULL;
			ran++;
		}
		free(data);
		free(path);
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return ran;
}

START_TEST(every_seed_and_regression_case_runs_clean)
{
	const struct kb_fuzz_target *t = &kb_fuzz_targets[_i];
	size_t seeds;

	watch_for_crashes();
	seeds = replay(t, "seeds");
	ck_assert_msg(seeds > 0, "no seeds in " FUZZ_DIR "seeds/%s", t->name);
	replay(t, "regressions");
}
END_TEST

/* The report a deliberate failure prints is not news. */
static void
quiet(void)
{
	if (freopen("/dev/null", "w", stderr) == NULL)
		return;
}

/* The harnesses' checks can fail: a page echoing markup aborts. */
START_TEST(a_page_holding_injected_markup_is_caught)
{
	static const char page[] = "<p>you searched for <zzfz onload=x></p>";

	quiet();
	kb_fuzz_check_html("page", page, sizeof(page) - 1);
}
END_TEST

START_TEST(a_page_linking_to_a_script_url_is_caught)
{
	static const char page[] = "<p><img src=\"data:image/png;base64,AA\">"
				   "<a href=\"JavaScript:alert(1)\">x</a></p>";

	quiet();
	kb_fuzz_check_html("page", page, sizeof(page) - 1);
}
END_TEST

START_TEST(indexed_text_with_a_control_byte_is_caught)
{
	quiet();
	kb_fuzz_check_text("heading", "Reset\x1b[31m the speaker");
}
END_TEST

START_TEST(every_target_has_a_seed_folder_and_a_dictionary)
{
	size_t i;

	for (i = 0; i < kb_fuzz_ntargets; i++) {
		char *seeds =
		    kb_xasprintf(FUZZ_DIR "seeds/%s", kb_fuzz_targets[i].name);
		char *dict =
		    kb_xasprintf(FUZZ_DIR "%s.dict", kb_fuzz_targets[i].name);

		ck_assert_msg(access(seeds, R_OK | X_OK) == 0, "%s", seeds);
		ck_assert_msg(access(dict, R_OK) == 0, "%s", dict);
		free(seeds);
		free(dict);
	}
}
END_TEST

static Suite *
fuzz_suite(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("fuzz");

	/* Seeds run through whole searches, slow under the sanitizers. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_target_has_a_seed_folder_and_a_dictionary);
	tcase_add_loop_test(tc, every_seed_and_regression_case_runs_clean, 0,
			    (int)kb_fuzz_ntargets);
	tcase_add_test_raise_signal(
	    tc, a_page_holding_injected_markup_is_caught, SIGABRT);
	tcase_add_test_raise_signal(
	    tc, a_page_linking_to_a_script_url_is_caught, SIGABRT);
	tcase_add_test_raise_signal(
	    tc, indexed_text_with_a_control_byte_is_caught, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fuzz_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
