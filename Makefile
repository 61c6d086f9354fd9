# The two commands of healthfleet: `make demo` and `make test`. Both install
# what is missing, build, and start the local stack (tools/stack).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= 2

.PHONY: all deps build build-asan build-fuzz stack demo test unit integration fuzz chaos bench down clean

all: build

deps:
	@tools/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHF_SANITIZE=ON > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

build-fuzz: deps
	@CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHF_FUZZ=ON > /dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz-all

stack: deps
	@tools/stack up

demo: build stack
	@BUILD=$(BUILD) tools/demo/run

# Every test: the unit tests under valgrind, then unit and integration tests
# in one ctest run with the ASan+UBSan build against the real stack.
test: build build-asan build-fuzz stack
	@cmake --build $(BUILD) --target valgrind-unit
	@tests/fuzz/run $(FUZZ_BUILD)/bin 5 1
	@eval "$$(tools/stack env)" && cd $(ASAN_BUILD) && ctest --output-on-failure

# healthfleet against Kafka's ceiling and a Python peer, side by side (bench/README.md).
bench: build stack
	@BUILD=$(abspath $(BUILD)) bench/run

# Each libFuzzer target for FUZZ_SECONDS (60), after its saved findings; then
# the intake against its OpenAPI document with many more schemathesis examples
# than make test runs (tests/contract/run --long, a random seed).
fuzz: build-fuzz build-asan stack
	@tests/fuzz/run $(FUZZ_BUILD)/bin $(FUZZ_SECONDS)
	@eval "$$(tools/stack env)" && BUILD=$(ASAN_BUILD) tests/contract/run --long

# 50,000 events while pools are SIGKILLed and the intake, Kafka, PostgreSQL and
# Redis restarted; checks nothing accepted is lost or doubled (tools/chaos/README.md).
# It restarts the stack tools/stack manages: run it on a machine of its own.
chaos: build stack
	@tools/chaos/run --bin $(BUILD)/bin

unit: build-asan
	@cd $(ASAN_BUILD) && ctest -L unit --output-on-failure

integration: build-asan stack
	@eval "$$(tools/stack env)" && cd $(ASAN_BUILD) && ctest -L integration --output-on-failure

down:
	@tools/stack down

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
