# soak.mk - the long server soak; with the indexer's soak where mk/ has one.
#
#   make soak                      five minutes (KB_SOAK_SECONDS=300)
#   make soak KB_SOAK_SECONDS=60
#
# The "soak" case of tests/check_attack.c: clients on every route while
# kbindex --full rebuilds the live index over and over, then SIGTERM in
# the middle of it.  It prints requests, failures, p50/p99/max latency,
# resident memory after the warm-up and at the end, reindexes, how the
# server stopped and the index's integrity_check.  make check runs the
# same test for 18 s.  soak-index (the indexer's own soak) runs after it
# when a file in mk/ defines that target.

KB_SOAK_SECONDS ?= 300

.PHONY: soak soak-server

soak: deps-test
	$(Q)$(MAKE) --no-print-directory soak-server
	$(Q)if grep -qs '^soak-index:' mk/*.mk; then \
		$(MAKE) --no-print-directory soak-index; \
	else \
		echo "soak: no soak-index target in mk/; indexer soak skipped"; \
	fi

soak-server: $(PROGS) $(BUILD)/tests/check_attack
	$(Q)KB_SOAK_SECONDS=$(KB_SOAK_SECONDS) CK_RUN_CASE=soak \
		$(BUILD)/tests/check_attack
