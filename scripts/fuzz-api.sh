#!/usr/bin/env bash
# A longer run of the in-process property test of the sandbox API's JSON bodies
# (tests/sandbox_bodies_property.rs): generated and mutated bodies of POST /api/failures and
# POST /api/transfer through the sandbox's own validation. Prints the executions, the crashes
# (panics) and the violations of an invariant; exits non-zero if there was any.
#
#   scripts/fuzz-api.sh [EXECUTIONS] [SEED]     (default: 1000000, a seed from the clock)
set -euo pipefail
cd "$(dirname "$0")/.."

executions="${1:-1000000}"
seed="${2:-$(date +%s)}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$(date +%s)
status=0
GAMEDAY_FUZZ_EXECUTIONS="$executions" GAMEDAY_FUZZ_SEED="$seed" \
  cargo test --release --test sandbox_bodies_property api_bodies_hold_their_invariants_in_process \
  -- --exact --nocapture >"$log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - start ))

summary="$(grep -E '^fuzz: ' "$log" || true)"
if [ -z "$summary" ]; then
  cat "$log" >&2
  echo "fuzz-api: the run printed no summary (exit $status)" >&2
  exit 1
fi
echo "$summary (${elapsed}s with the build)"
if [ "$status" -ne 0 ]; then
  grep -A12 -E 'panicked|violations, the first' "$log" >&2 || true
  exit "$status"
fi
