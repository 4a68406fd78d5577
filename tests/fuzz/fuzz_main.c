/* fuzz_main.c - libFuzzer's entry point for one target, named by KB_FUZZ_ENTRY
 * when compiled. */
#include "fuzz.h"

#ifndef KB_FUZZ_ENTRY
#error "compile with -DKB_FUZZ_ENTRY=kb_fuzz_<target>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return KB_FUZZ_ENTRY(data, size);
}
