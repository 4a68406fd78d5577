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

int
main(int argc, char **argv)
{
	size_t runs, i;
	double *v, median;
	int st = 0, rc = 1;

	if (argc < 4 || bench_parse_count(argv[2], &runs) != 0) {
		fputs("usage: proctime NAME RUNS COMMAND [ARG...]\n"
		      "Runs COMMAND once to warm up, then RUNS times, output "
		      "discarded;\nprints proc NAME MEDIAN MIN MAX STATUS "
		      "(ms, tabs).\n",
		      stderr);
		return 2;
	}
	v = calloc(runs, sizeof(*v));
	if (v == NULL)
		return 1;
	for (i = 0; i <= runs; i++) {
		st = run_once(argv + 3, i > 0 ? &v[i - 1] : &median);
		/* kbsearch exits 1 when nothing matched; 2+ is an error. */
		if (st < 0 || st >= 2) {
			fprintf(stderr, "proctime: %s exited with status %d\n",
				argv[3], st);
			goto out;
		}
	}
	median = bench_percentile(v, runs, 50); /* sorts v */
	printf("proc\t%s\t%.4f\t%.4f\t%.4f\t%d\n", argv[1], median, v[0],
	       v[runs - 1], st);
	rc = 0;
out:
	free(v);
	return rc;
}
