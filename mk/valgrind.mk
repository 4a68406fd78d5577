# mk/valgrind.mk - make valgrind: every Check suite under memcheck.
#
# The suites run from the ordinary build; the programs they start
# (kbindex, kbsearch, kbserver) run under memcheck too.  Any error
# (invalid access, uninitialised value, definite or possible leak) fails
# the suite.  Each suite's report is in $(BUILD)/valgrind/SUITE.log.
# The browser test is not run here.

VALGRIND ?= valgrind

.PHONY: valgrind valgrind-test deps-valgrind

valgrind: deps-valgrind
	$(Q)$(MAKE) --no-print-directory valgrind-test

valgrind-test: $(PROGS) $(BUILD)/kbeval $(TEST_BINS)
	$(Q)VALGRIND="$(VALGRIND)" tests/valgrind.sh $(BUILD) $(TEST_BINS)

deps-valgrind:
	$(Q)scripts/deps.sh valgrind
