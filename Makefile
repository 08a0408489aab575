# Thin wrapper around CMake/CTest so that the README's commands are short.
#   make        build (./build)
#   make test   install missing packages (with the test-only ones), build, run every test, then the
#               sanitizer (ASan+UBSan) build's tests, then a short fuzz run
#   make run    install the build and run packages (never the test-only ones), build, and start
#               the development setup
#   make bench  install the benchmark's packages, build, and compare dbssl with its peers
#               (bench/run.sh; BENCHMARKS.md)
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local

.PHONY: all build deps deps-test test test-fast test-asan test-fuzz check-layers run bench install \
	clean format

all: build

deps:
	@./scripts/install-deps.sh

# the run packages plus the test-only ones, and promtool/prometheus unpacked into
# ~/.cache/dbssl (scripts/install-deps.sh --test; scripts/prometheus-tools.sh)
deps-test:
	@./scripts/install-deps.sh --test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# -DDBSSL_TESTS=ON: a build directory that `make build` or `make run` configured
# before the test packages (cmocka) were installed builds its tests from now on
test-fast: $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DDBSSL_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(BUILD_SAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DDBSSL_SANITIZE=ON -DDBSSL_TESTS=ON

test-asan: $(BUILD_SAN)/CMakeCache.txt
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE integration

# the parts of src/ include only the parts below them (also run by the tests)
check-layers:
	@./scripts/check-layers.sh

# libFuzzer targets for FUZZ_SECONDS each (clang; without it the seeds were
# replayed by CTest already)
FUZZ_SECONDS ?= 20
test-fuzz:
	./scripts/fuzz.sh $(FUZZ_SECONDS)

test: deps-test
	$(MAKE) test-fast
	$(MAKE) test-asan
	$(MAKE) test-fuzz

run: deps build
	@./scripts/dev-run.sh $(BUILD)/dbssl

# every pair of BENCHMARKS.md's table, same machine, same run (installs nginx,
# wrk, hyperfine, gnuplot-nox: scripts/install-deps.sh --bench); writes
# bench/results/latest.json, latest.md and ratios.png
bench:
	DBSSL_BUILD=$(abspath $(BUILD)) BENCH_COMMAND="make bench" ./bench/run.sh

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i src/*/*.c src/*/*.h include/dbssl/*.h tests/unit/*.c examples/*.c

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz
