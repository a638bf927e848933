# Tributary: the whole set-up is `make run` and `make test`.

GO      ?= go
BIN     ?= bin/tributary
DATA    ?= ./data
# Every package runs under the race detector except the binary and the
# examples, which build and run whole programs; streams runs a second time
# without it, where its broker-backed tests take their full sizes (the
# million-word run).
PLAIN_PKGS = ./cmd/... ./examples/... ./streams/...
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build install run test test-deps bench fuzz soak lint clean

build:
	$(GO) build -o $(BIN) ./cmd/tributary

# Installs tributary into $(go env GOPATH)/bin (or $GOBIN): put that on PATH.
install:
	$(GO) install ./cmd/tributary

# Starts `tributary server`: the broker on 127.0.0.1:9092 with data in
# ./data, plus a connect worker with its REST API on :8083.
run: build
	./$(BIN) server --listen 127.0.0.1:9092 --rest-listen :8083 --data-dir $(DATA)

# Installs what the tests need (kcat, nodejs/npm and mariadb-server via
# apt-get when missing; kafkajs through npm), then runs
# vet and every test; concurrent packages under -race.
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -timeout 12m $$($(GO) list ./... | grep -v -e /cmd/ -e /examples/)
	$(GO) test -timeout 12m $(PLAIN_PKGS)

test-deps:
	@command -v kcat >/dev/null 2>&1 || { \
		echo "installing kcat (Debian package) for the client compatibility tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq kcat >/dev/null; }
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "installing nodejs and npm (Debian packages) for the kafkajs compatibility test"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || { \
		echo "installing mariadb-server (Debian package) for the MySQL CDC tests (each test runs a private server)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq mariadb-server >/dev/null; }
	@[ -d broker/testdata/kafkajs/node_modules/kafkajs ] || npm ci --prefix broker/testdata/kafkajs --no-audit --no-fund

# Side-by-side benchmarks: our broker against franz-go's kfake and the
# client's own ceiling, with ratios; then connect (generator -> broker ->
# file sink, next to a plain producer, and a 3-transformation chain's cost);
# then the mirror (A->B next to raw produce into B, and latency at half
# rate); then streams against lovoo/goka; then the CDC pipeline (mysql-cdc
# snapshot and binlog into the broker, the Parquet sink) against its
# targets. A report, not a pass/fail gate.
bench:
	$(GO) run ./internal/bench/broker
	$(GO) run ./internal/bench/connect
	$(GO) run ./internal/bench/mirror
	$(GO) run ./internal/bench/streams
	$(GO) run ./internal/bench/cdc

# Long fault loops, under the soak build tag: the broker's linearizability
# check of produce, fetch and offset commits through minutes of kill -9 and
# restart (broker/faults), the mirror's kill loops (mirror) and the
# ten-million-word streams run (streams).
soak:
	$(GO) test -tags soak -count=1 -timeout 60m ./broker/faults/ ./mirror/ ./streams/

# Each fuzz target briefly.
FUZZTIME ?= 10s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for fz in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "== $$pkg $$fz"; \
			$(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
