# The two commands the README promises, plus the tools around them. Each installs what it needs first.
SWIFT ?= swift
BIN = .build/debug/switchboard

.PHONY: run test build lint bench bench-journal deps clean

## run: build switchboard and run its main job on the embedded default (today: validate the shipped examples)
run: deps build
	$(BIN) validate .

## test: every test suite, then the format lint
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift

build:
	$(SWIFT) build --product switchboard

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift

## bench: validate a generated 200-file workspace with a release build; prints wall time and peak memory
bench: deps
	scripts/bench-validate

## bench-journal: the journal's tick-shaped process and insert rates, with a release build
bench-journal: deps
	scripts/bench-journal

deps:
	@scripts/bootstrap

clean:
	rm -rf .build
