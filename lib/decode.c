/* decode.c - a posting group's section ids from their varint deltas. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "util.h"

/*
 * Nearly every gap in a group is one or two bytes (a group holds
 * thousands of the index's sections).  Byte at a time, each varint's
 * start waits on the length of the one before: about 7 cycles an id,
 * which is most of what a query's first stage spends on the long lists
 * of common words.
 */
static size_t
decode_scalar(const unsigned char **pp, const unsigned char *end, uint64_t *id,
	      size_t want, uint32_t *out, size_t n, const unsigned char *stop,
	      bool *stopped)
{
	const unsigned char *p = *pp;
	uint64_t cur = *id, d;

	while (n < want && p < end && p <= stop) {
		const unsigned char *was = p;
		/* A second byte that cannot end a varint when there is none. */
		uint64_t b0 = p[0], b1 = end - p >= 2 ? p[1] : 0x80,
			 two = b0 >> 7;

		if (__builtin_expect((b0 & b1) < 0x80, 1)) {
			/* One byte or two, without a branch on which. */
			d = (b0 & 0x7f) | ((b1 << 7) & (0 - two));
			p += 1 + two;
		} else if (!kb_get_varint(&p, end, &d)) {
			*stopped = true; /* runs past the end */
			break;
		}
		if (cur > UINT32_MAX || d > UINT32_MAX - cur) {
			*stopped = true; /* not a section id */
			p = was;
			break;
		}
		cur += d;
		out[n++] = (uint32_t)cur;
	}
	*pp = p;
	*id = cur;
	return n;
}

/* The scalar kb_ids_marked, from ids[i] on. */
static size_t
marked_scalar(const uint32_t *ids, size_t i, size_t n, const uint64_t *bits,
	      size_t nbits, uint32_t *out, size_t k)
{
	for (; i < n; i++) {
		uint32_t x = ids[i];

		if (__builtin_expect(x >= nbits, 0))
			continue;
		out[k] = x;
		k += (bits[x / 64] >> (x % 64)) & 1;
	}
	return k;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define DECODE_TARGET                                                          \
	__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,"          \
			      "avx512vbmi2,popcnt,lzcnt,bmi")))

/* Lane i takes byte i - 1 (lane 0 takes byte 0, and is masked out). */
static const unsigned char prev_lane[64] = {
    0,	0,  1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46,
    47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
};

/*
 * 64 bytes at a time: their top bits are the continuation mask; the bytes
 * that end a varint (top bit clear) are where the ids are.  Each id is
 * its last byte, or with a continuation byte before it that byte's low
 * seven bits under its own shifted by 7: both are picked out for every
 * byte at once, the ends compressed together (VBMI2), widened to 32 bits
 * and summed up 16 at a time.  A chunk ends after its last whole varint;
 * one of three bytes or more goes byte at a time.
 */
DECODE_TARGET static size_t
decode_avx512(const unsigned char **pp, const unsigned char *end, uint64_t *id,
	      size_t want, uint32_t *out, bool *stopped)
{
	const unsigned char *p = *pp;
	uint64_t cur = *id;
	size_t n = 0;
	const __m512i m7f = _mm512_set1_epi8(0x7f);
	const __m512i zero = _mm512_setzero_si512();
	const __m512i prev = _mm512_loadu_si512(prev_lane);
	unsigned char lb[64], hb[64];

	while (n < want && p < end && !*stopped) {
		size_t avail = (size_t)(end - p), k, b;
		__mmask64 lm =
		    avail >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << avail) - 1;
		__m512i v = _mm512_maskz_loadu_epi8(lm, p);
		__mmask64 cont = _mm512_movepi8_mask(v);
		__mmask64 term = ~cont & lm, pc, bad;
		__m512i lo, hi;
		unsigned last;

		/* No whole varint here, or ids near 2^32: byte at a time. */
		if (term == 0 || cur > UINT32_MAX - ((uint64_t)64 << 14)) {
			n = decode_scalar(&p, end, &cur, want, out, n, p,
					  stopped);
			continue;
		}
		last = 63 - (unsigned)__builtin_clzll(term);
		if (last < 63)
			cont &= ((__mmask64)1 << (last + 1)) - 1;
		bad = cont & (cont << 1);
		if (bad != 0) {
			n = decode_scalar(&p, end, &cur, want, out, n,
					  p + __builtin_ctzll(bad), stopped);
			continue;
		}
		pc = cont << 1;
		lo = _mm512_mask_blend_epi8(
		    pc, v,
		    _mm512_permutexvar_epi8(prev, _mm512_and_si512(v, m7f)));
		hi = _mm512_maskz_mov_epi8(pc, v);
		_mm512_storeu_si512(lb, _mm512_maskz_compress_epi8(term, lo));
		_mm512_storeu_si512(hb, _mm512_maskz_compress_epi8(term, hi));
		k = (size_t)__builtin_popcountll(term);
		for (b = 0; b < k; b += 16) {
			__m512i x = _mm512_or_si512(
			    _mm512_cvtepu8_epi32(
				_mm_loadu_si128((const void *)(lb + b))),
			    _mm512_slli_epi32(
				_mm512_cvtepu8_epi32(
				    _mm_loadu_si128((const void *)(hb + b))),
				7));
			size_t m = k - b < 16 ? k - b : 16;

			x = _mm512_add_epi32(x,
					     _mm512_alignr_epi32(x, zero, 15));
			x = _mm512_add_epi32(x,
					     _mm512_alignr_epi32(x, zero, 14));
			x = _mm512_add_epi32(x,
					     _mm512_alignr_epi32(x, zero, 12));
			x = _mm512_add_epi32(x,
					     _mm512_alignr_epi32(x, zero, 8));
			x = _mm512_add_epi32(x, _mm512_set1_epi32((int)cur));
			_mm512_storeu_si512(out + n + b, x);
			cur = out[n + b + m - 1];
		}
		n += k;
		p += last + 1;
	}
	*pp = p;
	*id = cur;
	return n;
}

DECODE_TARGET static size_t
marked_avx512(const uint32_t *ids, size_t n, const uint64_t *bits, size_t nbits,
	      uint32_t *out)
{
	const __m512i one = _mm512_set1_epi64(1), low6 = _mm512_set1_epi64(63);
	const __m512i lim = _mm512_set1_epi64((long long)nbits);
	size_t i, k = 0;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256i x = _mm256_loadu_si256((const void *)(ids + i));
		__m512i x64 = _mm512_cvtepu32_epi64(x);
		__mmask8 in = _mm512_cmplt_epu64_mask(x64, lim);
		__m512i w = _mm512_mask_i64gather_epi64(
		    _mm512_setzero_si512(), in, _mm512_srli_epi64(x64, 6),
		    (const void *)bits, 8);
		__mmask8 m = _mm512_test_epi64_mask(
		    _mm512_srlv_epi64(w, _mm512_and_si512(x64, low6)), one);

		m &= in;
		/* Only lanes at or before those just read are written. */
		_mm256_mask_compressstoreu_epi32(out + k, m, x);
		k += (size_t)__builtin_popcount(m);
	}
	return marked_scalar(ids, i, n, bits, nbits, out, k);
}

bool
kb_decode_simd(void)
{
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512vbmi") &&
	       __builtin_cpu_supports("avx512vbmi2");
}
#else
bool
kb_decode_simd(void)
{
	return false;
}
#endif

size_t
kb_decode_ids(const unsigned char *p, size_t len, uint64_t *id, size_t want,
	      uint32_t *out, bool simd)
{
	const unsigned char *end = p + len;
	size_t n = 0;
	bool stopped = false;

#if defined(__x86_64__) && defined(__GNUC__)
	if (simd && kb_decode_simd())
		n = decode_avx512(&p, end, id, want, out, &stopped);
#else
	(void)simd;
#endif
	if (n < want && !stopped)
		n = decode_scalar(&p, end, id, want, out, n, end, &stopped);
	return n;
}

size_t
kb_ids_marked(const uint32_t *ids, size_t n, const uint64_t *bits, size_t nbits,
	      uint32_t *out, bool simd)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (simd && kb_decode_simd())
		return marked_avx512(ids, n, bits, nbits, out);
#else
	(void)simd;
#endif
	return marked_scalar(ids, 0, n, bits, nbits, out, 0);
}
