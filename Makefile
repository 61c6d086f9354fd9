# The two commands of healthfleet: `make demo` and `make test`. Both install
# what is missing, build, and start the local stack (tools/stack).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2

.PHONY: all deps build build-asan stack demo test unit integration valgrind down clean

all: build

deps:
	@tools/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHF_SANITIZE=ON > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

stack: deps
	@tools/stack up

demo: build stack
	@BUILD=$(BUILD) tools/demo/run

# Every test: the unit tests under valgrind, then unit and integration tests
# in one ctest run with the ASan+UBSan build against the real stack.
test: build build-asan stack
	@cmake --build $(BUILD) --target valgrind-unit
	@eval "$$(tools/stack env)" && cd $(ASAN_BUILD) && ctest --output-on-failure

unit: build-asan
	@cd $(ASAN_BUILD) && ctest -L unit --output-on-failure

integration: build-asan stack
	@eval "$$(tools/stack env)" && cd $(ASAN_BUILD) && ctest -L integration --output-on-failure

down:
	@tools/stack down

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
