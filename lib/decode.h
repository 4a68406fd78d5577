/* decode.h - a posting group's section ids from their varint deltas. */
#ifndef KB_DECODE_H
#define KB_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ids kb_decode_ids may write past the count it is asked for. */
#define KB_DECODE_SLACK 64

/*
 * The ids of a group into out, which has room for want +
 * KB_DECODE_SLACK: each varint in p[0..len) is the gap from the id
 * before, the first from *id, which ends as the last id decoded.  Returns
 * how many: want when the bytes hold that many varints; fewer where they
 * end or are damaged (a varint running past len, an id past 2^32: it and
 * those after are not read); more only when the bytes hold more than
 * want (a group whose count is wrong), never more than want +
 * KB_DECODE_SLACK.  Reads only p[0..len).
 *
 * Where the CPU has AVX-512 VBMI2, 64 bytes are decoded at a time; simd
 * false takes the byte-at-a-time path, which gives the same ids.
 */
size_t kb_decode_ids(const unsigned char *p, size_t len, uint64_t *id,
		     size_t want, uint32_t *out, bool simd);

/*
 * The ids of ids[0..n) whose bit is set in bits (bit i of bits[i / 64]
 * for each id i below nbits; ids at or past nbits are left out), in
 * their order, into out, which may be ids itself; returns how many.  With
 * simd and AVX-512, eight at a time (a gather of their words).
 */
size_t kb_ids_marked(const uint32_t *ids, size_t n, const uint64_t *bits,
		     size_t nbits, uint32_t *out, bool simd);

/* Whether kb_decode_ids and kb_ids_marked have a vector path here. */
bool kb_decode_simd(void);

#endif
