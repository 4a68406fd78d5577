# kbsearch - offline search for troubleshooting knowledge bases.
#
#   make run      install missing packages, build, index kb/, search it
#   make check    install what the tests need, build, run every test
#   make asan     the whole test suite under AddressSanitizer + UBSan
#   make fuzz     libFuzzer targets, FUZZ_TIME seconds each (mk/fuzz.mk)
#   make valgrind the Check suites under memcheck (mk/valgrind.mk)
#
# User CFLAGS/LDFLAGS are added to ours, never replace them.  V=1 shows
# the commands.  WERROR=1 (set by CI) turns warnings into errors.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/kbsearch
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config

SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD ?= build
else
BUILD ?= build-$(SANITIZER)
endif

PKGS := sqlite3 libcmark yaml-0.1 libxml-2.0 jansson zlib libzstd
SERVER_PKGS := libmicrohttpd
VERSION := 0.1.0

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT := -O2 -g
ifeq ($(SANITIZER),address)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(SERVER_PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
SERVER_LIBS = $(shell $(PKG_CONFIG) --libs $(SERVER_PKGS) 2>/dev/null) -lpthread
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DKB_VERSION='"$(VERSION)"' \
	-DKB_DATADIR='"$(DATADIR)"' $(WARN) $(OPT) -MMD -MP -Ilib \
	$(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(OPT) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBKB := $(BUILD)/libkb.a

PROGS := $(BUILD)/kbindex $(BUILD)/kbsearch $(BUILD)/kbserver

WEB_FILES := $(sort $(wildcard server/web/*))
SERVER_OBJS := $(BUILD)/server/kbserver.o $(BUILD)/server/html.o \
	$(BUILD)/server/cache.o $(BUILD)/server/assets.o

TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON := $(BUILD)/tests/testutil.o

DB ?= kb.db

.SECONDARY:

.PHONY: all deps deps-test run check test eval asan format lint install \
	uninstall clean index bench

all: deps $(PROGS)

deps:
	$(Q)scripts/deps.sh build

deps-test:
	$(Q)scripts/deps.sh test

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver -c $< -o $@

$(LIBKB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# kbindex allocates and frees a few hundred blocks per article on each of
# its threads; with jemalloc a build of the 10k bench corpus takes 6-9%
# less CPU than with glibc's malloc (eight builds of each in turns).  Not
# under a sanitizer, which brings its own; KBINDEX_JEMALLOC=0, or no
# jemalloc.pc, links glibc's.
KBINDEX_JEMALLOC ?= 1
KBINDEX_ALLOC_LIBS = $(if $(and $(filter 1,$(KBINDEX_JEMALLOC)), \
	$(if $(SANITIZER),,1)), \
	$(shell $(PKG_CONFIG) --libs jemalloc 2>/dev/null))

$(BUILD)/kbindex: $(BUILD)/indexer/kbindex.o $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(KBINDEX_ALLOC_LIBS) \
		-lpthread -lm

# kbsearch starts once per query, so what starting costs counts: SQLite,
# Jansson, zlib and zstd are linked in from their static archives (the
# -dev packages ship them), which spares the dynamic loader ~1 ms of a
# one-shot search.  KBSEARCH_STATIC=0, or a missing archive, links them
# shared like the other programs.
STATIC_PKGS := sqlite3 jansson zlib libzstd
STATIC_LIBS = $(shell $(PKG_CONFIG) --libs-only-l $(STATIC_PKGS) 2>/dev/null)
# each archive where the compiler finds it (a bare name when it does not)
STATIC_ARCHIVES = $(filter /%,$(foreach l,$(STATIC_LIBS:-l%=lib%.a), \
	$(shell $(CC) -print-file-name=$(l))))
KBSEARCH_STATIC ?= 1
comma := ,
# (evaluated when linking, after make run / make check installed the
# packages)
KBSEARCH_LIBS = $(if $(and $(filter 1,$(KBSEARCH_STATIC)), \
	$(filter $(words $(STATIC_PKGS)),$(words $(STATIC_ARCHIVES)))), \
	-Wl$(comma)-Bstatic $(STATIC_LIBS) -Wl$(comma)-Bdynamic)

$(BUILD)/kbsearch: $(BUILD)/cli/kbsearch.o $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(KBSEARCH_LIBS) $(PKG_LIBS) -lpthread -lm

$(BUILD)/server/assets.c: $(WEB_FILES) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)scripts/embed.sh $@ $(WEB_FILES)

$(BUILD)/server/assets.o: $(BUILD)/server/assets.c
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver -c $< -o $@

$(BUILD)/kbserver: $(SERVER_OBJS) $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(SERVER_LIBS) -lm

$(BUILD)/kbeval: $(BUILD)/tests/relevance/kbeval.o $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver $(CHECK_CFLAGS) -DKB_BUILD_DIR='"$(BUILD)"' -c $< -o $@

$(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o $(TEST_COMMON) $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) -lpthread -lm

# The page renderer is tested on its own, without the server around it.
$(BUILD)/tests/check_html: $(BUILD)/tests/check_html.o $(BUILD)/server/html.o \
		$(TEST_COMMON) $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) -lpthread -lm

index: $(PROGS)
	$(BUILD)/kbindex --db $(DB) kb/

PORT ?= 8080

run: all index
	@echo
	@echo "Indexed kb/ into $(DB). Search it at http://127.0.0.1:$(PORT)/"
	@echo "or from a terminal: $(BUILD)/kbsearch --db $(DB) \"won't hold charge\""
	@echo
	$(BUILD)/kbserver --db $(DB) --port $(PORT)

check: deps-test
	$(Q)$(MAKE) --no-print-directory test

test: $(PROGS) $(BUILD)/kbeval $(TEST_BINS)
	$(Q)tests/run.sh $(BUILD) $(TEST_BINS)
	$(Q)tests/browser/run.sh $(BUILD)

# Relevance on the judged queries: kbsearch beside plain FTS5 bm25.
eval: all $(BUILD)/kbeval
	$(Q)$(BUILD)/kbindex --quiet --full --db $(BUILD)/eval.db kb/
	$(Q)$(BUILD)/kbeval --db $(BUILD)/eval.db \
		--thresholds tests/relevance/thresholds tests/relevance/queries.tsv

# Side by side with raw FTS5 and Xapian: bench/results/<date>.md.
BENCH_SIZES ?= 1000 10000 100000
BENCH_MAN ?= 500
BENCH_REPS ?= 5
BENCH_BINS := $(BUILD)/bench/kbbench $(BUILD)/bench/rawfts \
	$(BUILD)/bench/proctime

$(BUILD)/bench/kbbench: $(BUILD)/bench/kbbench.o $(BUILD)/bench/stats.o $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BUILD)/bench/rawfts: $(BUILD)/bench/rawfts.o $(BUILD)/bench/stats.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs sqlite3) -lm

$(BUILD)/bench/proctime: $(BUILD)/bench/proctime.o $(BUILD)/bench/stats.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

bench: deps $(PROGS) $(BENCH_BINS)
	$(Q)bench/deps.sh
	$(Q)bench/run.sh $(BUILD) "$(BENCH_SIZES)" $(BENCH_MAN) $(BENCH_REPS)

asan: deps-test
	$(Q)$(MAKE) --no-print-directory SANITIZER=address test

format:
	clang-format -i lib/*.c lib/*.h indexer/*.c cli/*.c server/*.c \
		server/*.h tests/*.c tests/*.h tests/fuzz/*.c tests/fuzz/*.h

lint:
	$(Q)! git grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)[[:space:]]*\(' \
		-- '*.c' '*.h' || { echo "lint: banned function used (above)"; exit 1; }

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 kb/taxonomy.json $(DESTDIR)$(DATADIR)/taxonomy.json

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kbindex $(DESTDIR)$(BINDIR)/kbsearch \
		$(DESTDIR)$(BINDIR)/kbserver
	rm -f $(DESTDIR)$(DATADIR)/taxonomy.json
	-rmdir $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-* $(DB)

# Further targets (fuzzing, valgrind, soak) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
