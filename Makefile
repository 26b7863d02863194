# Numu — the two commands a fresh machine needs are `make run` and `make test`.
# Every target installs what it needs first, idempotently.

CARGO ?= cargo

.PHONY: run test setup lint check-fmt build release

## Install the embedded engine, build, and run the server on http://127.0.0.1:8000 (data in ./data).
run: setup release
	./target/release/numu serve

## Install everything the tests need and run the whole suite (what CI runs).
test: setup check-fmt lint
	$(CARGO) test --workspace --all-targets

## The embedded ClickHouse engine (chDB) in ./.venv.
setup:
	./scripts/setup-engine.sh

release:
	$(CARGO) build --release -p numu-server

build:
	$(CARGO) build --workspace

check-fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
