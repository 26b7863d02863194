#!/usr/bin/env bash
# Benchmark (not in `make test`): the collector against the bare actix-web baseline, in the
# same run, for each load shape below; prints one JSON report per run (see RESULTS.md).
#   load-tests/ingest-compare.sh [SECONDS] [FSYNC] [EXTRA numu serve flags...]
# FSYNC is the log's policy (always | interval), default always.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
FSYNC=${2:-always}
shift $(( $# > 2 ? 2 : $# ))
export NUMU_WAREHOUSE__EMBEDDED__PYTHON=${NUMU_WAREHOUSE__EMBEDDED__PYTHON:-$PWD/.venv/bin/python3}
cargo build -q --release -p numu-server -p numu-load-tests --bin numu --bin ingest-load
NUMU=./target/release/numu
LOAD=./target/release/ingest-load
DATA=$(mktemp -d)/data
CREATED=$($NUMU --data-dir "$DATA" project create --name load --json)
KEY=$(echo "$CREATED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_key"])')
SECRET=$(echo "$CREATED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret_key"])')
. load-tests/serve-lib.sh
NUMU_WAL__FSYNC=$FSYNC serve_numu "$DATA" "$@"
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$(dirname "$DATA")"' EXIT
SHAPES=(
  "--mode closed --concurrency 16"
  "--mode open --rate 5000"
  "--mode closed --concurrency 8 --batch 50"
  "--mode open --rate 20000 --batch 50"
)
for shape in "${SHAPES[@]}"; do
  # shellcheck disable=SC2086
  $LOAD --baseline $shape --duration "$SECS" --warmup 2 --json --quiet | tail -1
  # shellcheck disable=SC2086
  $LOAD --url "http://$BASE" --server-pid $SERVER --write-key "$KEY" --secret-key "$SECRET" \
    --verify-url "http://$BASE/api/projects/1/events?count_only=true" \
    $shape --duration "$SECS" --warmup 2 --json --quiet | tail -1
done
