# The two commands the README promises, plus the tools around them. Each installs what it needs first.
SWIFT ?= swift
BIN = .build/debug/switchboard

.PHONY: run test build release lint bench bench-journal bench-nexus bench-engine bench-masumi bench-transmissionbot deps clean

## run: build switchboard and run its main job on the embedded default: the examples checked, then a
## conversation through the sandbox servers
run: deps build
	scripts/demo

## test: every test suite, then the format lint
## Suites run one after another: many tests wait on child processes, and on a 2-core machine the waits fill
## Swift's cooperative pool, which the tests' in-process sandbox servers need to answer (in parallel, 3 s
## client timeouts fired; one after another the whole run takes about 35 s and never starves).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift

build:
	$(SWIFT) build --product switchboard

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift

## release: the release binary with the Swift runtime linked in and no position-independent code, so a cron
## tick starts without resolving shared libraries or relocating (.build/static/release/switchboard)
release: deps
	swift build -c release --product switchboard --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie \
	  --scratch-path .build/static

## bench: validate a generated 200-file workspace with a release build; prints wall time and peak memory
bench: deps
	scripts/bench-validate

## bench-journal: the journal's tick-shaped process and insert rates, with a release build
bench-journal: deps
	scripts/bench-journal

## bench-nexus: 200 Nexus polls through NexusClient against a loop of curl + jq, on the sandbox
bench-nexus: deps
	scripts/bench-nexus

## bench-engine: 1,000 messages through rule → reply → journal, and a tick with nothing due
bench-engine: deps
	scripts/bench-engine

## bench-masumi: one CLI call through MasumiClient against the bare call, and a 60-thread unread sweep
bench-masumi: deps
	scripts/bench-masumi

## bench-transmissionbot: TBX-1 encrypt+send and receive+decrypt per second, and PQXDH's first-message cost
bench-transmissionbot: deps
	scripts/bench-transmissionbot

deps:
	@scripts/bootstrap

clean:
	rm -rf .build
