# Switchyard — run `make help` for the targets.
GO      ?= go
PKGS    := ./...
# Packages with concurrency run under the race detector.
RACE    := ./storage/... ./cluster/... ./actors/... ./transport/... ./cmd/...

.PHONY: help run build test test-race chaos vet fmt lint bench bench-adaptors fuzz ui check-imports e2e-deps

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: ## run a single node on ./data, HTTP on :3000
	$(GO) run ./cmd/switchyard serve

build: ## build ./bin/switchyard
	$(GO) build -o bin/switchyard ./cmd/switchyard

test: vet e2e-deps ## run the whole test suite (what CI runs)
	SWITCHYARD_REQUIRE_NODE=1 $(GO) test -count=1 -timeout 15m $(PKGS)
	cd e2e/go && $(GO) test -count=1 -timeout 10m ./...
	$(GO) test -count=1 -race -timeout 15m $(RACE)

e2e-deps: ## install the JavaScript SDKs the end-to-end tests drive (Node.js 20+, npm)
	npm ci --prefix e2e/node --no-audit --no-fund

test-race: ## race detector on the concurrent packages
	$(GO) test -count=1 -race $(RACE)

chaos: ## the cluster fault tests in their long form (leader kills, partitions, crashes under load); the short form runs in `make test`
	SWITCHYARD_CHAOS=long $(GO) test -count=1 -timeout 20m -v -run 'TestCluster|TestThreeNode|TestFiveNodes' ./cmd/switchyard

vet: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet $(PKGS)
	cd e2e/go && $(GO) vet ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## end-to-end load benchmark (writes bench/results/)
	$(GO) run ./bench/cmd/benchrun

bench-adaptors: ## per-request conversion cost of every provider (BenchmarkBuild, BenchmarkStreamDecode, with allocations)
	$(GO) test -run '^$$' -bench '^Benchmark(Build|StreamDecode)$$' -benchmem ./adaptors/...

fuzz: ## run the stream-decoder fuzz targets for 30 s each
	$(GO) test ./adaptors/sse -run '^$$' -fuzz FuzzReader -fuzztime 30s
	for p in openai anthropic gemini vertex bedrock azure cohere cloudflare ollama replicate; do \
		$(GO) test ./adaptors/$$p -run '^$$' -fuzz '^FuzzStreamDecoder$$' -fuzztime 30s -fuzzminimizetime 5s || exit 1; done
	$(GO) test ./adaptors/bedrock -run '^$$' -fuzz '^FuzzEventStream$$' -fuzztime 30s -fuzzminimizetime 5s

ui: ## (the web UI is not built yet; a placeholder page is embedded)
	@echo "ui/dist holds a placeholder page"
