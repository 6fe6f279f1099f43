# The two commands the README promises, plus the tools around them. Each installs what it needs first.
SWIFT ?= swift
BIN = .build/debug/switchboard
FORMATTED = Sources Tests Benchmarks Plugins Package.swift

# make install: PREFIX and DESTDIR as usual (DESTDIR is prepended to every installed path, for packaging).
PREFIX ?= /usr/local
DESTDIR ?=
RELEASE_BIN = .build/static/release/switchboard
# The install's generated files: completions and the man page.
SHARE = .build/static/share
# swift-argument-parser's generate-manual, built from the checkout `make release` resolved.
MANUAL_TOOL = .build/static/generate-manual/release/generate-manual

.PHONY: run test build release install uninstall lint bench bench-journal bench-nexus bench-engine bench-masumi bench-transmissionbot deps clean

## run: build switchboard and run its main job on the embedded default: the examples checked, then a
## conversation through the sandbox servers
run: deps build
	scripts/demo

## test: every test suite, then the format lint
## Suites run one after another: many tests wait on child processes, and on a 2-core machine the waits fill
## Swift's cooperative pool, which the tests' in-process sandbox servers need to answer (in parallel, 3 s
## client timeouts fired; one after another the whole run takes about a minute and never starves).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	$(SWIFT) format lint --strict --recursive $(FORMATTED)

build:
	$(SWIFT) build --product switchboard

lint:
	$(SWIFT) format lint --strict --recursive $(FORMATTED)

## release: the release binary with the Swift runtime linked in and no position-independent code, so a cron
## tick starts without resolving shared libraries or relocating (.build/static/release/switchboard)
release: deps
	$(SWIFT) build -c release --product switchboard --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie \
	  --scratch-path .build/static

## install: `make release`'s binary to $(PREFIX)/bin with the cron wrapper (contrib/cron), shell completions for
## bash, zsh and fish, and the man page, all generated from the binary being installed
## The man page comes from swift-argument-parser's generate-manual, the tool behind `swift package plugin
## generate-manual`; the plugin first builds every product of the package again, a whole second build on a fresh
## clone, so the tool is built alone (about 30 s) from the same pinned checkout and run on the release binary.
install: release
	rm -rf $(SHARE) && mkdir -p $(SHARE)/man
	$(RELEASE_BIN) --generate-completion-script bash > $(SHARE)/switchboard.bash
	$(RELEASE_BIN) --generate-completion-script zsh > $(SHARE)/_switchboard
	$(RELEASE_BIN) --generate-completion-script fish > $(SHARE)/switchboard.fish
	$(SWIFT) build -c release --package-path .build/static/checkouts/swift-argument-parser \
	  --scratch-path .build/static/generate-manual --product generate-manual
	$(MANUAL_TOOL) $(RELEASE_BIN) --output-directory $(SHARE)/man \
	  $$(git log -1 --format=--date=%cs 2>/dev/null)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(RELEASE_BIN) contrib/cron/switchboard-cron $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(SHARE)/man/switchboard.1 $(DESTDIR)$(PREFIX)/share/man/man1/switchboard.1
	install -m 0644 $(SHARE)/switchboard.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/switchboard
	install -m 0644 $(SHARE)/_switchboard $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_switchboard
	install -m 0644 $(SHARE)/switchboard.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/switchboard.fish

## uninstall: removes what `make install` installed (same PREFIX and DESTDIR)
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/switchboard $(DESTDIR)$(PREFIX)/bin/switchboard-cron \
	  $(DESTDIR)$(PREFIX)/share/man/man1/switchboard.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/switchboard \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_switchboard \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/switchboard.fish

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
