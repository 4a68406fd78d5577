/* proctime.c - median wall time of a whole process, fork to exit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

/* Run argv once with output to /dev/null; returns its exit status or -1. */
static int
run_once(char **argv, double *ms)
{
	double t0 = bench_now_ms();
	pid_t pid;
	int status, fd;

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "proctime: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "proctime: wait: %s\n", strerror(errno));
		return -1;
	}
	*ms = bench_now_ms() - t0;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* One command of the command line: its name and argv (NULL-ended). */
struct cmd {
	const char *name;
	char **argv;
	double *v;
	int status;
};

int
main(int argc, char **argv)
{
	struct cmd cmds[8];
	size_t runs, i, ncmd = 0, c;
	double warm;
	int rc = 1, a;

	if (argc < 4 || bench_parse_count(argv[2], &runs) != 0) {
		fputs("usage: proctime NAME RUNS COMMAND [ARG...]"
		      " [-- NAME COMMAND [ARG...]]...\n"
		      "Runs each COMMAND once to warm up, then RUNS times, in"
		      " turn (one run of\neach, then the next round), output"
		      " discarded; prints a line\nproc NAME MEDIAN MIN MAX"
		      " STATUS (ms, tabs) for each.\n",
		      stderr);
		return 2;
	}
	/* Split the command line at each "--" into NAME COMMAND [ARG...]. */
	cmds[ncmd].name = argv[1];
	cmds[ncmd].argv = argv + 3;
	ncmd++;
	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--") != 0)
			continue;
		argv[a] = NULL;
		if (a + 2 >= argc || ncmd == sizeof(cmds) / sizeof(*cmds)) {
			fputs("proctime: each -- needs NAME COMMAND; at most 8"
			      " commands\n",
			      stderr);
			return 2;
		}
		cmds[ncmd].name = argv[a + 1];
		cmds[ncmd].argv = argv + a + 2;
		ncmd++;
	}
	for (c = 0; c < ncmd; c++)
		cmds[c].v = calloc(runs, sizeof(double));
	/* A warm-up run of each, then rounds: drift lands on all alike. */
	for (i = 0; i <= runs; i++) {
		for (c = 0; c < ncmd; c++) {
			struct cmd *k = &cmds[c];

			if (k->v == NULL)
				goto out;
			k->status = run_once(k->argv, i > 0 ? &k->v[i - 1]
							    : &warm);
			/* kbsearch exits 1 when nothing matched; 2+ is an
			 * error. */
			if (k->status < 0 || k->status >= 2) {
				fprintf(stderr,
					"proctime: %s exited with status %d\n",
					k->argv[0], k->status);
				goto out;
			}
		}
	}
	for (c = 0; c < ncmd; c++) {
		struct cmd *k = &cmds[c];
		double median = bench_percentile(k->v, runs, 50); /* sorts */

		printf("proc\t%s\t%.4f\t%.4f\t%.4f\t%d\n", k->name, median,
		       k->v[0], k->v[runs - 1], k->status);
	}
	rc = 0;
out:
	for (c = 0; c < ncmd; c++)
		free(cmds[c].v);
	return rc;
}
