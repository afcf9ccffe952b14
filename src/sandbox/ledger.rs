//! The sandbox's real database: SQLite (a temporary file by default) or PostgreSQL, behind one
//! connection pool, with the accounts the workshop seeds and real transfer transactions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use super::metrics::Metrics;

/// The account every transfer debits, seeded with 10 000.00 USD as in the workshop.
pub const SOURCE_ACCOUNT: &str = "ACC-001";
const SEED_BALANCE_CENTS: i64 = 1_000_000;
/// How long `db_slow` holds a connection inside its transaction.
pub const DB_SLOW_HOLD: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug)]
pub enum LedgerError {
    /// The database can't be used (injected `db_fail`, or a real connection error).
    Unavailable(String),
    /// A statement failed.
    Query(String),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Unavailable(reason) | LedgerError::Query(reason) => f.write_str(reason),
        }
    }
}

impl From<sqlx::Error> for LedgerError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => LedgerError::Unavailable(err.to_string()),
            other => LedgerError::Query(other.to_string()),
        }
    }
}

/// How a request treats the database, from the failure state it read.
#[derive(Debug, Clone, Copy, Default)]
pub struct DbFaults {
    pub slow: bool,
    pub fail: bool,
}

/// A validated transfer request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    pub amount_cents: i64,
    pub to_account: String,
}

/// What a transfer answered: the status and body, which an idempotent retry gets again.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferOutcome {
    pub status: u16,
    pub body: Value,
    pub replayed: bool,
}

pub struct Ledger {
    pub(super) pool: AnyPool,
    /// One connection of its own for the double-credit check of `/metrics`, so a scrape never
    /// takes a connection from the requests' pool (nor waits behind them).
    pub(super) audit_pool: AnyPool,
    backend: Backend,
    max_connections: u32,
    metrics: Arc<Metrics>,
    /// SQLite has one writer at a time and its busy handler backs off in steps of up to
    /// 100 ms; queueing writers here instead keeps a transfer's tail latency in milliseconds.
    pub(super) sqlite_writer: tokio::sync::Mutex<()>,
    /// Keeps the temporary SQLite file alive as long as the ledger.
    _temp_dir: Option<tempfile::TempDir>,
}

impl Ledger {
    /// Opens the database at `url` (a temporary SQLite file when `None`), creates the schema and
    /// seeds the source account if it is missing.
    pub async fn open(
        url: Option<&str>,
        max_connections: u32,
        metrics: Arc<Metrics>,
    ) -> Result<Ledger, String> {
        sqlx::any::install_default_drivers();
        let (url, temp_dir) = match url {
            Some(url) => (url.to_string(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("gameday-sandbox-")
                    .tempdir()
                    .map_err(|err| format!("cannot create a temporary database folder: {err}"))?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("fincore.db").display()
                );
                (url, Some(dir))
            }
        };
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(format!(
                "unsupported database URL `{}`: expected sqlite://PATH or postgres://USER@HOST:PORT/DB",
                redact(&url)
            ));
        };
        // One direct connection first, so a wrong URL or a server that is down fails at once
        // instead of after the pool's acquire timeout.
        let probe = tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&url))
            .await
            .map_err(|_| {
                format!(
                    "cannot open the database `{}`: no answer in 10 s",
                    redact(&url)
                )
            })?
            .map_err(|err| format!("cannot open the database `{}`: {err}", redact(&url)))?;
        let _ = probe.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // writers queue instead of failing at once.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|err| format!("cannot open the database `{}`: {err}", redact(&url)))?;
        let audit_pool = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(&url)
            .map_err(|err| format!("cannot open the database `{}`: {err}", redact(&url)))?;
        let ledger = Ledger {
            pool,
            audit_pool,
            backend,
            max_connections,
            metrics,
            sqlite_writer: tokio::sync::Mutex::new(()),
            _temp_dir: temp_dir,
        };
        ledger
            .create_schema()
            .await
            .map_err(|err| format!("cannot create the schema: {err}"))?;
        Ok(ledger)
    }

    async fn create_schema(&self) -> Result<(), sqlx::Error> {
        let id_column = match self.backend {
            Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
        };
        // Money is kept in whole cents so both backends add up exactly.
        let statements = [
            "CREATE TABLE IF NOT EXISTS accounts (
                account_number VARCHAR(20) PRIMARY KEY,
                balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0),
                currency VARCHAR(3) NOT NULL DEFAULT 'USD'
            )"
            .to_string(),
            format!(
                "CREATE TABLE IF NOT EXISTS transfers (
                    {id_column},
                    from_account VARCHAR(20) NOT NULL,
                    to_account VARCHAR(20) NOT NULL,
                    amount_cents BIGINT NOT NULL,
                    created_at VARCHAR(32) NOT NULL
                )"
            ),
            "CREATE TABLE IF NOT EXISTS idempotency_keys (
                idempotency_key VARCHAR(255) PRIMARY KEY,
                request_fingerprint VARCHAR(100) NOT NULL,
                status_code INTEGER NOT NULL,
                response_body TEXT NOT NULL
            )"
            .to_string(),
        ];
        let statements = statements
            .into_iter()
            .chain(super::ledger_payments::schema(id_column))
            .chain(super::ledger_fallback::schema());
        for statement in statements {
            sqlx::query(&statement).execute(&self.pool).await?;
        }
        sqlx::query(
            "INSERT INTO accounts (account_number, balance_cents, currency) VALUES ($1, $2, 'USD')
             ON CONFLICT (account_number) DO NOTHING",
        )
        .bind(SOURCE_ACCOUNT)
        .bind(SEED_BALANCE_CENTS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections in use and idle, and the pool's limit.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(size);
        (size.saturating_sub(idle), idle, self.max_connections)
    }

    /// Starts a transaction, counting the wait for a connection and the transaction itself, and
    /// holding it for [`DB_SLOW_HOLD`] when the database is "slow".
    pub(super) async fn begin(
        &self,
        faults: DbFaults,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, ActiveGuard), LedgerError> {
        if faults.fail {
            return Err(LedgerError::Unavailable(
                "database unavailable (injected db_fail)".to_string(),
            ));
        }
        // Counted from the wait for a connection on, as a request blocked on the pool is as
        // much a database transaction in flight as one holding a connection.
        let guard = ActiveGuard::new(&self.metrics);
        let waiting = Instant::now();
        let tx = self.pool.begin().await;
        self.metrics.record_pool_wait(waiting.elapsed());
        let tx = tx?;
        if faults.slow {
            tokio::time::sleep(DB_SLOW_HOLD).await;
        }
        Ok((tx, guard))
    }

    /// Runs one read statement. Normally that is a single round trip in SQL's implicit
    /// transaction; under `db_slow` it runs in an explicit transaction held open for
    /// [`DB_SLOW_HOLD`], so the held connection shows as "idle in transaction" as in real life.
    async fn read_row(
        &self,
        faults: DbFaults,
        sql: &'static str,
        account: Option<&str>,
    ) -> Result<sqlx::any::AnyRow, LedgerError> {
        let query = match account {
            Some(account) => sqlx::query(sql).bind(account.to_string()),
            None => sqlx::query(sql),
        };
        if faults.slow || faults.fail {
            let (mut tx, _active) = self.begin(faults).await?;
            let row = query.fetch_one(&mut *tx).await?;
            tx.commit().await?;
            return Ok(row);
        }
        let _active = ActiveGuard::new(&self.metrics);
        let waiting = Instant::now();
        let connection = self.pool.acquire().await;
        self.metrics.record_pool_wait(waiting.elapsed());
        let mut connection = connection?;
        Ok(query.fetch_one(&mut *connection).await?)
    }

    /// The health check's database round trip.
    pub async fn ping(&self, faults: DbFaults) -> Result<(), LedgerError> {
        self.read_row(faults, "SELECT 1", None).await.map(|_| ())
    }

    /// The source account's balance in cents and its currency.
    pub async fn balance(&self, faults: DbFaults) -> Result<(i64, String), LedgerError> {
        let row = self
            .read_row(
                faults,
                "SELECT balance_cents, currency FROM accounts WHERE account_number = $1",
                Some(SOURCE_ACCOUNT),
            )
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Moves money from the source account to `request.to_account` in one transaction. With an
    /// idempotency key, a repeat of the same request returns the first outcome unchanged.
    pub async fn transfer(
        &self,
        request: &TransferRequest,
        idempotency_key: Option<&str>,
        faults: DbFaults,
    ) -> Result<TransferOutcome, LedgerError> {
        let fingerprint = format!("{}:{}", request.amount_cents, request.to_account);
        let (mut tx, _active) = self.begin(faults).await?;
        let _writer = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        };
        if let Some(key) = idempotency_key {
            // Claiming the key first takes the write lock (SQLite) or waits for a concurrent
            // holder of the same key to finish (PostgreSQL), so a key is only ever used once.
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (idempotency_key, request_fingerprint, status_code, response_body)
                 VALUES ($1, $2, 0, '') ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(key)
            .bind(&fingerprint)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                tx.rollback().await?;
                return self.replay(key, &fingerprint).await;
            }
        }
        let debited: AnyQueryResult = sqlx::query(
            "UPDATE accounts SET balance_cents = balance_cents - $1
             WHERE account_number = $2 AND balance_cents >= $1",
        )
        .bind(request.amount_cents)
        .bind(SOURCE_ACCOUNT)
        .execute(&mut *tx)
        .await?;
        let outcome = if debited.rows_affected() == 0 {
            let row = sqlx::query("SELECT balance_cents FROM accounts WHERE account_number = $1")
                .bind(SOURCE_ACCOUNT)
                .fetch_one(&mut *tx)
                .await?;
            let cents: i64 = row.try_get(0)?;
            TransferOutcome {
                status: 422,
                body: json!({
                    "error": "insufficient funds",
                    "account": SOURCE_ACCOUNT,
                    "balance": cents_to_amount(cents),
                    "amount": cents_to_amount(request.amount_cents),
                }),
                replayed: false,
            }
        } else {
            sqlx::query(
                "INSERT INTO accounts (account_number, balance_cents, currency) VALUES ($1, $2, 'USD')
                 ON CONFLICT (account_number) DO UPDATE
                 SET balance_cents = accounts.balance_cents + excluded.balance_cents",
            )
            .bind(&request.to_account)
            .bind(request.amount_cents)
            .execute(&mut *tx)
            .await?;
            let timestamp = super::iso_timestamp(chrono::Utc::now());
            let row = sqlx::query(
                "INSERT INTO transfers (from_account, to_account, amount_cents, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(SOURCE_ACCOUNT)
            .bind(&request.to_account)
            .bind(request.amount_cents)
            .bind(&timestamp)
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.try_get(0)?;
            TransferOutcome {
                status: 200,
                body: json!({
                    "status": "completed",
                    "transaction_id": format!("TXN-{id:06}"),
                    "amount": cents_to_amount(request.amount_cents),
                    "to_account": request.to_account,
                    "timestamp": timestamp,
                }),
                replayed: false,
            }
        };
        if let Some(key) = idempotency_key {
            sqlx::query(
                "UPDATE idempotency_keys SET status_code = $1, response_body = $2
                 WHERE idempotency_key = $3",
            )
            .bind(i32::from(outcome.status))
            .bind(outcome.body.to_string())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn replay(&self, key: &str, fingerprint: &str) -> Result<TransferOutcome, LedgerError> {
        let row = sqlx::query(
            "SELECT request_fingerprint, status_code, response_body FROM idempotency_keys
             WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        let stored_fingerprint: String = row.try_get(0)?;
        let status: i32 = row.try_get(1)?;
        let body: String = row.try_get(2)?;
        if stored_fingerprint != fingerprint {
            return Ok(TransferOutcome {
                status: 422,
                body: json!({
                    "error": "Idempotency-Key was already used for a different transfer",
                }),
                replayed: false,
            });
        }
        let body = serde_json::from_str(&body)
            .map_err(|err| LedgerError::Query(format!("stored response is not JSON: {err}")))?;
        Ok(TransferOutcome {
            status: u16::try_from(status).unwrap_or(500),
            body,
            replayed: true,
        })
    }

    pub async fn close(&self) {
        self.audit_pool.close().await;
        self.pool.close().await;
    }
}

/// Counts a request in `fintech_active_transactions` while it waits for a connection and while
/// it holds one.
pub(super) struct ActiveGuard {
    metrics: Arc<Metrics>,
}

impl ActiveGuard {
    fn new(metrics: &Arc<Metrics>) -> Self {
        metrics
            .active_transactions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ActiveGuard {
            metrics: Arc::clone(metrics),
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.metrics
            .active_transactions
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

pub fn cents_to_amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// A database URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            redact("postgres://app:secret@127.0.0.1:5432/fincore"),
            "postgres://app:***@127.0.0.1:5432/fincore"
        );
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(
            redact("postgres://app@127.0.0.1/db"),
            "postgres://app@127.0.0.1/db"
        );
    }

    #[tokio::test]
    async fn transfers_move_money_and_refuse_overdrafts() {
        let ledger = Ledger::open(None, 2, Arc::new(Metrics::default()))
            .await
            .expect("temporary SQLite opens");
        let faults = DbFaults::default();
        let request = TransferRequest {
            amount_cents: 2_500,
            to_account: "ACC-002".to_string(),
        };
        let outcome = ledger
            .transfer(&request, None, faults)
            .await
            .expect("transfer");
        assert_eq!(outcome.status, 200);
        assert_eq!(ledger.balance(faults).await.expect("balance").0, 997_500);
        let too_much = TransferRequest {
            amount_cents: 5_000_000,
            to_account: "ACC-002".to_string(),
        };
        let refused = ledger
            .transfer(&too_much, None, faults)
            .await
            .expect("transfer");
        assert_eq!(refused.status, 422);
        assert_eq!(ledger.balance(faults).await.expect("balance").0, 997_500);
    }

    #[tokio::test]
    async fn an_idempotency_key_debits_once() {
        let ledger = Ledger::open(None, 2, Arc::new(Metrics::default()))
            .await
            .expect("temporary SQLite opens");
        let faults = DbFaults::default();
        let request = TransferRequest {
            amount_cents: 100,
            to_account: "ACC-003".to_string(),
        };
        let first = ledger
            .transfer(&request, Some("k1"), faults)
            .await
            .expect("first");
        let again = ledger
            .transfer(&request, Some("k1"), faults)
            .await
            .expect("again");
        assert!(again.replayed);
        assert_eq!(first.body, again.body);
        assert_eq!(ledger.balance(faults).await.expect("balance").0, 999_900);
        let other = TransferRequest {
            amount_cents: 200,
            to_account: "ACC-003".to_string(),
        };
        let conflict = ledger
            .transfer(&other, Some("k1"), faults)
            .await
            .expect("conflict");
        assert_eq!(conflict.status, 422);
    }

    #[tokio::test]
    async fn db_fail_makes_every_call_fail() {
        let ledger = Ledger::open(None, 1, Arc::new(Metrics::default()))
            .await
            .expect("temporary SQLite opens");
        let faults = DbFaults {
            slow: false,
            fail: true,
        };
        assert!(matches!(
            ledger.ping(faults).await,
            Err(LedgerError::Unavailable(_))
        ));
        assert!(ledger.balance(faults).await.is_err());
    }
}
