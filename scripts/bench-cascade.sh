#!/usr/bin/env bash
# The cascade as figures: `gameday sandbox` with its embedded payment provider slowed to
# 10 s, N clients sending payments and one client probing GET /api/balance, for a while;
# once with no resilience pattern, once with timeout + circuit breaker + bulkhead on.
# Prints, for each run, the balance's availability (probes answered 200 within 1 s) and the
# probes' p50/p99 latency (a probe that got no answer in 1 s counts at 1 s), and the
# payments' answers by status.
#
# Everything on 127.0.0.1; the sandbox is started and stopped by its PID; each run is
# bounded by BENCH_SECONDS (the clients stop, then the sandbox is stopped).
#
# Environment:
#   BENCH_SECONDS   length of each run            (default 20)
#   BENCH_CLIENTS   concurrent payment clients    (default 16)
#   BENCH_WORKERS   the sandbox's --workers       (default 8, the workshop's 2 x 4)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
CLIENTS="${BENCH_CLIENTS:-16}"
WORKERS="${BENCH_WORKERS:-8}"
BIN="$ROOT/target/release/gameday"

cargo build --release --quiet
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

WORK="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PATTERNS_ON='{"timeout": {"enabled": true, "ms": 500},
  "circuit_breaker": {"enabled": true, "min_calls": 4, "open_s": 30},
  "bulkhead": {"enabled": true, "max_concurrent": 2}}'

# Starts the sandbox, waits for its address in $WORK/url.
start_sandbox() {
    local run="$1"
    rm -f "$WORK/out"
    "$BIN" sandbox --listen 127.0.0.1:0 --workers "$WORKERS" \
        --log-file "$WORK/$run.log" >"$WORK/out" 2>"$WORK/$run.err" &
    PID=$!
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$WORK/out" 2>/dev/null; then
            sed -n 's/^listening on //p' "$WORK/out" | head -1 >"$WORK/url"
            return
        fi
        sleep 0.1
    done
    echo "the sandbox did not start: $(cat "$WORK/$run.err")" >&2
    exit 1
}

stop_sandbox() {
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
}

run() {
    local name="$1" patterns="$2"
    start_sandbox "$name"
    python3 - "$(cat "$WORK/url")" "$patterns" "$SECONDS_PER_RUN" "$CLIENTS" "$name" <<'PY'
import json, sys, threading, time, urllib.request, urllib.error

base, patterns, seconds, clients, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def call(method, url, body=None, headers=None, timeout=5.0):
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()

json_headers = {"Content-Type": "application/json"}
_, discovery = call("GET", base + "/")
provider = json.loads(discovery)["extensions"]["provider"]["url"]
status, _ = call("POST", provider + "/api/failures", '{"latency_ms": 10000}', json_headers)
assert status == 200, status
if patterns:
    status, answer = call("POST", base + "/api/patterns", patterns, json_headers)
    assert status == 200, answer

until = time.monotonic() + seconds
payments = {}
lock = threading.Lock()

def pay(client):
    index = 0
    while time.monotonic() < until:
        slug = "".join(c if c.isalnum() else "-" for c in name)
        headers = dict(json_headers, **{"Idempotency-Key": f"bench-{slug}-{client}-{index}"})
        index += 1
        try:
            status, _ = call("POST", base + "/api/payments",
                             '{"amount": 1, "account": "ACC-001"}', headers, timeout=15.0)
            key = str(status)
        except Exception:
            key = "no answer"
        with lock:
            payments[key] = payments.get(key, 0) + 1
        # A client told no pauses a moment before its next payment.
        time.sleep(0.05)

probes = []
def probe():
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status, _ = call("GET", base + "/api/balance", timeout=1.0)
        except Exception:
            status = None
        took = min(time.monotonic() - started, 1.0)
        probes.append((status == 200 and took < 1.0, took))
        time.sleep(max(0.0, 0.2 - took))

threads = [threading.Thread(target=pay, args=(c,), daemon=True) for c in range(clients)]
threads.append(threading.Thread(target=probe, daemon=True))
for thread in threads:
    thread.start()
for thread in threads:
    # The payment clients' last request may wait for the provider: at most 15 s more.
    thread.join(timeout=seconds + 16)

latencies = sorted(took for _, took in probes)
def percentile(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")
ok = sum(1 for good, _ in probes if good)
print(json.dumps({
    "run": name,
    "probes": len(probes),
    "availability_pct": round(100.0 * ok / max(1, len(probes)), 1),
    "p50_ms": round(percentile(0.50) * 1000),
    "p99_ms": round(percentile(0.99) * 1000),
    "payments": dict(sorted(payments.items())),
}))
PY
    stop_sandbox
}

{
    run "patterns off" ""
    run "timeout+breaker+bulkhead" "$PATTERNS_ON"
} >"$WORK/results"

echo
echo "Provider latency 10 s, $CLIENTS payment clients, $WORKERS workers, ${SECONDS_PER_RUN} s per run;"
echo "GET /api/balance probed every 200 ms, available = 200 within 1 s."
echo
python3 - "$WORK/results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"| {'run':<26} | probes | balance available | p50 | p99 | payments by status |")
print(f"|{'-'*28}|--------|-------------------|-----|-----|--------------------|")
def ms(value):
    # A probe with no answer in 1 s counts at 1 s: the percentile is at least that.
    return f">= {value} ms" if value >= 1000 else f"{value} ms"
for row in rows:
    payments = ", ".join(f"{k}: {v}" for k, v in row["payments"].items())
    print(f"| {row['run']:<26} | {row['probes']:>6} | {row['availability_pct']:>16.1f}% "
          f"| {ms(row['p50_ms'])} | {ms(row['p99_ms'])} | {payments} |")
PY
