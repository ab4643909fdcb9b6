# Thin wrapper over meson.  `make run` and `make test` work on a fresh
# Debian 12 machine: they install what is missing first.
#
#   make run     build and start vouchd on 127.0.0.1:8080 (SQLite in ./var/)
#   make test    build plain + ASan/UBSan + TSan, run every suite on each
#                (the TSan build runs the unit suites and the concurrent API
#                suites), then each fuzz target for 10 s on its corpus; a
#                tool bootstrap installed (swtpm, tpm2-tools) that is missing
#                fails its tests rather than skipping them
#   make tsan    build with ThreadSanitizer and run its suites only
#   make bench   build optimised and run the benchmarks (bench/RESULTS.md)
#   make fuzz    build the libFuzzer targets and run each for FUZZ_SECONDS
#   make deb     build the Debian packages (vouchd, vouch) into build/deb/

PLAIN := build/plain
ASAN  := build/asan
TSAN  := build/tsan
# not BENCH: bench/run reads BENCH as the name of the one bench to run
BENCH_BUILD := build/bench
FUZZ  := build/fuzz
FUZZ_SECONDS ?= 60
LISTEN ?= 127.0.0.1:8080

.PHONY: all run test tsan bench fuzz bootstrap build npm clean deb

all: build

bootstrap:
	@scripts/bootstrap

$(PLAIN)/build.ninja:
	meson setup $(PLAIN) --buildtype=debugoptimized

$(ASAN)/build.ninja:
	CC=clang meson setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(TSAN)/build.ninja:
	CC=clang meson setup $(TSAN) --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false

$(BENCH_BUILD)/build.ninja:
	meson setup $(BENCH_BUILD) --buildtype=release -Doptimization=2 -Db_ndebug=true

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) --buildtype=debugoptimized -Dfuzz=true -Dtests=false -Db_lundef=false

build: bootstrap $(PLAIN)/build.ninja
	ninja -C $(PLAIN)

npm:
	@cd tests/api && npm ci --no-audit --no-fund --loglevel=error >/dev/null

run: build
	@mkdir -p var
	$(PLAIN)/src/server/vouchd --listen $(LISTEN) --db sqlite:./var/vouch.db

test: bootstrap $(PLAIN)/build.ninja $(ASAN)/build.ninja $(TSAN)/build.ninja $(FUZZ)/build.ninja npm
	ninja -C $(PLAIN)
	ninja -C $(ASAN)
	ninja -C $(TSAN)
	ninja -C $(FUZZ)
	@VOUCH_TEST_REQUIRE_TOOLS=1 scripts/run-tests $(PLAIN) $(ASAN) $(TSAN) $(FUZZ):fuzz

tsan: bootstrap $(TSAN)/build.ninja npm
	ninja -C $(TSAN)
	@VOUCH_TEST_REQUIRE_TOOLS=1 scripts/run-tests $(TSAN)

bench: bootstrap $(BENCH_BUILD)/build.ninja
	ninja -C $(BENCH_BUILD)
	bench/run $(BENCH_BUILD)

fuzz: bootstrap $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	fuzz/run $(FUZZ) $(FUZZ_SECONDS)

clean:
	rm -rf build

deb: bootstrap
	@scripts/build-deb
