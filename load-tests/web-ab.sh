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

# ask BIN LABEL: serve DATA with BIN and ask every question ROUNDS times.
ask() {
  local log pid base="" tick
  log=$(mktemp)
  NUMU_LOG_FORMAT=json "$1" --data-dir "$DATA" serve --listen 127.0.0.1:0 2>"$log" &
  pid=$!
  for _ in $(seq 1 240); do
    base=$(grep -o '"address":"[^"]*"' "$log" | head -1 | cut -d'"' -f4 || true)
    [ -n "$base" ] && break
    sleep 0.5
  done
  tick=$(getconf CLK_TCK)
  post() {
    curl -s -o "$body" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/json' "http://$base/api/projects/1/query" -d "$1"
  }
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  for q in "${questions[@]}"; do post "$q" >/dev/null; done
  for _ in $(seq 1 "$ROUNDS"); do
    local i=0
    for q in "${questions[@]}"; do
      i=$((i + 1))
      local c0 t0 code t1 c1
      c0=$(cpu); t0=$(date +%s.%N); code=$(post "$q"); t1=$(date +%s.%N); c1=$(cpu)
      echo "$2 q$i $code $(echo "$t1 - $t0" | bc) $(echo "($c1 - $c0) / $tick" | bc -l | cut -c1-5) $(md5sum <"$body" | cut -c1-8)"
    done
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for _ in 1 2; do
  ask "$OLD" old
  ask "$NEW" new
done
