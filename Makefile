# itcloud -- `make run` builds, migrates and serves; `make test` runs every suite.

PKGS     := lua5.4 lua5.4-cjson libmicrohttpd sqlite3 libargon2 libjwt openssl libcurl libturbojpeg libjpeg lcms2 spng libexif libwebp libwebpdemux libheif hiredis
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -pthread \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS    = $(shell pkg-config --libs $(PKGS)) -pthread -lm
# Export the Lua API from the binary so busted's C modules (lfs, system) resolve.
LDFLAGS  += -Wl,-E
ASAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ := $(CORE_SRC:core/%.c=build/release/%.o)
ASAN_OBJ := $(CORE_SRC:core/%.c=build/asan/%.o)
TEST_SRC := $(wildcard core/tests/test_*.c)
TESTS    := $(TEST_SRC:core/tests/%.c=build/tests/%)

.PHONY: all deps run test asan bench clean

# The web app: npm ci from the committed lock file, then vite build into static/, with
# the Node.js scripts/install-deps puts in build/node when the system's is too old.
export PATH := $(CURDIR)/build/node/bin:$(PATH)
WEB_SRC  := $(shell find frontend/src -type f) frontend/index.html frontend/vite.config.js

all: deps bin/itcloud static/index.html

# Debian packages the build and the tests need (installed only when missing).
deps:
	@scripts/install-deps

build/release/%.o: core/%.c core/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

build/asan/%.o: core/%.c core/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN) -c -o $@ $<

bin/itcloud: core/main.c $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bin/itcloud-asan: core/main.c $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/tests/%: core/tests/%.c core/tests/harness.h $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN) $(LDFLAGS) -o $@ $< $(ASAN_OBJ) $(LDLIBS)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/index.html: frontend/node_modules/.package-lock.json $(WEB_SRC)
	cd frontend && npx vite build --logLevel warn

asan: bin/itcloud-asan

run: all
	./bin/itcloud migrate up
	./bin/itcloud serve

test: all bin/itcloud-asan $(TESTS)
	@scripts/test-all

bench: all
	bench/run

clean:
	rm -rf build bin static
