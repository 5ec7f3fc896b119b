# Thin wrapper over CMake/CTest; every target installs missing Debian packages first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test test-unit test-integration run run-inprocess bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 180

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

run: build
	@scripts/demo.sh $(BUILD_DIR)

run-inprocess: build
	$(BUILD_DIR)/examples/zpartisan-demo

bench: build
	$(BUILD_DIR)/bench/zpartisan-bench relay
	$(BUILD_DIR)/bench/zpartisan-bench membership
	$(BUILD_DIR)/bench/zpartisan-bench sim --nodes 200,1000
	$(BUILD_DIR)/bench/zpartisan-bench failure --trials 20

clean:
	rm -rf $(BUILD_DIR)
