#!/usr/bin/env bash
# Coverage-guided fuzzing of the collector's decoders for a bounded time (what CI runs):
# installs cargo-fuzz when missing, builds the targets in ingest/fuzz (they depend on
# numu-ingest-decode only), then runs each for FUZZ_SECONDS (default 20) from the committed
# seeds in ingest/fuzz/corpus/<target>/, one per core (FUZZ_JOBS).
#
# Toolchain: stable without a sanitizer by default (cargo-fuzz needs no -Z flag then).
# The decoders are safe Rust (unsafe_code is denied), so what fuzzing can find is panics,
# aborts, timeouts and memory blow-ups, which libFuzzer catches without a sanitizer; and
# AddressSanitizer cost 5-12x in executions per second here (load-tests/RESULTS.md).
# FUZZ_SANITIZER=address uses nightly with AddressSanitizer when a nightly toolchain is
# installed (checked here), else says so and runs without.
#
# A failure leaves the input in ingest/fuzz/artifacts/<target>/ and prints how to replay
# it; fix the decoder, then copy the input into ingest/fuzz/corpus/<target>/ so the stable
# test (ingest/decode/tests/fuzz.rs) and every later run replay it.
set -euo pipefail
cd "$(dirname "$0")/../ingest"

seconds="${FUZZ_SECONDS:-20}"
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(segment_message segment_batch compact_body pixel_query gzip_body)

if ! command -v cargo-fuzz >/dev/null; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cargo=(cargo) sanitizer=none
if [[ "${FUZZ_SANITIZER:-none}" != none ]]; then
  if rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly) sanitizer="$FUZZ_SANITIZER"
  else
    echo "fuzz: no nightly toolchain for sanitizer $FUZZ_SANITIZER: running without one"
  fi
fi
host=$(rustc -vV | sed -n 's/^host: //p')
echo "fuzz: $("${cargo[@]}" --version), sanitizer $sanitizer, $seconds s per target"

started=$(date +%s)
"${cargo[@]}" fuzz build --sanitizer "$sanitizer"
echo "fuzz: built in $(($(date +%s) - started)) s"

work=fuzz/target/fuzz-ci
mkdir -p "$work"

run_one() {
  local target=$1 log="$work/$1.log"
  mkdir -p "$work/corpus/$target" "fuzz/artifacts/$target"
  if "fuzz/target/$host/release/$target" "$work/corpus/$target" "fuzz/corpus/$target" \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1; then
    local runs rate
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $target ok: $runs runs ($rate/s), corpus $(ls "$work/corpus/$target" | wc -l) inputs"
  else
    local input
    input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    grep -m 1 -A 2 'panicked at' "$log" || tail -n 20 "$log"
    echo "fuzz: $target FAILED (log: ingest/$log); replay with:"
    echo "  cd ingest && ${cargo[*]} fuzz run --sanitizer $sanitizer $target ${input:-fuzz/artifacts/$target/}"
    return 1
  fi
}

pids=() failed=0
for target in "${targets[@]}"; do
  run_one "$target" &
  pids+=($!)
  if ((${#pids[@]} >= jobs)); then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
echo "fuzz: done in $(($(date +%s) - started)) s"
exit "$failed"
