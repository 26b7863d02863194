# Sourced by the benchmark scripts: start `numu serve` on a free loopback port.
#   serve_numu DATA_DIR [extra serve flags...]
# Sets SERVER (its pid) and BASE (host:port) and stops the server when the script exits.
# The binary is $SERVE_BIN, by default ./target/release/numu (a plain shell variable: numu
# reads every exported NUMU_* variable as configuration and refuses unknown keys).
serve_numu() {
  local data=$1 log
  shift
  log=$(mktemp)
  NUMU_LOG_FORMAT=json "${SERVE_BIN:-./target/release/numu}" --data-dir "$data" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
  BASE=
  for _ in $(seq 1 240); do
    BASE=$(grep -o '"address":"[^"]*"' "$log" | head -1 | cut -d'"' -f4 || true)
    [ -n "$BASE" ] && return 0
    sleep 0.5
  done
  echo "numu serve did not start:" >&2
  cat "$log" >&2
  return 1
}
