#!/usr/bin/env bash
# Benchmark (not in `make test`): two numu binaries answer the same web analytics questions
# over one data directory, served in turn (the embedded engine is one process's), each
# question ROUNDS times after a warm-up. Prints per answer: binary, question, HTTP status,
# wall seconds, server CPU seconds (utime+stime from /proc), md5 of the body (equal bodies:
# equal answers; the questions use fixed dates).
#   load-tests/web-ab.sh OLD_BIN NEW_BIN DATA_DIR SECRET_KEY [ROUNDS] [FROM] [TO]
# DATA_DIR from `bulk-load` (which prints the secret key); FROM and TO default to the week
# before yesterday.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 DATA=$3 KEY=$4 ROUNDS=${5:-2}
FROM=${6:-$(date -u -d '8 days ago' +%F)} TO=${7:-$(date -u -d '2 days ago' +%F)}
export NUMU_WAREHOUSE__EMBEDDED__PYTHON=${NUMU_WAREHOUSE__EMBEDDED__PYTHON:-$PWD/.venv/bin/python3}
range='"date_range":{"from":"'$FROM'","to":"'$TO'"},"interval":"day","compare":true'
questions=(
  '{"kind":"web_analytics",'"$range"',"limit":5,"reports":["channels","utm_campaigns"]}'
  '{"kind":"web_analytics",'"$range"',"limit":10,"reports":["pages","entry_pages","channels"]}'
  '{"kind":"web_analytics",'"$range"',"limit":10,"reports":["pages","channels"],"filters":[{"property":"os","operator":"not_equals","value":"iOS"}]}'
  '{"kind":"web_analytics","date_range":{"from":"'$TO'","to":"'$TO'"},"interval":"hour","compare":true}'
)
body=$(mktemp)

. load-tests/serve-lib.sh

post() {
  curl -s -o "$body" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' "http://$BASE/api/projects/1/query" -d "$1"
}
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# ask BIN LABEL: serve DATA with BIN and ask every question ROUNDS times.
ask() {
  local tick i c0 t0 code t1 c1
  SERVE_BIN=$1
  serve_numu "$DATA"
  tick=$(getconf CLK_TCK)
  for q in "${questions[@]}"; do post "$q" >/dev/null; done
  for _ in $(seq 1 "$ROUNDS"); do
    i=0
    for q in "${questions[@]}"; do
      i=$((i + 1))
      c0=$(cpu); t0=$(date +%s.%N); code=$(post "$q"); t1=$(date +%s.%N); c1=$(cpu)
      echo "$2 q$i $code $(echo "$t1 - $t0" | bc) $(echo "($c1 - $c0) / $tick" | bc -l | cut -c1-5) $(md5sum <"$body" | cut -c1-8)"
    done
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

for _ in 1 2; do
  ask "$OLD" old
  ask "$NEW" new
done
