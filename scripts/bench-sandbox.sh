#!/usr/bin/env bash
# Benchmark: `gameday sandbox` side by side with a Flask + gunicorn FinCore.
#
# The Flask side (scripts/bench/flask_fincore.py) is a reconstruction of the
# workshop's service from shared/fincore-api.md, run the way the workshop runs
# it (gunicorn, 2 workers x 4 threads, gthread, PostgreSQL, a new DB
# connection per request). It is not the workshop's own code.
#
# Targets (one after the other; only the one under test is running):
#   sandbox        target/release/gameday sandbox (SQLite, its default)
#   sandbox-pg     the same with --database-url on the private PostgreSQL
#                  (skip with BENCH_SANDBOX_PG=0)
#   flask          gunicorn + flask_fincore on the same PostgreSQL
#   flask-pool     (opt-in: BENCH_TARGETS="... flask-pool") the same Flask app
#                  with a per-process pool of 4 connections (FINCORE_DB_POOL),
#                  to show how much of the gap is the connection per request
#
# For each: GET /api/balance and POST /api/transfer at 8/32/128 connections
# (wrk -t2 --latency), then GET /api/balance with db_slow injected.
# Everything runs on 127.0.0.1 only; wrk shares the machine's cores with the
# server under test, so absolute numbers are machine-bound: compare columns.
#
# Environment:
#   BENCH_DURATION        wrk duration per baseline run   (default 10s)
#   BENCH_SLOW_DURATION   wrk duration per db_slow run    (default 6s)
#   BENCH_CONNECTIONS     connection counts               (default "8 32 128")
#   BENCH_SANDBOX_PG      1 = also run sandbox-pg          (default 1)
#   BENCH_TARGETS         targets in order (default "sandbox sandbox-pg flask";
#                         add flask-pool for the pooled Flask variant)
#
# Results: printed as a markdown table and kept, with the raw wrk outputs and
# service logs, in target/bench-sandbox/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DUR="${BENCH_DURATION:-10s}"
SLOW_DUR="${BENCH_SLOW_DURATION:-6s}"
CONNS="${BENCH_CONNECTIONS:-8 32 128}"
WITH_SANDBOX_PG="${BENCH_SANDBOX_PG:-1}"
TARGETS="${BENCH_TARGETS:-sandbox sandbox-pg flask}"
[ "$WITH_SANDBOX_PG" = 1 ] || TARGETS="$(echo "$TARGETS" | tr ' ' '\n' | grep -vx sandbox-pg | tr '\n' ' ')"
WRK_TIMEOUT="${BENCH_WRK_TIMEOUT:-30s}"

PGBIN=/usr/lib/postgresql/15/bin
VENV="$ROOT/target/bench-venv"
REQ="$ROOT/scripts/bench/requirements.txt"
OUT="$ROOT/target/bench-sandbox"
BIN="$ROOT/target/release/gameday"
FLASK_WORKERS=2   # as the workshop: gunicorn -w 2 --threads 4
FLASK_THREADS=4

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --------------------------------------------------------------- cleanup ---
WORK=""
PGTMP=""
PGDATA=""
PG_STARTED=0
SVC_PID=""      # the service under test (sandbox or gunicorn master)

stop_pid() { # pid signal -- stop one process we started, bounded wait, then KILL
  local pid="$1" sig="${2:-TERM}" i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after 10 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID" INT; SVC_PID=""; fi
  if [ "$PG_STARTED" = 1 ]; then
    (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1) \
      || log "pg_ctl stop failed"
    PG_STARTED=0
  fi
  [ -n "$WORK" ] && [ -d "$WORK" ] && rm -rf "$WORK"
  [ -n "$PGTMP" ] && [ -d "$PGTMP" ] && rm -rf "$PGTMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------- install ---
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x "$PGBIN/initdb" ] || missing+=(postgresql)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

want_req="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/gunicorn" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want_req" ]; then
  log "creating Python venv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  echo "$want_req" >"$VENV/.requirements.sha256"
fi

# ----------------------------------------------------------------- build ---
case " $TARGETS " in
  *" sandbox"*)
    log "cargo build --release"
    cargo build --release
    "$BIN" sandbox --help >/dev/null 2>&1 || die "$BIN has no working 'sandbox' subcommand"
    ;;
esac

# ----------------------------------------------------------------- setup ---
WORK="$(mktemp -d /tmp/bench-sandbox.XXXXXX)"
rm -rf "$OUT"
mkdir -p "$OUT/raw"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wrk script for POST /api/transfer: sets method/body/header and counts
# responses per status code (response() callback), printing
# "STATUS <code> <count>" lines at the end.
cat >"$WORK/status.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} end
function response(status, headers, body) codes[status] = (codes[status] or 0) + 1 end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if c then for k, v in pairs(c) do agg[k] = (agg[k] or 0) + v end end
  end
  for k, v in pairs(agg) do io.write(string.format("STATUS %d %d\n", k, v)) end
end
LUA
{
  cat <<'LUA'
wrk.method = "POST"
wrk.body = '{"amount":0.01,"to_account":"ACC-002"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  cat "$WORK/status.lua"
} >"$WORK/transfer.lua"

# ------------------------------------------------------------ postgresql ---
need_pg=0
case " $TARGETS " in *" flask"* | *" sandbox-pg "*) need_pg=1 ;; esac
PGPORT=""
if [ "$need_pg" = 1 ]; then
  PGTMP="$(mktemp -d /tmp/bench-pg.XXXXXX)"
  PGDATA="$PGTMP/data"
  chown postgres:postgres "$PGTMP"
  chmod 700 "$PGTMP"
  PGPORT="$(free_port)"
  log "initdb + start PostgreSQL 15 on 127.0.0.1:$PGPORT"
  (cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >"$PGTMP/initdb.log" 2>&1) \
    || { cat "$PGTMP/initdb.log" >&2; die "initdb failed"; }
  (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/postgres.log" -w -t 30 \
    -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null) \
    || { cat "$PGTMP/postgres.log" >&2; die "pg_ctl start failed"; }
  PG_STARTED=1
  for db in fincore_flask fincore_sandbox; do
    psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -c "CREATE DATABASE $db" >/dev/null
  done
fi

# ---------------------------------------------------------------- helpers ---
wait_ready() { # url pid name logfile timeout_s
  local url="$1" pid="$2" name="$3" logf="$4" deadline=$((SECONDS + ${5:-60})) code
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logf" >&2 || true
      die "$name exited before it was ready"
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [ "$code" = 200 ] && return 0
    sleep 0.2
  done
  tail -n 40 "$logf" >&2 || true
  die "$name not ready (GET $url != 200) within ${5:-60} s"
}

# Wait until the service answers 4 concurrent GET /api/failures within 0.5 s,
# i.e. queued work from the previous run is drained (bounded: 90 s).
wait_drained() { # base
  local base="$1" deadline=$((SECONDS + 90)) slow
  while [ "$SECONDS" -lt "$deadline" ]; do
    slow="$(curl -s -Z --parallel-max 4 -H 'Connection: close' -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
      -w '%{time_total}\n' --max-time 5 \
      "$base/api/failures" "$base/api/failures" "$base/api/failures" "$base/api/failures" 2>/dev/null \
      | awk 'BEGIN{n=0; s=0} {n++; if ($1 > 0.5) s++} END{if (n < 4) s++; print s}')" || slow=1
    [ "$slow" = 0 ] && return 0
    sleep 1
  done
  log "WARNING: $base still slow after 90 s of draining; going on"
}

# Count how many of 20 concurrent GET /api/failures reads show db_slow truthy.
count_db_slow_reads() { # base -> "k" (of 20)
  local base="$1" urls=() i
  for i in $(seq 1 20); do urls+=("$base/api/failures"); done
  curl -s -Z --parallel-max 20 -H 'Connection: close' --max-time 10 "${urls[@]}" 2>/dev/null \
    | grep -o '"db_slow": *[a-z0-9]*' | grep -Ec '"db_slow": *(true|1)$' || true
}

post_failures() { # base path json count -> posts `count` times concurrently
  local base="$1" path="$2" json="$3" n="$4" urls=() i
  local data=()
  [ -n "$json" ] && data=(-H 'Content-Type: application/json' -d "$json")
  for i in $(seq 1 "$n"); do urls+=("$base$path"); done
  curl -s -Z --parallel-max "$n" -H 'Connection: close' -X POST "${data[@]}" --max-time 10 \
    "${urls[@]}" >/dev/null 2>&1 || true
}

# Inject db_slow. One POST reaches one gunicorn worker only, so for Flask post
# 10 times concurrently and check with 20 reads, up to 5 rounds.
inject_db_slow() { # target base
  local target="$1" base="$2" n=1 round k
  case "$target" in flask*) n=10 ;; esac
  for round in 1 2 3 4 5; do
    post_failures "$base" /api/failures '{"db_slow":true}' "$n"
    k="$(count_db_slow_reads "$base")"
    log "$target: db_slow posted $n time(s) (round $round); $k/20 reads of GET /api/failures show it"
    [ "$k" = 20 ] && return 0
    [ "$n" = 10 ] || break
  done
  log "WARNING: $target: db_slow not seen by every read ($k/20); results below may mix workers"
  NOTES+=("$target: only $k/20 reads of GET /api/failures showed db_slow after injection")
}

reset_failures() { # target base
  local target="$1" base="$2" n=1 round k
  case "$target" in flask*) n=10 ;; esac
  for round in 1 2 3 4 5; do
    post_failures "$base" /api/reset '' "$n"
    k="$(count_db_slow_reads "$base")"
    log "$target: reset posted $n time(s) (round $round); $k/20 reads still show db_slow"
    [ "$k" = 0 ] && return 0
  done
  log "WARNING: $target: reset did not reach every worker"
}

# wrk output -> "rps p50_ms p99_ms requests non2xx non2xx_detail sockerr"
parse_wrk() { # file
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    BEGIN { rps = "-"; p50 = "-"; p99 = "-"; reqs = 0; wrk_non = 0; sock = "0"; non = 0; det = "" }
    /^ +50% / { p50 = sprintf("%.2f", ms($2)) }
    /^ +99% / { p99 = sprintf("%.2f", ms($2)) }
    / requests in / { reqs = $1 }
    /Non-2xx or 3xx responses:/ { wrk_non = $NF }
    /Socket errors:/ {
      gsub(",", ""); s = ""
      if ($4 > 0) s = s " connect=" $4
      if ($6 > 0) s = s " read=" $6
      if ($8 > 0) s = s " write=" $8
      if ($10 > 0) s = s " timeout=" $10
      sock = (s == "") ? "0" : substr(s, 2)
    }
    /^Requests\/sec:/ { rps = sprintf("%.1f", $2) }
    /^STATUS / { if ($2 < 200 || $2 >= 300) { non += $3; det = det (det == "" ? "" : ",") $2 "x" $3 } }
    END {
      if (non == 0 && wrk_non > 0) { non = wrk_non; det = "(wrk: >=400)" }
      if (reqs + 0 == 0) { p50 = "-"; p99 = "-" }  # nothing completed: no latency
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rps, p50, p99, reqs, non, (det == "" ? "-" : det), sock
    }' "$1"
}

run_wrk() { # target base endpoint failure conns duration
  local target="$1" base="$2" ep="$3" failure="$4" c="$5" d="$6" script=() url raw
  # GET runs use plain wrk (no Lua per response: the client stays as light as
  # possible); non-2xx then comes from wrk's own counter (status >= 400).
  if [ "$ep" = "POST /api/transfer" ]; then script=(-s "$WORK/transfer.lua"); url="$base/api/transfer"
  else url="$base/api/balance"; fi
  raw="$OUT/raw/${target}_$(echo "$ep" | tr ' /' '__')_${failure}_c${c}.txt"
  log "$target: wrk -t2 -c$c -d$d $ep ($failure)"
  wrk -t2 -c"$c" -d"$d" --timeout "$WRK_TIMEOUT" --latency "${script[@]}" "$url" >"$raw" 2>&1 \
    || log "WARNING: wrk exited non-zero (see $raw)"
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$ep" "$failure" "$c" "$(parse_wrk "$raw")" >>"$RESULTS"
  wait_drained "$base"
}

start_target() { # target -> sets SVC_PID, BASE
  local target="$1" port logf
  port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  logf="$OUT/$target.log"
  case "$target" in
    sandbox)
      mkdir -p "$WORK/sandbox"
      (cd "$WORK/sandbox" && exec "$BIN" sandbox --listen "127.0.0.1:$port") >"$logf" 2>&1 &
      SVC_PID=$!
      ;;
    sandbox-pg)
      mkdir -p "$WORK/sandbox-pg"
      (cd "$WORK/sandbox-pg" && exec "$BIN" sandbox --listen "127.0.0.1:$port" \
        --database-url "postgres://postgres@127.0.0.1:$PGPORT/fincore_sandbox") >"$logf" 2>&1 &
      SVC_PID=$!
      ;;
    flask | flask-pool)
      local pool=0
      [ "$target" = flask-pool ] && pool="$FLASK_THREADS"
      (cd "$ROOT/scripts/bench" && unset PROMETHEUS_MULTIPROC_DIR prometheus_multiproc_dir \
        && FINCORE_DB_URL="postgresql://postgres@127.0.0.1:$PGPORT/fincore_flask" FINCORE_DB_POOL="$pool" \
        exec "$VENV/bin/gunicorn" -w "$FLASK_WORKERS" --threads "$FLASK_THREADS" -k gthread \
        -b "127.0.0.1:$port" flask_fincore:app) >"$logf" 2>&1 &
      SVC_PID=$!
      ;;
    *) die "unknown target $target" ;;
  esac
  wait_ready "$BASE/health" "$SVC_PID" "$target" "$logf" 60
  log "$target ready at $BASE (pid $SVC_PID)"
}

# ------------------------------------------------------------------ runs ---
NOTES=()
T0=$SECONDS
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
log "durations: baseline $DUR, db_slow $SLOW_DUR; connections: $CONNS; targets: $TARGETS; load avg: $LOAD_AT_START"
for target in $TARGETS; do
  start_target "$target"
  # one warm-up request per endpoint (first DB connection, schema, caches)
  curl -s -o /dev/null --max-time 10 "$BASE/api/balance" || true
  for ep in "GET /api/balance" "POST /api/transfer"; do
    for c in $CONNS; do run_wrk "$target" "$BASE" "$ep" none "$c" "$DUR"; done
  done
  inject_db_slow "$target" "$BASE"
  for c in $CONNS; do run_wrk "$target" "$BASE" "GET /api/balance" db_slow "$c" "$SLOW_DUR"; done
  reset_failures "$target" "$BASE"
  wait_drained "$BASE"
  if [ "${target#flask}" = "$target" ]; then
    bal="$(curl -s --max-time 5 "$BASE/api/balance" || true)"
    log "$target: balance after the run: $bal"
    NOTES+=("$target: GET /api/balance after its runs: $bal")
  fi
  # gunicorn: INT = quick shutdown (TERM would wait for queued slow requests)
  stop_pid "$SVC_PID" INT
  SVC_PID=""
done

# ---------------------------------------------------------------- report ---
{
  echo "## gameday sandbox vs Flask + gunicorn FinCore ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo
  echo "Machine: $(nproc) cores, load average at start $LOAD_AT_START, at end $(cut -d' ' -f1-3 /proc/loadavg); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}') (-t2, --timeout $WRK_TIMEOUT) on the same cores."
  echo "Baseline runs ${DUR}, db_slow runs ${SLOW_DUR}. Flask: gunicorn -w $FLASK_WORKERS --threads $FLASK_THREADS -k gthread, PostgreSQL 15, new connection per request."
  echo "sandbox: SQLite (default); sandbox-pg: --database-url on the same PostgreSQL server as Flask (own database); sandbox runs with its defaults (--workers 8, --db-pool 10)."
  case " $TARGETS " in *" flask-pool "*)
    echo "flask-pool: the same Flask app with a per-process psycopg2 pool of $FLASK_THREADS connections (FINCORE_DB_POOL) instead of a connection per request." ;;
  esac
  echo "Transfer body: {\"amount\":0.01,\"to_account\":\"ACC-002\"}. Latencies in ms; p50/p99 from wrk --latency, over completed requests only. non-2xx by status: from a Lua response() counter on POST runs; GET runs use plain wrk (its counter: status >= 400)."
  echo
  echo "| target | endpoint | failure | conns | req/s | p50 ms | p99 ms | requests | non-2xx | non-2xx by status | socket errors |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$RESULTS"
  echo
  echo "Ratio of req/s on GET /api/balance (no failure), sandbox / flask:"
  echo
  has_pool=0
  case " $TARGETS " in *" flask-pool "*) has_pool=1 ;; esac
  if [ "$has_pool" = 1 ]; then
    echo "| conns | sandbox / flask | sandbox-pg / flask | sandbox / flask-pool | sandbox-pg / flask-pool |"
    echo "|---:|---:|---:|---:|---:|"
  else
    echo "| conns | sandbox / flask | sandbox-pg / flask |"
    echo "|---:|---:|---:|"
  fi
  for c in $CONNS; do
    awk -F'\t' -v c="$c" -v pool="$has_pool" '
      $2 == "GET /api/balance" && $3 == "none" && $4 == c { r[$1] = $5 }
      function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "n/a" : sprintf("%.1fx", a / b) }
      END {
        printf "| %s | %s | %s |", c, ratio(r["sandbox"], r["flask"]), ratio(r["sandbox-pg"], r["flask"])
        if (pool == 1) printf " %s | %s |", ratio(r["sandbox"], r["flask-pool"]), ratio(r["sandbox-pg"], r["flask-pool"])
        printf "\n"
      }' "$RESULTS"
  done
  echo
  case " $TARGETS " in *" flask"*)
    echo "Note: Flask keeps its failure state per gunicorn worker; db_slow and reset were each POSTed 10 times concurrently per round and checked with 20 concurrent reads of GET /api/failures." ;;
  esac
  for n in "${NOTES[@]}"; do echo "Note: $n"; done
  echo
  echo "Total benchmark time: $((SECONDS - T0)) s. Raw wrk output and service logs: target/bench-sandbox/."
} | tee "$OUT/results.md"
