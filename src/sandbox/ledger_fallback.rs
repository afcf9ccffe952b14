//! Payments the fallback accepted while the provider could not be reached. Such a payment has
//! FinCore's own id (`fb_…`) in `payments`, pending, with its idempotency key; a row here
//! remembers that it still has to be created at the provider, and, once it is, the provider's
//! id. Its status is then read through that id (the provider's webhook settles the provider's
//! payment as for any other), so the order in which the webhook and the link arrive does not
//! matter, and the credit is the webhook's: once per event id.

use sqlx::Row;

use super::ledger::{DbFaults, Ledger, LedgerError};
use super::ledger_payments::StoredPayment;

/// The prefix of the ids the fallback gives; the provider's start with `pay_`.
pub const FALLBACK_ID_PREFIX: &str = "fb_";

pub fn schema() -> Vec<String> {
    vec![
        "CREATE TABLE IF NOT EXISTS fallback_payments (
            payment_id VARCHAR(64) PRIMARY KEY,
            provider_id VARCHAR(64) UNIQUE,
            state VARCHAR(16) NOT NULL,
            accepted_at VARCHAR(32) NOT NULL,
            resolved_at VARCHAR(32)
        )"
        .to_string(),
    ]
}

/// A payment's row with its status read through the provider's payment when the fallback
/// created one: `$1` is the column compared.
pub fn select_payment(column: &str) -> String {
    format!(
        "SELECT p.id, COALESCE(q.status, p.status), p.amount_cents, p.account
         FROM payments p
         LEFT JOIN fallback_payments f ON f.payment_id = p.id
         LEFT JOIN payments q ON q.id = f.provider_id
         WHERE p.{column} = $1"
    )
}

/// A fallback payment still to be created at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPayment {
    pub id: String,
    pub idempotency_key: String,
    pub amount_cents: i64,
    pub account: String,
}

fn now() -> String {
    super::iso_timestamp(chrono::Utc::now())
}

/// A new fallback id: 16 random hex digits after the prefix.
pub fn new_fallback_id() -> String {
    format!("{FALLBACK_ID_PREFIX}{:016x}", rand::random::<u64>())
}

impl Ledger {
    /// Stores a payment accepted as pending without the provider. If its key was stored at the
    /// same moment by another request, that payment is returned and nothing is added.
    pub async fn accept_fallback(
        &self,
        key: &str,
        amount_cents: i64,
        account: &str,
        faults: DbFaults,
    ) -> Result<StoredPayment, LedgerError> {
        let id = new_fallback_id();
        let (mut tx, _active) = self.begin(faults).await?;
        let _writer = self.writer().await;
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO payments (id, idempotency_key, amount_cents, account, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $5)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(key)
        .bind(amount_cents)
        .bind(account)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO fallback_payments (payment_id, provider_id, state, accepted_at)
                 VALUES ($1, NULL, 'waiting', $2)",
            )
            .bind(&id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query(&select_payment("idempotency_key"))
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        let payment = read_payment(row)?;
        tx.commit().await?;
        Ok(payment)
    }

    /// Whether `id` is a fallback payment not yet created at the provider.
    pub async fn is_waiting_fallback(&self, id: &str) -> Result<bool, LedgerError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM fallback_payments WHERE payment_id = $1 AND state = 'waiting'",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// The oldest `limit` fallback payments still to be created at the provider.
    pub async fn waiting_fallbacks(&self, limit: i64) -> Result<Vec<WaitingPayment>, LedgerError> {
        let rows = sqlx::query(
            "SELECT p.id, p.idempotency_key, p.amount_cents, p.account
             FROM fallback_payments f JOIN payments p ON p.id = f.payment_id
             WHERE f.state = 'waiting' ORDER BY f.accepted_at, f.payment_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(WaitingPayment {
                    id: row.try_get(0)?,
                    idempotency_key: row.try_get(1)?,
                    amount_cents: row.try_get(2)?,
                    account: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Links a fallback payment to the payment the provider created for it (pending until its
    /// webhook, unless the webhook came first). Returns whether this call linked it: `false`
    /// when it was already resolved.
    pub async fn link_fallback(
        &self,
        waiting: &WaitingPayment,
        provider_id: &str,
    ) -> Result<bool, LedgerError> {
        let (mut tx, _active) = self.begin(DbFaults::default()).await?;
        let _writer = self.writer().await;
        let at = now();
        let linked = sqlx::query(
            "UPDATE fallback_payments SET provider_id = $1, state = 'created', resolved_at = $2
             WHERE payment_id = $3 AND state = 'waiting'",
        )
        .bind(provider_id)
        .bind(&at)
        .bind(&waiting.id)
        .execute(&mut *tx)
        .await?;
        if linked.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO payments (id, idempotency_key, amount_cents, account, status, created_at, updated_at)
             VALUES ($1, NULL, $2, $3, 'pending', $4, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(provider_id)
        .bind(waiting.amount_cents)
        .bind(&waiting.account)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a fallback payment the provider refused (a 4xx: it will never be created) failed.
    pub async fn refuse_fallback(&self, id: &str) -> Result<bool, LedgerError> {
        let (mut tx, _active) = self.begin(DbFaults::default()).await?;
        let _writer = self.writer().await;
        let at = now();
        let refused = sqlx::query(
            "UPDATE fallback_payments SET state = 'refused', resolved_at = $1
             WHERE payment_id = $2 AND state = 'waiting'",
        )
        .bind(&at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE payments SET status = 'failed', updated_at = $1 WHERE id = $2")
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(refused.rows_affected() == 1)
    }
}

pub fn read_payment(row: sqlx::any::AnyRow) -> Result<StoredPayment, LedgerError> {
    Ok(StoredPayment {
        id: row.try_get(0)?,
        status: row.try_get(1)?,
        amount_cents: row.try_get(2)?,
        account: row.try_get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sandbox::ledger_payments::WebhookEvent;
    use crate::sandbox::metrics::Metrics;

    #[tokio::test]
    async fn a_fallback_payment_reads_its_providers_status_whichever_comes_first() {
        let ledger = Ledger::open(None, 2, Arc::new(Metrics::default()))
            .await
            .expect("temporary SQLite opens");
        let faults = DbFaults::default();
        let first = ledger
            .accept_fallback("k1", 250, "ACC-001", faults)
            .await
            .expect("accepted");
        assert!(first.id.starts_with(FALLBACK_ID_PREFIX), "{first:?}");
        assert_eq!(first.status, "pending");
        let again = ledger
            .accept_fallback("k1", 250, "ACC-001", faults)
            .await
            .expect("the same key");
        assert_eq!(again.id, first.id, "one payment per key");
        let waiting = ledger.waiting_fallbacks(10).await.expect("read");
        assert_eq!(waiting.len(), 1);
        assert!(ledger.is_waiting_fallback(&first.id).await.expect("read"));

        // The webhook first, the link after: the payment reads the webhook's status.
        let event = WebhookEvent {
            event_id: "evt_1".into(),
            payment_id: "pay_1".into(),
            status: "succeeded".into(),
            amount_cents: 250,
            account: "ACC-001".into(),
        };
        ledger.apply_event(&event, faults).await.expect("event");
        assert!(
            ledger
                .link_fallback(&waiting[0], "pay_1")
                .await
                .expect("link")
        );
        assert!(
            !ledger
                .link_fallback(&waiting[0], "pay_1")
                .await
                .expect("once")
        );
        let read = ledger.payment(&first.id).await.expect("read").expect("row");
        assert_eq!(read.status, "succeeded");
        assert!(ledger.waiting_fallbacks(10).await.expect("read").is_empty());

        // The link first, the webhook after.
        let second = ledger
            .accept_fallback("k2", 100, "ACC-001", faults)
            .await
            .expect("accepted");
        let waiting = ledger.waiting_fallbacks(10).await.expect("read");
        assert!(
            ledger
                .link_fallback(&waiting[0], "pay_2")
                .await
                .expect("link")
        );
        let read = ledger
            .payment(&second.id)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(read.status, "pending");
        let event = WebhookEvent {
            event_id: "evt_2".into(),
            payment_id: "pay_2".into(),
            ..event
        };
        ledger.apply_event(&event, faults).await.expect("event");
        let read = ledger
            .payment_by_key("k2")
            .await
            .expect("read")
            .expect("row");
        assert_eq!(
            (read.id.as_str(), read.status.as_str()),
            (second.id.as_str(), "succeeded")
        );

        // Refused by the provider: failed, never waiting again.
        let third = ledger
            .accept_fallback("k3", 100, "ACC-001", faults)
            .await
            .expect("accepted");
        assert!(ledger.refuse_fallback(&third.id).await.expect("refuse"));
        let read = ledger.payment(&third.id).await.expect("read").expect("row");
        assert_eq!(read.status, "failed");
        assert!(ledger.waiting_fallbacks(10).await.expect("read").is_empty());
        assert_eq!(ledger.double_credits().await.expect("check"), 0);
    }
}
