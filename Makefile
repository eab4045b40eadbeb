# The two commands of the README:
#   make run   — install what is missing, build, import the bundled sample, start `ferry serve`
#   make test  — install what is missing, build, run the whole test suite (ends with ctest's summary)
BUILD ?= build
JOBS ?= $(shell nproc)
STORE ?= $(BUILD)/sample.db
LISTEN ?= 127.0.0.1:8080

.PHONY: all setup setup-test build run test bench clean

all: build

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-sample.sh $(BUILD) $(STORE) $(LISTEN)

test: setup-test build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
