//! Which endpoints the load sends to, in what proportion: `balance=70,transfer=20,health=10`.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Balance,
    Transfer,
    /// A payment through the provider FinCore depends on (the sandbox's `/api/payments`).
    Payment,
    Health,
}

impl Endpoint {
    /// What one transfer moves: a cent, so a long run does not drain the source account.
    pub const TRANSFER_CENTS: u64 = 1;

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Balance => "balance",
            Endpoint::Transfer => "transfer",
            Endpoint::Payment => "payment",
            Endpoint::Health => "health",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Balance => "/api/balance",
            Endpoint::Transfer => "/api/transfer",
            Endpoint::Payment => "/api/payments",
            Endpoint::Health => "/health",
        }
    }

    /// The request for this endpoint. Transfers move one cent to one of a few accounts, so a
    /// long run does not drain the source account.
    pub fn request(self, http: &reqwest::Client, target: &str) -> reqwest::RequestBuilder {
        self.request_to(
            http,
            format!("{target}{}", self.path()),
            self.idempotency_key().as_deref(),
        )
    }

    /// The same, to a URL already made (a parsed URL is not parsed again per request), with
    /// the request's idempotency key: a retry of a payment sends the same one, as a careful
    /// client does, so the provider makes it once.
    pub fn request_to(
        self,
        http: &reqwest::Client,
        url: impl reqwest::IntoUrl,
        idempotency_key: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match self {
            Endpoint::Balance | Endpoint::Health => http.get(url),
            Endpoint::Transfer => http
                .post(url)
                .header("Content-Type", "application/json")
                .body(self.transfer_body()),
            Endpoint::Payment => http
                .post(url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", idempotency_key.unwrap_or_default())
                .body(self.transfer_body()),
        }
    }

    /// A new key for each payment (none for the other endpoints).
    pub fn idempotency_key(self) -> Option<String> {
        (self == Endpoint::Payment).then(|| format!("load-{:016x}", rand::random::<u64>()))
    }

    /// A transfer (or payment) of one cent to one of a few accounts, so a long run does not
    /// drain the source.
    pub fn transfer_body(self) -> String {
        let to = ["ACC-002", "ACC-003", "ACC-004"][rand::random_range(0..3)];
        let cents = Self::TRANSFER_CENTS;
        let field = if self == Endpoint::Payment {
            "account"
        } else {
            "to_account"
        };
        format!(
            r#"{{"amount": {}.{:02}, "{field}": "{to}"}}"#,
            cents / 100,
            cents % 100
        )
    }
}

/// Weights per endpoint; at least one is positive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<(Endpoint, u32)>,
}

impl Default for Mix {
    /// What the embedded default sends: mostly reads, some transfers, a few health checks.
    fn default() -> Self {
        Mix {
            weights: vec![
                (Endpoint::Balance, 70),
                (Endpoint::Transfer, 20),
                (Endpoint::Health, 10),
            ],
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expected = "expected endpoint=weight pairs such as balance=70,transfer=20,health=10 \
                        (endpoints: balance, transfer, payment, health)";
        let mut weights = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: {expected}"))?;
            let endpoint = match name.trim() {
                "balance" => Endpoint::Balance,
                "transfer" => Endpoint::Transfer,
                "payment" => Endpoint::Payment,
                "health" => Endpoint::Health,
                other => {
                    return Err(format!(
                        "`{other}` is not an endpoint: expected balance, transfer, payment or \
                         health"
                    ));
                }
            };
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("`{part}`: the weight must be a whole number; {expected}"))?;
            weights.push((endpoint, weight));
        }
        if weights.iter().all(|(_, weight)| *weight == 0) {
            return Err(format!("`{text}` sends nothing: {expected}"));
        }
        Ok(Mix { weights })
    }
}

impl Mix {
    /// Whether some of the load goes to `endpoint`.
    pub fn sends_to(&self, endpoint: Endpoint) -> bool {
        self.weights
            .iter()
            .any(|(to, weight)| *to == endpoint && *weight > 0)
    }

    pub fn picker(&self) -> MixPicker {
        MixPicker {
            weights: self.weights.clone(),
            credit: vec![0; self.weights.len()],
        }
    }
}

/// Picks endpoints in exact proportion (smooth weighted round robin), so short runs match the
/// mix too.
pub struct MixPicker {
    weights: Vec<(Endpoint, u32)>,
    credit: Vec<i64>,
}

impl MixPicker {
    pub fn next_endpoint(&mut self) -> Endpoint {
        let total: i64 = self.weights.iter().map(|(_, w)| i64::from(*w)).sum();
        let mut best = 0;
        for (index, (_, weight)) in self.weights.iter().enumerate() {
            self.credit[index] += i64::from(*weight);
            if self.credit[index] > self.credit[best] {
                best = index;
            }
        }
        self.credit[best] -= total;
        self.weights[best].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_in_exact_proportion() {
        let mix: Mix = "balance=70,transfer=20,health=10".parse().expect("valid");
        let mut picker = mix.picker();
        let picks: Vec<Endpoint> = (0..100).map(|_| picker.next_endpoint()).collect();
        let count = |e| picks.iter().filter(|p| **p == e).count();
        assert_eq!(count(Endpoint::Balance), 70);
        assert_eq!(count(Endpoint::Transfer), 20);
        assert_eq!(count(Endpoint::Health), 10);
    }

    #[test]
    fn payments_carry_a_key_of_their_own_and_the_body_the_sandbox_asks() {
        let mix: Mix = "payment=1".parse().expect("valid");
        assert!(mix.sends_to(Endpoint::Payment));
        let (a, b) = (
            Endpoint::Payment.idempotency_key().expect("a key"),
            Endpoint::Payment.idempotency_key().expect("a key"),
        );
        assert_ne!(a, b);
        assert_eq!(Endpoint::Balance.idempotency_key(), None);
        let body: serde_json::Value =
            serde_json::from_str(&Endpoint::Payment.transfer_body()).expect("JSON");
        assert_eq!(body["amount"], 0.01);
        assert!(
            body["account"]
                .as_str()
                .is_some_and(|a| a.starts_with("ACC-"))
        );
    }

    #[test]
    fn bad_mixes_say_what_is_expected() {
        for (text, expected) in [
            ("balance", "expected endpoint=weight"),
            ("login=5", "not an endpoint"),
            ("balance=x", "whole number"),
            ("balance=0", "sends nothing"),
        ] {
            let err = text.parse::<Mix>().expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
