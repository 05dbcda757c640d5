# Paylink: `make run` starts everything, `make test` runs every test.
# Both use DATABASE_URL / REDIS_URL when set; otherwise they start a private
# PostgreSQL and Redis under .data/ (installing the Debian packages when
# missing), and stop them when done.

GO      ?= go
PAYLINK := bin/paylink
# Extra flags for go test, e.g. make test TESTFLAGS='-run TestSignUp -v'.
TESTFLAGS ?=

.PHONY: run test test-js lint build bench cluster chaos clean
# make cluster's public port (nginx, on 127.0.0.1) and make chaos's.
CLUSTER_PORT ?= 8180
CHAOS_PORT ?= 8190
# Extra flags for paylinkchaos, e.g. make chaos CHAOSFLAGS='-duration 2m -pg-failovers 1'.
CHAOSFLAGS ?=

build:
	$(GO) build -o $(PAYLINK) ./cmd/paylink

## run: the API, checkout pages and worker on http://localhost:8080
run: build
	./scripts/ensure-deps.sh run
	$(PAYLINK) dev

## test: lint, the SDK's tests (Node), then every Go test against real PostgreSQL and Redis
test: build lint
	./scripts/ensure-deps.sh test
	cd sdk/js && node --test test/
	$(PAYLINK) devenv -dir .data/test -fast -- $(GO) test -race -count=1 -timeout 15m $(TESTFLAGS) ./...

## bench: pgbench, the ledger, checkout, webhook, scale-out and fraud benchmarks on a private, durable PostgreSQL
## (see BENCHMARKS.md); BENCH_SCALE=large make bench: the same checkout and the reads on 10 million payments;
## BENCH_ONLY=fraud make bench: only the fraud benchmark
bench: build
	./scripts/ensure-deps.sh bench
ifeq ($(BENCH_ONLY),fraud)
	$(PAYLINK) devenv -dir .data/bench -- ./scripts/bench-fraud.sh
else ifeq ($(BENCH_SCALE),large)
	$(PAYLINK) devenv -dir .data/bench -- ./scripts/bench-large.sh
else
	$(PAYLINK) devenv -dir .data/bench -- ./scripts/bench.sh
	$(PAYLINK) devenv -dir .data/bench -- ./scripts/bench-checkout.sh
	$(PAYLINK) devenv -dir .data/bench -- ./scripts/bench-fraud.sh
endif

## cluster: the production topology from Debian packages (pg_auto_failover, Redis Sentinel, nginx, 2 api + 2 worker) on one machine, until Ctrl-C
cluster: build
	./scripts/ensure-deps.sh cluster
	$(PAYLINK) cluster -dir .data/cluster -port $(CLUSTER_PORT)

## chaos: a 10-minute fault campaign against a fresh cluster in .data/chaos; prints a table, non-zero exit on any failed check (see RELIABILITY.md)
chaos: build
	./scripts/ensure-deps.sh cluster
	$(GO) build -o bin/paylinkchaos ./cmd/paylinkchaos
	bin/paylinkchaos -dir .data/chaos -port $(CHAOS_PORT) $(CHAOSFLAGS)

## test-js: the SDK's tests only (sdk/js, node --test; zero dependencies)
test-js:
	./scripts/ensure-deps.sh test
	cd sdk/js && node --test test/

## lint: gofmt, go vet and staticcheck must be clean, and no package or file past its size (internal/sizes)
lint:
	@out=$$(gofmt -l . 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -count=1 ./internal/sizes

clean:
	rm -rf bin .data/test .data/bench .data/chaos artifacts
