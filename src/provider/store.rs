//! The provider's payments, in memory: by id, and by idempotency key so that a repeated
//! request gets the same payment instead of a second one.

use std::collections::HashMap;

use serde_json::{Value, json};

/// The most payments one provider keeps; beyond, new ones are refused (a drill makes far
/// fewer, and the memory stays bounded).
pub const MAX_PAYMENTS: usize = 500_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Processing,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    pub fn name(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Payment {
    pub id: String,
    pub amount_cents: i64,
    pub account: String,
    pub status: PaymentStatus,
}

impl Payment {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status.name(),
            "amount": self.amount_cents as f64 / 100.0,
            "account": self.account,
        })
    }
}

/// What a create request got.
#[derive(Debug)]
pub enum Created {
    New(Payment),
    /// The key was seen with the same amount and account: the first payment.
    Replayed(Payment),
    /// The key was seen with another amount or account.
    KeyReused,
    Full,
}

#[derive(Debug, Default)]
pub struct PaymentStore {
    payments: HashMap<String, Payment>,
    by_key: HashMap<String, String>,
}

impl PaymentStore {
    pub fn create(&mut self, key: Option<&str>, amount_cents: i64, account: &str) -> Created {
        if let Some(existing) = key
            .and_then(|key| self.by_key.get(key))
            .and_then(|id| self.payments.get(id))
        {
            return if existing.amount_cents == amount_cents && existing.account == account {
                Created::Replayed(existing.clone())
            } else {
                Created::KeyReused
            };
        }
        if self.payments.len() >= MAX_PAYMENTS {
            return Created::Full;
        }
        let bits: u64 = rand::random();
        let payment = Payment {
            id: format!("pay_{bits:016x}"),
            amount_cents,
            account: account.to_string(),
            status: PaymentStatus::Processing,
        };
        if let Some(key) = key {
            self.by_key.insert(key.to_string(), payment.id.clone());
        }
        self.payments.insert(payment.id.clone(), payment.clone());
        Created::New(payment)
    }

    pub fn get(&self, id: &str) -> Option<&Payment> {
        self.payments.get(id)
    }

    /// Settles a payment with the status `decide` gives its amount; returns it as settled.
    pub fn settle(
        &mut self,
        id: &str,
        decide: impl FnOnce(i64) -> PaymentStatus,
    ) -> Option<Payment> {
        let payment = self.payments.get_mut(id)?;
        payment.status = decide(payment.amount_cents);
        Some(payment.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_makes_one_payment() {
        let mut store = PaymentStore::default();
        let Created::New(first) = store.create(Some("k"), 100, "ACC-1") else {
            panic!("new")
        };
        let Created::Replayed(again) = store.create(Some("k"), 100, "ACC-1") else {
            panic!("replayed")
        };
        assert_eq!(first.id, again.id);
        assert!(matches!(
            store.create(Some("k"), 200, "ACC-1"),
            Created::KeyReused
        ));
        let Created::New(other) = store.create(None, 100, "ACC-1") else {
            panic!("new")
        };
        assert_ne!(other.id, first.id);
        assert_eq!(
            store
                .settle(&first.id, |_| PaymentStatus::Succeeded)
                .map(|p| p.status),
            Some(PaymentStatus::Succeeded)
        );
    }
}
