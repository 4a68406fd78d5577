# mk/fuzz.mk - fuzzing: libFuzzer with AddressSanitizer and UBSan.
#
#   make fuzz                  build every target and run each for FUZZ_TIME s
#   make fuzz FUZZ_TIME=600 FUZZ_TARGETS="query http"
#
# Targets live in tests/fuzz/: one harness per target (article.c serves the
# three article parsers), seeds/<target>/, <target>.dict and
# regressions/<target>/ (inputs that once crashed).  The corpus a run
# grows stays in build-fuzz/corpus/<target>/ and crashes land in
# build-fuzz/crashes/<target>/.  make check builds the same harnesses with
# the ordinary compiler into check_fuzz, which replays every seed and
# regression case (under make asan, with the sanitizers).

FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_ALL := query article_md article_txt article_html extract taxonomy http
FUZZ_TARGETS ?= $(FUZZ_ALL)

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# The project's flags with our optimisation and instrumentation instead.
FUZZ_CFLAGS = $(filter-out $(OPT),$(ALL_CFLAGS)) -O1 -g $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -Iserver

FUZZ_HARNESS_SRCS := $(addprefix tests/fuzz/,fuzzutil.c query.c article.c \
	extract.c taxonomy.c http.c)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIBKB := $(FUZZ_BUILD)/libkb.a
FUZZ_OBJS := $(FUZZ_HARNESS_SRCS:%.c=$(FUZZ_BUILD)/%.o) \
	$(FUZZ_BUILD)/server/kbserver.o $(FUZZ_BUILD)/server/html.o \
	$(FUZZ_BUILD)/server/cache.o $(FUZZ_BUILD)/server/assets.o
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build deps-fuzz

fuzz: deps-fuzz
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)

deps-fuzz:
	$(Q)scripts/deps.sh fuzz

# The handler without main: the harness plays libmicrohttpd's part.
$(FUZZ_BUILD)/server/kbserver.o: FUZZ_DEFS := -DKB_SERVER_NO_MAIN

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS) -c $< -o $@

$(FUZZ_BUILD)/server/assets.c: $(WEB_FILES) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)scripts/embed.sh $@ $(WEB_FILES)

$(FUZZ_BUILD)/server/assets.o: $(FUZZ_BUILD)/server/assets.c
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# Static pattern rules: make's built-in rules must not chain into these.
$(FUZZ_ALL:%=$(FUZZ_BUILD)/tests/fuzz/main_%.o): \
		$(FUZZ_BUILD)/tests/fuzz/main_%.o: tests/fuzz/fuzz_main.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $< ($*)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -DKB_FUZZ_ENTRY=kb_fuzz_$* -c $< -o $@

$(FUZZ_LIBKB): $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_ALL:%=$(FUZZ_BUILD)/fuzz_%): $(FUZZ_BUILD)/fuzz_%: \
		$(FUZZ_BUILD)/tests/fuzz/main_%.o $(FUZZ_OBJS) $(FUZZ_LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) \
		-lpthread -lm

# check_fuzz: the same harnesses, built by $(CC) without libFuzzer, with
# kbserver's handler compiled once more without its main.
CHECK_FUZZ_OBJS := $(FUZZ_HARNESS_SRCS:tests/%.c=$(BUILD)/tests/%.o) \
	$(BUILD)/server/kbserver-handler.o $(BUILD)/server/html.o \
	$(BUILD)/server/cache.o $(BUILD)/server/assets.o

$(BUILD)/server/kbserver-handler.o: server/kbserver.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (handler)")
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver -DKB_SERVER_NO_MAIN -c $< -o $@

$(BUILD)/tests/check_fuzz: $(BUILD)/tests/check_fuzz.o $(CHECK_FUZZ_OBJS) \
		$(TEST_COMMON) $(LIBKB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) -lpthread -lm

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
