/* fuzzy.c - edit distance for typo tolerance. */
#include <string.h>

#include "fuzzy.h"

#define MAXW 64

size_t
kb_edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[3][MAXW + 1], *prev2 = d[0], *prev = d[1], *cur = d[2], *t;
	size_t best;

	if (la > MAXW || lb > MAXW)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > max ? max + 1 : prev[lb];
}

size_t
kb_typo_budget(const char *word)
{
	size_t n = 0;

	for (; *word; word++) {
		if (*word >= '0' && *word <= '9')
			return 0;
		n++;
	}
	return n >= 9 ? 2 : n >= 5 ? 1 : 0;
}

size_t
kb_typo_budget_unseen(const char *word)
{
	size_t budget = kb_typo_budget(word);

	if (budget == 0 && strlen(word) == 4 &&
	    strspn(word, "abcdefghijklmnopqrstuvwxyz") == 4)
		return 1;
	return budget;
}
