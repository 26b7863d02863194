#!/usr/bin/env bash
# Benchmark (not in `make test`): bulk-load EVENTS (default 10M) events into a fresh data
# directory, serve it, and time the dashboard's overview page load to charts drawn.
#   load-tests/dashboard-overview.sh [EVENTS] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
DATA=${2:-$(mktemp -d)/data}
export NUMU_WAREHOUSE__EMBEDDED__PYTHON=${NUMU_WAREHOUSE__EMBEDDED__PYTHON:-$PWD/.venv/bin/python3}
make -s dashboard release
if [ ! -e "$DATA/numu.sqlite" ]; then
  cargo run --release -p numu-load-tests --bin bulk-load -- --events "$EVENTS" --seed 1 --data-dir "$DATA"
fi
./target/release/numu --data-dir "$DATA" user create --email bench@example.com --password bench-password \
  --project 1 --role admin
. load-tests/serve-lib.sh
serve_numu "$DATA"
node load-tests/dashboard-overview.mjs "http://$BASE" bench@example.com bench-password 7
