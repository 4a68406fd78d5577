# make soak-index: SIGKILL kbindex at random moments, SOAK_INDEX_KILLS times
# in all (half in full rebuilds, half in updates); after every kill the live
# index must pass every check and answer exactly as before the run or as
# after it.  `make check` runs the same tests with 30 kills.  A failure
# prints the KB_FAULT_SEED that repeats it.

SOAK_INDEX_KILLS ?= 500

.PHONY: soak-index

soak-index: deps-test
	$(Q)$(MAKE) --no-print-directory $(PROGS) $(BUILD)/tests/check_faults
	$(Q)KB_FAULT_KILLS=$(SOAK_INDEX_KILLS) CK_RUN_CASE=kills \
		$(BUILD)/tests/check_faults
