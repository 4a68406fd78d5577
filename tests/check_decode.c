/* check_decode.c - a posting group's ids, by the vector and the byte path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "util.h"

/* A fixed xorshift, so a failure names a case that can be run again. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* How a case's gaps are drawn: the shapes postings take, and worse. */
enum shape {
	ONE_BYTE,  /* a dense group: every gap below 128 */
	TWO_BYTES, /* gaps up to 16383 */
	MIXED,	   /* mostly short, now and then three bytes or more */
	RARE_HUGE, /* a rare gap of up to 2^32 */
	NSHAPES
};

static uint64_t
gap(enum shape sh, uint64_t *s)
{
	switch (sh) {
	case ONE_BYTE:
		return next_rand(s) % 128;
	case TWO_BYTES:
		return next_rand(s) % 16384;
	case MIXED:
		return next_rand(s) % 8 == 0 ? next_rand(s) % 3000000
					     : next_rand(s) % 300;
	default:
		return next_rand(s) % 500 == 0 ? next_rand(s) % (1ull << 32)
					       : next_rand(s) % 700;
	}
}

/*
 * count gaps of shape sh as varints into an allocation of exactly their
 * size (so reading past them is a sanitizer error), and the ids they make
 * from first into ids, as long as they stay below 2^32; returns the bytes
 * and sets *nids.
 */
static unsigned char *
encode(enum shape sh, uint64_t *s, size_t count, uint64_t first, uint32_t *ids,
       size_t *nids, size_t *len)
{
	unsigned char *tmp = malloc(count * 10 + 1), *o = tmp, *out;
	uint64_t id = first;
	size_t i;
	bool past = false;

	ck_assert_ptr_nonnull(tmp);
	*nids = 0;
	for (i = 0; i < count; i++) {
		uint64_t d = gap(sh, s);

		o = kb_put_varint(o, d);
		id += d;
		if (id > UINT32_MAX)
			past = true;
		if (!past)
			ids[(*nids)++] = (uint32_t)id;
	}
	*len = (size_t)(o - tmp);
	out = malloc(*len ? *len : 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, tmp, *len);
	free(tmp);
	return out;
}

START_TEST(both_paths_give_every_id_of_every_shape)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint32_t *ids = malloc(5000 * sizeof(*ids));
	uint32_t *v = malloc((5000 + KB_DECODE_SLACK) * sizeof(*v));
	uint32_t *b = malloc((5000 + KB_DECODE_SLACK) * sizeof(*b));
	int round;

	printf("decode: vector path %s on this CPU\n",
	       kb_decode_simd() ? "taken" : "absent (byte path only)");
	for (round = 0; round < 4000; round++) {
		enum shape sh = (enum shape)(round % NSHAPES);
		size_t count = next_rand(&s) % 5000, nids, len, nv, nb;
		uint64_t first = next_rand(&s) % 4 == 0
				     ? UINT32_MAX - next_rand(&s) % 3000000
				     : next_rand(&s) % 1000;
		uint64_t idv = first, idb = first;
		unsigned char *p =
		    encode(sh, &s, count, first, ids, &nids, &len);

		nv = kb_decode_ids(p, len, &idv, count, v, true);
		nb = kb_decode_ids(p, len, &idb, count, b, false);
		ck_assert_msg(nv == nids && nb == nids,
			      "round %d (shape %d, %zu gaps from %llu): %zu "
			      "ids expected, vector %zu, bytes %zu",
			      round, (int)sh, count, (unsigned long long)first,
			      nids, nv, nb);
		ck_assert_msg(memcmp(v, ids, nids * sizeof(*ids)) == 0,
			      "round %d: the vector path's ids differ", round);
		ck_assert_msg(memcmp(b, ids, nids * sizeof(*ids)) == 0,
			      "round %d: the byte path's ids differ", round);
		if (nids > 0) {
			ck_assert_uint_eq(idv, ids[nids - 1]);
			ck_assert_uint_eq(idb, ids[nids - 1]);
		}
		free(p);
	}
	free(ids);
	free(v);
	free(b);
}
END_TEST

START_TEST(a_group_cut_short_gives_its_whole_varints_and_no_more)
{
	uint64_t s = 0x243f6a8885a308d3ull;
	uint32_t ids[3000], v[3000 + KB_DECODE_SLACK],
	    b[3000 + KB_DECODE_SLACK];
	int round;

	for (round = 0; round < 2000; round++) {
		enum shape sh = (enum shape)(round % 3); /* ids stay small */
		size_t count = 1 + next_rand(&s) % 3000, nids, len, cut, whole,
		       nv, nb;
		uint64_t idv = 0, idb = 0;
		unsigned char *p = encode(sh, &s, count, 0, ids, &nids, &len);
		const unsigned char *q;

		ck_assert_uint_eq(nids, count);
		cut = next_rand(&s) % (len + 1);
		/* The varints wholly inside the first cut bytes. */
		for (whole = 0, q = p; q < p + cut; q++)
			whole += *q < 0x80;
		nv = kb_decode_ids(p, cut, &idv, count, v, true);
		nb = kb_decode_ids(p, cut, &idb, count, b, false);
		ck_assert_msg(nv == whole && nb == whole,
			      "round %d: cut at %zu of %zu bytes: %zu whole "
			      "varints, vector %zu, bytes %zu",
			      round, cut, len, whole, nv, nb);
		ck_assert(memcmp(v, ids, whole * sizeof(*ids)) == 0);
		ck_assert(memcmp(b, ids, whole * sizeof(*ids)) == 0);
		free(p);
	}
}
END_TEST

START_TEST(asked_for_fewer_the_paths_agree_on_those)
{
	uint64_t s = 0x13198a2e03707344ull;
	uint32_t ids[4000], v[4000 + KB_DECODE_SLACK],
	    b[4000 + KB_DECODE_SLACK];
	int round;

	for (round = 0; round < 1000; round++) {
		size_t count = 1 + next_rand(&s) % 4000, nids, len, want, nv,
		       nb;
		uint64_t idv = 7, idb = 7;
		unsigned char *p =
		    encode(TWO_BYTES, &s, count, 7, ids, &nids, &len);

		want = next_rand(&s) % (count + 1);
		nv = kb_decode_ids(p, len, &idv, want, v, true);
		nb = kb_decode_ids(p, len, &idb, want, b, false);
		ck_assert_uint_eq(nb, want);
		ck_assert_msg(nv >= want && nv <= want + KB_DECODE_SLACK &&
				  nv <= count,
			      "round %d: asked for %zu of %zu, vector gave %zu",
			      round, want, count, nv);
		ck_assert(memcmp(v, ids, nv * sizeof(*ids)) == 0);
		ck_assert(memcmp(b, ids, nb * sizeof(*ids)) == 0);
		free(p);
	}
}
END_TEST

START_TEST(an_id_past_two_to_the_32_ends_the_group)
{
	/* 4294967290 + 3 + 2, then + 10 crosses 2^32: two ids, not three. */
	static const unsigned char p[] = {3, 2, 10, 1};
	uint32_t v[4 + KB_DECODE_SLACK], b[4 + KB_DECODE_SLACK];
	uint64_t idv = 4294967290u, idb = 4294967290u;

	ck_assert_uint_eq(kb_decode_ids(p, sizeof(p), &idv, 4, v, true), 2);
	ck_assert_uint_eq(kb_decode_ids(p, sizeof(p), &idb, 4, b, false), 2);
	ck_assert_uint_eq(v[0], 4294967293u);
	ck_assert_uint_eq(v[1], 4294967295u);
	ck_assert_uint_eq(b[1], 4294967295u);
}
END_TEST

START_TEST(the_marked_ids_are_those_whose_bit_is_set_in_order)
{
	uint64_t s = 0xa4093822299f31d0ull;
	static uint64_t bits[1024];
	static uint32_t ids[3000], ref[3000], v[3000], b[3000];
	int round;

	for (round = 0; round < 2000; round++) {
		size_t nbits = 64 * (1 + next_rand(&s) % 1024), n, i, k = 0, nv,
		       nb;
		uint32_t id = 0;

		for (i = 0; i < nbits / 64; i++)
			bits[i] = next_rand(&s) & next_rand(&s);
		n = next_rand(&s) % 3000;
		for (i = 0; i < n; i++) {
			/* Now and then past nbits: damage to be left out. */
			id += (uint32_t)(next_rand(&s) %
					 (2 * nbits / (n + 1) + 2));
			ids[i] =
			    next_rand(&s) % 50 == 0 ? id + (uint32_t)nbits : id;
			if (ids[i] < nbits &&
			    (bits[ids[i] / 64] >> (ids[i] % 64) & 1))
				ref[k++] = ids[i];
		}
		nb = kb_ids_marked(ids, n, bits, nbits, b, false);
		memcpy(v, ids, n * sizeof(*ids));
		nv = kb_ids_marked(v, n, bits, nbits, v, true); /* in place */
		ck_assert_msg(nv == k && nb == k,
			      "round %d: %zu marked, vector %zu, scalar %zu",
			      round, k, nv, nb);
		ck_assert(memcmp(v, ref, k * sizeof(*ref)) == 0);
		ck_assert(memcmp(b, ref, k * sizeof(*ref)) == 0);
	}
}
END_TEST

static Suite *
decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, both_paths_give_every_id_of_every_shape);
	tcase_add_test(tc,
		       a_group_cut_short_gives_its_whole_varints_and_no_more);
	tcase_add_test(tc, asked_for_fewer_the_paths_agree_on_those);
	tcase_add_test(tc, an_id_past_two_to_the_32_ends_the_group);
	tcase_add_test(tc, the_marked_ids_are_those_whose_bit_is_set_in_order);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
