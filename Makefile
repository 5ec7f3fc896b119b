# Thin wrapper over CMake/CTest; every target installs missing Debian packages first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Unity builds compile a target's sources in batches of eight, each batch one translation unit:
# the heavy headers (ZeroMQ, spdlog, Catch2, the standard library) are parsed and their inline
# code compiled once per batch instead of once per file, which is what lets `.ci/run` build the
# project twice (plain, then under ASan) on two cores. UNITY=OFF compiles file by file, for a
# working copy where one file changes at a time.
UNITY ?= ON
CMAKE_FLAGS = -DCMAKE_UNITY_BUILD=$(UNITY) -DCMAKE_UNITY_BUILD_BATCH_SIZE=8
# CMake's Makefiles are sub-makes of this one: without this, each says which directory it enters.
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build docs lint format test test-asan test-tsan fuzz sim-soak test-unit test-integration run run-inprocess bench soak clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 180

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

# Sanitizer builds, each in a build directory of its own. test/sanitizers/run_suite.sh runs
# ctest there with stretched deadlines and smaller workloads, and fails on a report from any
# process (a daemon a process test started included).
# test-asan: the whole suite under AddressSanitizer, LeakSanitizer and UBSan.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZPARTISAN_SANITIZE=address $(CMAKE_FLAGS) > /dev/null
	@cmake --build build-asan -j $(JOBS)
	test/sanitizers/run_suite.sh build-asan address

# test-tsan: the tests with threads of their own under ThreadSanitizer (integration, load and
# process tests), so only their binaries are built.
test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZPARTISAN_SANITIZE=thread $(CMAKE_FLAGS) > /dev/null
	@cmake --build build-tsan -j $(JOBS) --target zpartisan-node zpartisan-ctl zpartisan_integration_tests zpartisan_load_tests
	test/sanitizers/run_suite.sh build-tsan thread -L 'integration|load|process'

# Each decoder's libFuzzer target for FUZZ_S seconds, one after another (docs/fuzzing.md), built
# with clang in build-fuzz; only this target needs clang. MERGE=1 adds the new coverage to the
# committed corpus.
FUZZ_S ?= 60
fuzz:
	@scripts/install-deps.sh fuzz
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DZPARTISAN_FUZZ=ON \
		-DZPARTISAN_BUILD_TESTS=OFF -DZPARTISAN_BUILD_EXAMPLES=OFF > /dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers
	scripts/fuzz.sh build-fuzz $(FUZZ_S)

# The nemesis over SEEDS seeds (from FIRST_SEED): seeds run, faults injected, violations found.
SEEDS ?= 10000
FIRST_SEED ?= 1
sim-soak: build
	$(BUILD_DIR)/test/zpartisan-sim-soak --seeds $(SEEDS) --first-seed $(FIRST_SEED)

# Built quietly (scripts/quiet-build.sh: a line of progress; on failure the compiler's errors).
# ROUNDS=N stops the demo after N rounds; 0 runs it until Ctrl-C.
ROUNDS ?= 0
run: configure
	@scripts/quiet-build.sh $(BUILD_DIR) $(JOBS)
	@scripts/demo.sh $(BUILD_DIR) $(ROUNDS)

run-inprocess: build
	$(BUILD_DIR)/examples/zpartisan-demo

bench: build
	$(BUILD_DIR)/bench/zpartisan-bench relay
	$(BUILD_DIR)/bench/zpartisan-bench membership
	$(BUILD_DIR)/bench/zpartisan-bench sim --nodes 200,1000
	$(BUILD_DIR)/bench/zpartisan-bench failure --trials 20

# Churn for SOAK_S seconds (default 60) on 3 servers and 30 client daemons, then the invariants;
# prints one summary line (scripts/soak.sh). Not part of `make test`.
soak: build
	scripts/soak.sh $(BUILD_DIR)

# clang-format (check only) over every C++ file, then clang-tidy over src/ with the compile
# commands of a file-by-file configuration in build-lint, since a unity build's name only its
# batches (.clang-format, .clang-tidy; scripts/lint.sh). `make format` rewrites the files as
# clang-format wants them.
lint: deps
	@scripts/install-deps.sh lint
	@cmake -S . -B build-lint -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_UNITY_BUILD=OFF > /dev/null
	@scripts/lint.sh build-lint $(JOBS)

format:
	@scripts/install-deps.sh lint
	@scripts/lint.sh --fix-format

clean:
	rm -rf $(BUILD_DIR)

# The API reference from the public headers (docs/reference.md), when doxygen is installed.
docs: configure
	@if grep -q '^DOXYGEN_EXECUTABLE:FILEPATH=/' $(BUILD_DIR)/CMakeCache.txt; then \
		cmake --build $(BUILD_DIR) --target docs && echo "docs: $(BUILD_DIR)/docs/html/index.html"; \
	else \
		echo "docs: doxygen is not installed (apt-get install doxygen); the reference is in include/zpartisan/*.hpp"; \
	fi
