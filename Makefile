# carepath: `make run` starts it with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/carepath

export DATABASE_URL          ?= postgres://postgres@127.0.0.1:5432/carepath?sslmode=disable
export REDIS_URL             ?= redis://127.0.0.1:6379/0
export HTTP_ADDR             ?= 127.0.0.1:8080
# development only: the admin token `make run` prints; never use it in production
export BOOTSTRAP_ADMIN_TOKEN ?= carepath-dev-admin-token
# development only: the token that reads /metrics under `make run`
export METRICS_TOKEN         ?= carepath-dev-metrics-token

.PHONY: run test lint lint-openapi fuzz bench bench-status bench-notices bench-list-rate bench-hotline bench-stats bench-placement services browser build clean webhookverify fuzz-parsers test-sentinel redis-sentinel test-standby restore-check chaos-quick chaos screenshots check-links

build:
	$(GO) build -o $(BIN) ./cmd/carepath

## run: start PostgreSQL and Redis if needed, load demo data, serve API + worker on HTTP_ADDR
# development only: the demo's keys for sealing personal data and indexing phones are the
# built-in development keys (cmd/carepath/config.go), given here so that a demo start warns of
# nothing; a real deployment sets its own (docs/OPERATIONS.md, "Keys and secrets")
run: export DATA_KEY        ?= fEO9++qZ6vrvaCvQQ62iK3jfp/FLW1mhsKFX5kv8Bvo=
run: export PHONE_INDEX_KEY ?= LgCRfXFKA89ZrwCgc0X9v5Hb95xYCYq9xOcS8a+YPas=
run: services build
	$(BIN) seed
	@echo "carepath: http://$(HTTP_ADDR)/console (the demo tokens above), http://$(HTTP_ADDR)/docs, http://$(HTTP_ADDR)/status; /metrics token: $(METRICS_TOKEN)"
	exec $(BIN) all

## test: go vet and the whole suite with the race detector on real PostgreSQL and Redis, and the
## pages in a real headless Chromium
test: services browser lint-openapi webhookverify redis-sentinel
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...

## lint-openapi: openapi.yaml through @redocly/cli (pinned in scripts/redocly/package.json, installed by npm ci
## into a git-ignored node_modules)
lint-openapi:
	@scripts/lint-openapi.sh

## fuzz: the contract-driven request fuzzer, long (FUZZ_REQUESTS, default 50000; FUZZ_SEED,
## default the time); `make test` runs a short seeded one
FUZZ_REQUESTS ?= 50000
FUZZ_SEED     ?= $(shell date +%s)
fuzz: services
	FUZZ_REQUESTS=$(FUZZ_REQUESTS) FUZZ_SEED=$(FUZZ_SEED) $(GO) test -count=1 -timeout 60m -run '^TestFuzzContract$$' -v ./api/

## lint: golangci-lint (installed into GOPATH/bin on first use)
lint:
	@command -v golangci-lint >/dev/null || $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
	golangci-lint run ./...

## bench: the figures of docs/BENCHMARKS.md (slow: fills a database with 1,000,000 cases);
## the lifecycle section (scripts/bench.sh), then each other section's target that exists
BENCH_SECTIONS := bench-notices bench-status bench-list-rate bench-hotline bench-stats bench-placement
bench: services build
	scripts/bench.sh
	@for t in $(BENCH_SECTIONS); do \
		$(MAKE) -q $$t >/dev/null 2>&1; \
		if [ $$? -eq 2 ]; then echo "bench: no $$t target yet"; else $(MAKE) --no-print-directory $$t || exit 1; fi; \
	done

## bench-status: the relatives' lookup against pgbench -S, same clients (docs/BENCHMARKS.md)
bench-status: services
	scripts/bench-status.sh

## bench-notices: notice delivery and reminder-scan figures (docs/BENCHMARKS.md "Notices");
## about 4 minutes, own databases, traffic on 127.0.0.1 only
bench-notices: services
	@mkdir -p bench-results
	set -o pipefail; $(GO) run ./scripts/benchnotices 2>&1 | tee bench-results/notices.txt

## bench-list-rate: the list page at a fixed 100 requests a second (vegeta) on the database
## `make bench` leaves, and 32 readers of one case (docs/BENCHMARKS.md "The list at a fixed rate")
bench-list-rate: services build
	scripts/bench-list-rate.sh
## bench-hotline: search by phone, name and number over 1,000,000 cases and 3,000,000 contacts at
## 4 connections, and logging a call (README "The hotline's desk"); its own database; smaller
## with BENCH_HOTLINE_CASES=N
bench-hotline: services
	@mkdir -p bench-results
	set -o pipefail; $(GO) run ./scripts/benchhotline 2>&1 | tee bench-results/hotline.txt
## bench-placement: the waiting list's page over 100,000 waiting cases at 4 connections (p99 < 50 ms)
## and the next eligible case for a freed bed (< 10 ms), in its own database (docs/BENCHMARKS.md "Placement")
bench-placement: services
	@mkdir -p bench-results
	set -o pipefail; $(GO) run ./scripts/benchplacement 2>&1 | tee bench-results/placement.txt

## bench-stats: the center's figures (GET /api/v1/stats for a year, cold and unchanged; the XLSX
## export) over 1,000,000 cases on their own database (README "The center's figures")
bench-stats: services build
	scripts/bench-stats.sh

## services: make sure PostgreSQL and Redis answer (start or install them when they do not)
services:
	@scripts/services.sh

## browser: make sure Debian's chromium is there for the pages' tests (they skip without it,
## except in CI, where they fail)
browser:
	@scripts/browser.sh || [ "$${CI:-}" != true ]

## screenshots: regenerate docs/screenshots/*.png (desktop and phone width) from the browser tests
## of the main pages; the README shows them
SCREENSHOT_TESTS ?= TestConsoleListsAndFiltersCases|TestConsoleCasePageFiresEvents|TestConsoleRegistersCase|TestStatusPage|TestDocumentsPage|TestConsoleSupervisorBoard|TestConsoleLifecycleDiagram|TestConsoleHotlineDesk
screenshots: services browser
	@mkdir -p docs/screenshots
	CAREPATH_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -timeout 15m ./api/ -run '^($(SCREENSHOT_TESTS))$$'

## check-links: every relative link in the README and docs/ points at a file that exists
check-links:
	scripts/check-links.sh

## fuzz-parsers: `go test -fuzz` over every parser target (SNILS, case numbers, phone, calendar CSV,
## If-Match, cursors, settings) for FUZZTIME each (default 30s); `make test` runs their seeds only
fuzz-parsers:
	scripts/fuzz-parsers.sh

## test-sentinel: carepath's worker on Redis behind Sentinel (a real master, replica and three
## Sentinels on free local ports) through a forced failover under load; part of `make test` too
test-sentinel: services redis-sentinel
	$(GO) test -race -count=1 -v -run 'TestParseRedis|TestSentinelFailoverUnderLoad' ./cmd/carepath/

## test-standby: a PostgreSQL primary and a synchronous streaming standby of its own (initdb,
## pg_basebackup; PG_BIN, default /usr/lib/postgresql/15/bin), commands through `carepath serve`,
## the primary killed, the standby promoted: commands resume and nothing acknowledged is lost; and
## DATABASE_READ_URL on the standby (the waiting snapshot read there, positions right without it)
test-standby: services
	CAREPATH_STANDBY_TEST=1 $(GO) test -race -count=1 -v -run 'TestStandbyFailover|TestReadURLOnStandby' ./cmd/carepath/

## restore-check: pg_dump the database (RESTORE_FROM, default DATABASE_URL), restore it into a fresh
## database on the same server and run `carepath audit verify` and `carepath beds verify` on the copy
## (docs/OPERATIONS.md)
restore-check: services build
	scripts/restore-check.sh

## chaos-quick: carepath as separate processes (2 serve, 2 worker) on a PostgreSQL pair and a Redis
## of its own, under SIGKILLs, Redis lost, PostgreSQL restarted and 64 conflicting events; checks
## that nothing acknowledged is lost or doubled (under 3 minutes; `make chaos`: the long run)
chaos-quick: services redis-sentinel
	CAREPATH_CHAOS=quick $(GO) test -count=1 -v -timeout 5m -run '^TestChaos$$' ./cmd/carepath/

chaos: services redis-sentinel
	CAREPATH_CHAOS=full $(GO) test -count=1 -v -timeout 15m -run '^TestChaos$$' ./cmd/carepath/

## redis-sentinel: make sure Debian's redis-server and redis-sentinel are there for that test
## (it skips without them, except in CI, where it fails)
redis-sentinel:
	@scripts/redis-sentinel.sh || [ "$${CI:-}" != true ]

## webhookverify: the Standard Webhooks reference verifier (npm standardwebhooks) for jobs' webhook
## test, installed from scripts/webhookverify/package-lock.json into its git-ignored node_modules
webhookverify:
	@scripts/webhookverify/install.sh || [ "$${CI:-}" != true ]

clean:
	rm -rf bin
