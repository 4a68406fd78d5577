/* fuzzy.h - edit distance for typo tolerance. */
#ifndef KB_FUZZY_H
#define KB_FUZZY_H

#include <stddef.h>

/*
 * Optimal-string-alignment distance (insertions, deletions, substitutions
 * and swaps of two neighbours each cost 1) between a and b, bytewise.
 * Returns max + 1 as soon as the distance must exceed max.
 */
size_t kb_edit_distance(const char *a, const char *b, size_t max);

/*
 * How many edits a word of this length may take: 0 below 5 letters, 1
 * from 5, 2 from 9.  Words holding a digit take none: "soundcore 2" is
 * never read as "soundcore 3".
 */
size_t kb_typo_budget(const char *word);
/*
 * The budget of a word the index has never seen: as kb_typo_budget, and
 * one edit for four letters a-z too (Typesense's min_len_1typo), since
 * such a word can only be a typo.
 */
size_t kb_typo_budget_unseen(const char *word);

#endif
