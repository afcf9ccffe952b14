#!/usr/bin/env bash
# Benchmark: our closed-model load generator side by side with wrk and oha, against the same
# `gameday sandbox` (release build, --workers 64, SQLite) on 127.0.0.1, GET /api/balance.
#
# For each connection count, one after the other and BENCH_DURATION each:
#   gameday load --connections N --duration D --mix balance=1 --json
#   wrk -t2 -cN -dD --latency
#   oha --no-tui -z D -c N --output-format json
# then a table of req/s, p50 and p99 (each tool's own figures, over completed requests), and
# the ratios ours/wrk and ours/oha. The clients share the machine's cores with the sandbox, so
# a lighter client leaves the server more CPU: the ratio is client efficiency on this machine.
#
# Environment:
#   BENCH_DURATION     seconds per run                 (default 10)
#   BENCH_CONNECTIONS  connection counts               (default "8 32")
#   BENCH_WORKERS      sandbox --workers               (default 64)
#   OHA                the oha binary (default: oha on PATH, else target/tools/bin/oha,
#                      else `cargo install oha --locked --root target/tools`, which is slow);
#                      OHA=none leaves oha out
#   BENCH_NO_BUILD=1   use target/release/gameday as it is
#
# Results: printed as markdown and kept with the raw outputs in target/bench-load/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DUR="${BENCH_DURATION:-10}"
CONNS="${BENCH_CONNECTIONS:-8 32}"
WORKERS="${BENCH_WORKERS:-64}"
BIN="$ROOT/target/release/gameday"
OUT="$ROOT/target/bench-load"
TOOLS="$ROOT/target/tools"

log() { printf '[bench-load %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SANDBOX_PID=""
stop_sandbox() {
  [ -n "$SANDBOX_PID" ] || return 0
  kill -TERM "$SANDBOX_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$SANDBOX_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SANDBOX_PID" 2>/dev/null || true
  wait "$SANDBOX_PID" 2>/dev/null || true
  SANDBOX_PID=""
}
trap stop_sandbox EXIT INT TERM

# ------------------------------------------------------------------ tools ---
command -v wrk >/dev/null 2>&1 || die "wrk is missing: apt-get install -y wrk"
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
if [ -z "${OHA:-}" ]; then
  if command -v oha >/dev/null 2>&1; then
    OHA="$(command -v oha)"
  else
    OHA="$TOOLS/bin/oha"
    if [ ! -x "$OHA" ]; then
      log "oha is missing: cargo install oha --locked --root $TOOLS (takes a while)"
      cargo install oha --locked --root "$TOOLS" >&2
    fi
  fi
fi
[ "$OHA" = none ] || [ -x "$OHA" ] || die "no oha at $OHA"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "cargo build --release --bin gameday"
  cargo build --release --bin gameday >&2
fi
[ -x "$BIN" ] || die "no $BIN"

rm -rf "$OUT"
mkdir -p "$OUT/raw"
RESULTS="$OUT/results.tsv"
: >"$RESULTS"

# ---------------------------------------------------------------- sandbox ---
"$BIN" sandbox --listen 127.0.0.1:0 --workers "$WORKERS" --log-file "$OUT/sandbox.log" \
  >"$OUT/sandbox.out" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$OUT/sandbox.out" 2>/dev/null && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || die "the sandbox exited: $(cat "$OUT/sandbox.out")"
  sleep 0.1
done
BASE="$(sed -n 's/^listening on //p' "$OUT/sandbox.out" | head -1)"
[ -n "$BASE" ] || die "the sandbox did not say where it listens"
URL="$BASE/api/balance"
curl -sf -o /dev/null --max-time 5 "$URL" || die "GET $URL failed"
log "sandbox pid $SANDBOX_PID at $BASE (--workers $WORKERS)"

# ------------------------------------------------------------------- runs ---
# Each parser prints "req/s p50_ms p99_ms requests errors".
parse_ours() {
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
lat = s.get("latency_ms") or {}
print("%.1f %.3f %.3f %d %d" % (s["requests_per_s"], lat.get("p50", 0), lat.get("p99", 0),
                                s["answered"], s["errors"]))' "$1"
}

parse_oha() {
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
summary, pct = s["summary"], s["latencyPercentiles"]
codes = s.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2"))
# Requests cut off by the end of -z are not failures (the others just stop sending).
errs = {k: v for k, v in s.get("errorDistribution", {}).items() if k != "aborted due to deadline"}
bad = sum(v for k, v in codes.items() if not k.startswith("2")) + sum(errs.values())
print("%.1f %.3f %.3f %d %d" % (summary["requestsPerSec"], pct["p50"] * 1000, pct["p99"] * 1000,
                                ok + bad, bad))' "$1"
}

parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    BEGIN { non = 0; sock = 0 }
    /^ +50% / { p50 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { reqs = $1 }
    /Non-2xx or 3xx responses:/ { non = $NF }
    /Socket errors:/ { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%.1f %.3f %.3f %d %d\n", rps, p50, p99, reqs, non + sock }' "$1"
}

record() { # tool conns "rps p50 p99 requests errors"
  printf '%s\t%s\t%s\n' "$1" "$2" "$(echo "$3" | tr ' ' '\t')" >>"$RESULTS"
  log "$1 c=$2: $3 (req/s p50 p99 requests errors)"
}

T0=$SECONDS
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
for c in $CONNS; do
  raw="$OUT/raw/ours_c$c.json"
  log "gameday load --connections $c --duration ${DUR}s"
  "$BIN" load --target "$BASE" --connections "$c" --duration "${DUR}s" --mix balance=1 --json \
    >"$raw" 2>"$OUT/raw/ours_c$c.stderr" || die "gameday load failed: $(cat "$OUT/raw/ours_c$c.stderr")"
  record ours "$c" "$(parse_ours "$raw")"
  sleep 1

  raw="$OUT/raw/wrk_c$c.txt"
  log "wrk -t2 -c$c -d${DUR}s --latency"
  wrk -t2 -c"$c" -d"${DUR}s" --latency "$URL" >"$raw" 2>&1 || die "wrk failed: $(cat "$raw")"
  record wrk "$c" "$(parse_wrk "$raw")"
  sleep 1

  [ "$OHA" = none ] && continue
  raw="$OUT/raw/oha_c$c.json"
  log "oha --no-tui -z ${DUR}s -c $c"
  "$OHA" --no-tui -z "${DUR}s" -c "$c" --output-format json "$URL" >"$raw" 2>"$OUT/raw/oha_c$c.stderr" \
    || die "oha failed: $(cat "$OUT/raw/oha_c$c.stderr")"
  record oha "$c" "$(parse_oha "$raw")"
  sleep 1
done
stop_sandbox

# ----------------------------------------------------------------- report ---
{
  echo "## Closed-model throughput: gameday load vs wrk vs oha ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo
  echo "Machine: $(nproc) cores, load average at start $LOAD_AT_START, at end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Target: gameday sandbox --workers $WORKERS (SQLite), GET /api/balance on 127.0.0.1; ${DUR} s per run, one tool at a time."
  echo "Tools: gameday load --connections N (tokio, hyper), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}') -t2, $([ "$OHA" = none ] && echo "no oha" || "$OHA" --version 2>/dev/null | head -1) (default threads)."
  echo "Latency: each tool's own figures over completed requests, from the send (closed model)."
  echo
  echo "| conns | tool | req/s | p50 ms | p99 ms | requests | errors |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ printf "| %s | %s | %s | %.2f | %.2f | %s | %s |\n", $2, $1, $3, $4, $5, $6, $7 }' "$RESULTS"
  echo
  echo "| conns | ours / wrk | ours / oha |"
  echo "|---:|---:|---:|"
  for c in $CONNS; do
    awk -F'\t' -v c="$c" '
      $2 == c { r[$1] = $3 }
      function ratio(a, b) { return (b + 0 == 0) ? "n/a" : sprintf("%.2f", a / b) }
      END { printf "| %s | %s | %s |\n", c, ratio(r["ours"], r["wrk"]), ratio(r["ours"], r["oha"]) }' "$RESULTS"
  done
  echo
  echo "Total benchmark time: $((SECONDS - T0)) s. Raw outputs: target/bench-load/raw/."
} | tee "$OUT/results.md"
