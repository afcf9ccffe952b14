//! Payments and the provider's webhook events in the ledger's database. An event is recorded
//! and its money credited in one transaction, and the event id is the primary key of
//! `webhook_events`: a second delivery, even at the same moment, cannot insert it again, so it
//! cannot credit again. `credits` keeps one row per credit, without that key, so that
//! [`Ledger::double_credits`] checks the rule from the money's side.

use sqlx::Row;

use super::ledger::{Backend, DbFaults, Ledger, LedgerError};

/// The tables, after the ledger's own; `id_column` is the backend's auto-increment key.
pub fn schema(id_column: &str) -> Vec<String> {
    vec![
        "CREATE TABLE IF NOT EXISTS payments (
            id VARCHAR(64) PRIMARY KEY,
            idempotency_key VARCHAR(255) UNIQUE,
            amount_cents BIGINT NOT NULL,
            account VARCHAR(20) NOT NULL,
            status VARCHAR(16) NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            updated_at VARCHAR(32) NOT NULL
        )"
        .to_string(),
        "CREATE TABLE IF NOT EXISTS webhook_events (
            event_id VARCHAR(64) PRIMARY KEY,
            payment_id VARCHAR(64) NOT NULL,
            status VARCHAR(16) NOT NULL,
            amount_cents BIGINT NOT NULL,
            account VARCHAR(20) NOT NULL,
            received_at VARCHAR(32) NOT NULL
        )"
        .to_string(),
        format!(
            "CREATE TABLE IF NOT EXISTS credits (
                {id_column},
                event_id VARCHAR(64) NOT NULL,
                account VARCHAR(20) NOT NULL,
                amount_cents BIGINT NOT NULL,
                created_at VARCHAR(32) NOT NULL
            )"
        ),
        "CREATE INDEX IF NOT EXISTS credits_by_event ON credits (event_id)".to_string(),
    ]
}

/// A payment as FinCore knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayment {
    pub id: String,
    pub status: String,
    pub amount_cents: i64,
    pub account: String,
}

/// A verified webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub event_id: String,
    pub payment_id: String,
    /// `succeeded` or `failed`.
    pub status: String,
    pub amount_cents: i64,
    pub account: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Processed,
    /// The event id was already recorded: nothing done.
    Duplicate,
}

fn now() -> String {
    super::iso_timestamp(chrono::Utc::now())
}

impl Ledger {
    /// The payment made with `key`, if any.
    pub async fn payment_by_key(&self, key: &str) -> Result<Option<StoredPayment>, LedgerError> {
        let row = sqlx::query(&super::ledger_fallback::select_payment("idempotency_key"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(read_payment).transpose()
    }

    pub async fn payment(&self, id: &str) -> Result<Option<StoredPayment>, LedgerError> {
        let row = sqlx::query(&super::ledger_fallback::select_payment("id"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(read_payment).transpose()
    }

    /// Records a payment the provider accepted, as pending; if its webhook came first, the
    /// payment keeps the webhook's status. Returns the payment as stored.
    pub async fn record_payment(
        &self,
        id: &str,
        key: &str,
        amount_cents: i64,
        account: &str,
        faults: DbFaults,
    ) -> Result<StoredPayment, LedgerError> {
        let (mut tx, _active) = self.begin(faults).await?;
        let _writer = self.writer().await;
        let at = now();
        let row = sqlx::query(
            "INSERT INTO payments (id, idempotency_key, amount_cents, account, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $5)
             ON CONFLICT (id) DO UPDATE SET idempotency_key = excluded.idempotency_key
             RETURNING id, status, amount_cents, account",
        )
        .bind(id)
        .bind(key)
        .bind(amount_cents)
        .bind(account)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        let payment = read_payment(row)?;
        tx.commit().await?;
        Ok(payment)
    }

    /// Records `event` and, if it reports a success, credits its account, all in one
    /// transaction; an event id already recorded changes nothing.
    pub async fn apply_event(
        &self,
        event: &WebhookEvent,
        faults: DbFaults,
    ) -> Result<EventOutcome, LedgerError> {
        let (mut tx, _active) = self.begin(faults).await?;
        let _writer = self.writer().await;
        let at = now();
        let recorded = sqlx::query(
            "INSERT INTO webhook_events (event_id, payment_id, status, amount_cents, account, received_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&event.event_id)
        .bind(&event.payment_id)
        .bind(&event.status)
        .bind(event.amount_cents)
        .bind(&event.account)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(EventOutcome::Duplicate);
        }
        if event.status == "succeeded" {
            sqlx::query(
                "INSERT INTO accounts (account_number, balance_cents, currency) VALUES ($1, $2, 'USD')
                 ON CONFLICT (account_number) DO UPDATE
                 SET balance_cents = accounts.balance_cents + excluded.balance_cents",
            )
            .bind(&event.account)
            .bind(event.amount_cents)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO credits (event_id, account, amount_cents, created_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&event.event_id)
            .bind(&event.account)
            .bind(event.amount_cents)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO payments (id, idempotency_key, amount_cents, account, status, created_at, updated_at)
             VALUES ($1, NULL, $2, $3, $4, $5, $5)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(&event.payment_id)
        .bind(event.amount_cents)
        .bind(&event.account)
        .bind(&event.status)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(EventOutcome::Processed)
    }

    /// Event ids credited more than once: 0 unless the rule above is broken.
    pub async fn double_credits(&self) -> Result<i64, LedgerError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT event_id FROM credits GROUP BY event_id
             HAVING COUNT(*) > 1) AS doubled",
        )
        .fetch_one(&self.audit_pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// SQLite's one writer, queued here (see `sqlite_writer`); nothing on PostgreSQL.
    pub(super) async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend() {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        }
    }
}

use super::ledger_fallback::read_payment;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sandbox::metrics::Metrics;

    fn event(id: &str, status: &str) -> WebhookEvent {
        WebhookEvent {
            event_id: id.to_string(),
            payment_id: format!("pay_{id}"),
            status: status.to_string(),
            amount_cents: 250,
            account: "ACC-009".to_string(),
        }
    }

    #[tokio::test]
    async fn an_event_credits_once_and_a_failed_one_never() {
        let ledger = Ledger::open(None, 2, Arc::new(Metrics::default()))
            .await
            .expect("temporary SQLite opens");
        let faults = DbFaults::default();
        let first = event("e1", "succeeded");
        assert_eq!(
            ledger.apply_event(&first, faults).await.expect("first"),
            EventOutcome::Processed
        );
        assert_eq!(
            ledger.apply_event(&first, faults).await.expect("again"),
            EventOutcome::Duplicate
        );
        let failed = event("e2", "failed");
        ledger.apply_event(&failed, faults).await.expect("failed");
        assert_eq!(ledger.double_credits().await.expect("check"), 0);
        let payment = ledger.payment("pay_e1").await.expect("read").expect("row");
        assert_eq!(payment.status, "succeeded");
        let pending = ledger
            .record_payment("pay_e1", "k1", 250, "ACC-009", faults)
            .await
            .expect("record");
        assert_eq!(pending.status, "succeeded", "the webhook's status is kept");
        let declined = ledger.payment("pay_e2").await.expect("read").expect("row");
        assert_eq!(declined.status, "failed");
    }
}
