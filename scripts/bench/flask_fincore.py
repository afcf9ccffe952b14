"""FinCore reference service -- a RECONSTRUCTION, for benchmarking only.

This is NOT the workshop's code. It is rebuilt from the API contract in
shared/fincore-api.md so that `scripts/bench-sandbox.sh` can compare the
`gameday sandbox` with a Flask + gunicorn service shaped like the workshop's,
side by side on the same machine. It copies the workshop service's behaviour,
including its sloppy parts (no validation of /api/failures, per-process
failure state, 415/400/500 HTML errors), on purpose.

Database access: by default a NEW psycopg2 connection per request (opened
and closed in the handler), as a naive Flask app does; there is no pool. For
comparison only, FINCORE_DB_POOL=N (N > 0) switches to a simple per-process
psycopg2 ThreadedConnectionPool of at most N connections (autocommit) -- the
bench script's "flask-pool" target. The DB URL comes from the environment
variable FINCORE_DB_URL, e.g.
    postgresql://postgres@127.0.0.1:5432/fincore

On import (i.e. once per gunicorn worker) the table
    accounts(account_number VARCHAR(20) PRIMARY KEY, balance NUMERIC(15,2),
             currency VARCHAR(3))
is created if missing and seeded with ('ACC-001', 10000.00, 'USD').

Metrics use prometheus_client's default (single-process) registry: with
several gunicorn workers each worker has its own counters and a scrape sees
one of them, as in the workshop. Do not set PROMETHEUS_MULTIPROC_DIR.

fintech_active_transactions counts requests in flight in /api/transfer and
/api/balance (the later workshop version, so the slow-DB case shows up).

Run:  gunicorn -w 2 --threads 4 -k gthread -b 127.0.0.1:PORT flask_fincore:app
"""

import os
import random
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg2
import psycopg2.pool
from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

DB_URL = os.environ.get("FINCORE_DB_URL", "postgresql://postgres@127.0.0.1:5432/fincore")
DB_POOL_SIZE = int(os.environ.get("FINCORE_DB_POOL", "0") or "0")
_db_pool = None  # created lazily, i.e. in each gunicorn worker after the fork
_db_pool_lock = threading.Lock()

app = Flask(__name__)

REQUEST_COUNT = Counter(
    "fintech_requests_total", "Total requests", ["method", "endpoint", "status"]
)
REQUEST_LATENCY = Histogram(
    "fintech_request_latency_seconds", "Request latency in seconds", ["endpoint"]
)
ACTIVE_TRANSACTIONS = Gauge("fintech_active_transactions", "Active transactions")

# Per-process failure state (each gunicorn worker has its own copy).
failure_config = {
    "latency_ms": 0,
    "error_rate": 0,
    "memory_leak_mb": 0,
    "db_slow": False,
    "db_fail": False,
}
memory_leak_storage = []


def utc_now_iso():
    # ISO 8601 without a zone, UTC (like datetime.utcnow().isoformat()).
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def get_db_connection():
    return psycopg2.connect(DB_URL)


@contextmanager
def db_connection():
    """A connection for one request: new and closed after (default), or
    borrowed from the per-process pool when FINCORE_DB_POOL > 0."""
    global _db_pool
    if DB_POOL_SIZE <= 0:
        conn = get_db_connection()
        try:
            yield conn
        finally:
            conn.close()
        return
    with _db_pool_lock:
        if _db_pool is None:
            # minconn == maxconn: psycopg2's pool closes returned connections
            # beyond minconn, which would make it a connection per request again.
            _db_pool = psycopg2.pool.ThreadedConnectionPool(DB_POOL_SIZE, DB_POOL_SIZE, DB_URL)
    conn = _db_pool.getconn()
    conn.autocommit = True
    broken = False
    try:
        yield conn
    except psycopg2.Error:
        broken = True
        raise
    finally:
        _db_pool.putconn(conn, close=broken)


def init_db():
    """Create and seed the accounts table if missing (runs in every worker)."""
    conn = None
    for attempt in range(30):
        try:
            conn = get_db_connection()
            break
        except psycopg2.OperationalError:
            time.sleep(0.5)
    if conn is None:
        # The service still starts; /health reports the DB error.
        return
    try:
        with conn:
            with conn.cursor() as cur:
                # Serialize the two workers' CREATE TABLE IF NOT EXISTS, which
                # can otherwise race on pg_type.
                cur.execute("SELECT pg_advisory_xact_lock(4242)")
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS accounts ("
                    " account_number VARCHAR(20) PRIMARY KEY,"
                    " balance NUMERIC(15,2),"
                    " currency VARCHAR(3))"
                )
                cur.execute(
                    "INSERT INTO accounts (account_number, balance, currency)"
                    " VALUES ('ACC-001', 10000.00, 'USD')"
                    " ON CONFLICT (account_number) DO NOTHING"
                )
    finally:
        conn.close()


def apply_failures():
    """Apply the injected failures, in the contract's order.

    A wrongly typed value (e.g. "300" or None) raises TypeError here, so every
    instrumented endpoint answers 500 until a reset -- as the workshop does.
    """
    if failure_config["latency_ms"] > 0:
        time.sleep(failure_config["latency_ms"] / 1000.0)
    if failure_config["error_rate"] > 0:
        if random.randint(1, 100) <= failure_config["error_rate"]:
            raise Exception("Simulated error (error_rate injection)")
    if failure_config["memory_leak_mb"] > 0:
        # bytes(...) of zeros may be lazily mapped; write to make it resident.
        buf = bytearray(int(failure_config["memory_leak_mb"]) * 1024 * 1024)
        for i in range(0, len(buf), 4096):
            buf[i] = 1
        memory_leak_storage.append(buf)
    if failure_config["db_slow"]:
        time.sleep(2)
    # db_fail is stored but never read (workshop behaviour).


@app.route("/")
def index():
    return jsonify(
        {
            "service": "fintech-api",
            "version": "2.0.0",
            "endpoints": [
                "/health",
                "/metrics",
                "/api/balance",
                "/api/transfer",
                "/api/failures",
                "/api/reset",
            ],
        }
    )


@app.route("/health")
def health():
    start = time.time()
    try:
        apply_failures()
        try:
            with db_connection() as conn:
                conn.cursor().execute("SELECT 1")
        except Exception as e:  # DB unreachable
            REQUEST_COUNT.labels("GET", "/health", "503").inc()
            return (
                jsonify(
                    {
                        "status": "unhealthy",
                        "database": "error: %s" % str(e).strip(),
                        "timestamp": utc_now_iso(),
                    }
                ),
                503,
            )
        REQUEST_COUNT.labels("GET", "/health", "200").inc()
        REQUEST_LATENCY.labels("/health").observe(time.time() - start)
        return jsonify(
            {"status": "healthy", "database": "connected", "timestamp": utc_now_iso()}
        )
    except Exception as e:
        REQUEST_COUNT.labels("GET", "/health", "500").inc()
        return jsonify({"status": "error", "error": str(e)}), 500


@app.route("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@app.route("/api/balance")
def balance():
    start = time.time()
    ACTIVE_TRANSACTIONS.inc()
    try:
        apply_failures()
        with db_connection() as conn:
            cur = conn.cursor()
            cur.execute(
                "SELECT balance, currency FROM accounts WHERE account_number = %s",
                ("ACC-001",),
            )
            row = cur.fetchone()
            cur.close()
        REQUEST_COUNT.labels("GET", "/api/balance", "200").inc()
        REQUEST_LATENCY.labels("/api/balance").observe(time.time() - start)
        return jsonify({"account": "ACC-001", "balance": float(row[0]), "currency": row[1]})
    except Exception as e:
        REQUEST_COUNT.labels("GET", "/api/balance", "500").inc()
        return jsonify({"error": str(e)}), 500
    finally:
        ACTIVE_TRANSACTIONS.dec()


@app.route("/api/transfer", methods=["POST"])
def transfer():
    start = time.time()
    ACTIVE_TRANSACTIONS.inc()
    try:
        apply_failures()
        # Without a JSON content type this raises 415, caught below -> 500.
        data = request.get_json()
        time.sleep(0.1)  # "processing"; never touches the DB
        REQUEST_COUNT.labels("POST", "/api/transfer", "200").inc()
        REQUEST_LATENCY.labels("/api/transfer").observe(time.time() - start)
        return jsonify(
            {
                "status": "completed",
                "transaction_id": "TXN-%06d" % random.randint(100000, 999999),
                "amount": data.get("amount"),
                "to_account": data.get("to_account"),
                "timestamp": utc_now_iso(),
            }
        )
    except Exception as e:
        REQUEST_COUNT.labels("POST", "/api/transfer", "500").inc()
        return jsonify({"error": "Transfer failed", "details": str(e)}), 500
    finally:
        ACTIVE_TRANSACTIONS.dec()


@app.route("/api/failures", methods=["GET", "POST"])
def failures():
    if request.method == "POST":
        # No validation of types or ranges. Outside any try: 415/400 come back
        # as Flask's HTML error pages; a JSON list or string has no .items()
        # -> 500 HTML. Unknown keys are accepted and change nothing.
        data = request.get_json()
        for key, value in data.items():
            if key in failure_config:
                failure_config[key] = value
        return jsonify({"status": "updated", "config": failure_config})
    return jsonify({"current_config": failure_config})


@app.route("/api/reset", methods=["POST"])
def reset():
    # Zeroes every key: db_slow/db_fail read back as 0, not false (workshop quirk).
    for key in failure_config:
        failure_config[key] = 0
    memory_leak_storage.clear()
    return jsonify({"status": "reset complete"})


init_db()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
