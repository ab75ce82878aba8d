# messtrack: `make run` starts the demo collector, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/messtrack
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Packages Debian must provide for the tests: a real Redis and a real browser.
DEB_PACKAGES := redis-server chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test deps bench vet fmt geoip clean

run: build
	$(BIN) serve --config examples/messtrack.yaml

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/messtrack

# deps installs what the tests need on a fresh Debian machine, and only what
# is missing.
deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test: deps vet
	$(GO) test -race -count=1 -timeout 30m ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

clean:
	rm -rf bin var/tmp
