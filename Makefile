# Numu — the two commands a fresh machine needs are `make run` and `make test`.
# Every target installs what it needs first, idempotently.

CARGO ?= cargo

.PHONY: run test setup sdk sdk-test e2e browser lint check-fmt build release dashboard dashboard-test fuzz-ci

## Install the embedded engine, build, and run the server on http://127.0.0.1:8000 (data in ./data).
run: setup sdk dashboard release
	./target/release/numu serve

## Install everything the tests need and run the whole suite (what CI runs).
test: setup check-fmt lint sdk-test browser
	$(CARGO) test --workspace
	$(MAKE) fuzz-ci
	$(MAKE) e2e
	$(MAKE) dashboard-test

## The embedded ClickHouse engine (chDB) in ./.venv.
setup:
	./scripts/setup-engine.sh

## The browser snippet: sdk-js/dist/numu.js (served by `numu serve` at /numu.js).
sdk:
	cd sdk-js && npm ci --no-audit --no-fund --loglevel=error && npm run build

sdk-test: sdk
	cd sdk-js && npm test

## The web dashboard: dashboards/dist (served by `numu serve` at /).
dashboard:
	cd dashboards && npm ci --no-audit --no-fund --loglevel=error && npm run build

## The dashboard in headless Chromium against a real `numu serve` with demo data;
## screenshots in test-artifacts/dashboard/.
dashboard-test: dashboard sdk browser
	$(CARGO) build -p numu-server
	cd dashboards && npm run e2e

## Debian's Chromium for the browser tests (installed once).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## Browser end-to-end tests: the built snippet in headless Chromium against a real `numu serve`.
e2e: sdk browser
	$(CARGO) build -p numu-server
	cd sdk-js && npm run e2e

## The decoders' cargo-fuzz targets, 20 s each from ingest/fuzz/corpus, on stable (installs
## cargo-fuzz once). Longer: FUZZ_SECONDS=300; with nightly's ASan: FUZZ_SANITIZER=address.
fuzz-ci:
	./scripts/fuzz-ci.sh

release:
	$(CARGO) build --release -p numu-server

build:
	$(CARGO) build --workspace

check-fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
