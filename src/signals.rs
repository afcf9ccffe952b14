//! One vocabulary for every source: the named signals that panels, alerts and cases talk about,
//! and their timestamped samples. Imports nothing of the rest of the crate.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A named signal. Each source knows how to produce some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Latency quantiles in seconds.
    LatencyP50,
    LatencyP95,
    LatencyP99,
    /// Requests per second, every endpoint and status.
    Rps,
    /// Share of requests answered 5xx, 0..=1.
    ErrorRatio,
    /// Requests holding a database transaction.
    ActiveTransactions,
    /// Database pool connections in use and idle.
    PoolInUse,
    PoolIdle,
    /// Requests waiting for a free worker.
    QueuedRequests,
    /// Memory in use by the application (container or process), and its limit.
    MemoryBytes,
    MemoryLimitBytes,
    /// Times the application was restarted (container restarts, or sandbox restarts).
    Restarts,
    /// CPU in use, in cores.
    CpuCores,
    /// 1 when the API answers its health check, 0 when it does not.
    Up,
    /// p95 latency and error ratio over 5 minutes: what the workshop's HighLatency and
    /// HighErrorRate rules compare, so local rules mean what the workshop's mean.
    LatencyP95Over5m,
    ErrorRatioOver5m,
    /// `/api/balance` alone: its p95 latency (s) and its 5xx share. In a cascade the payment
    /// path is expected to fail; what must stay healthy is everything else.
    BalanceLatencyP95,
    BalanceErrorRatio,
    /// The payment provider: 1 when it answered its last health probe, 0 when not.
    UpstreamUp,
    /// Calls to the provider: p95 latency (s), calls per second, share not `success`.
    UpstreamLatencyP95,
    UpstreamRps,
    UpstreamErrorRatio,
    /// The circuit breaker around the provider: 0 closed, 1 half-open, 2 open.
    BreakerState,
    /// Provider calls in flight now (the bulkhead's count, kept whether or not it limits).
    BulkheadInUse,
    /// Retries of provider calls per second.
    RetriesRate,
    /// Payments failed or errored among those asked, 0..=1.
    PaymentsFailedRatio,
    /// Payments waiting for their outcome (pending and fallback-pending, not yet settled).
    PaymentsPending,
    /// Payments accepted pending while the provider could not be reached and created there
    /// once it could: a total since the target started, as its counter reads.
    PaymentsCompletedLate,
    /// Provider webhooks refused for their signature, and duplicates, per second.
    WebhooksRejectedRate,
    WebhooksDuplicateRate,
    /// Webhook events credited more than once: must stay 0.
    DoubleCredits,
    /// What the dependency alert rules compare: the breaker's highest state over 1 minute,
    /// webhooks refused over 5 minutes (a count), payments failed over 5 minutes (a ratio).
    BreakerStateMax1m,
    WebhooksRejected5m,
    PaymentsFailedRatioOver5m,
}

impl Signal {
    pub const ALL: [Signal; 34] = [
        Signal::LatencyP50,
        Signal::LatencyP95,
        Signal::LatencyP99,
        Signal::Rps,
        Signal::ErrorRatio,
        Signal::ActiveTransactions,
        Signal::PoolInUse,
        Signal::PoolIdle,
        Signal::QueuedRequests,
        Signal::MemoryBytes,
        Signal::MemoryLimitBytes,
        Signal::Restarts,
        Signal::CpuCores,
        Signal::Up,
        Signal::LatencyP95Over5m,
        Signal::ErrorRatioOver5m,
        Signal::BalanceLatencyP95,
        Signal::BalanceErrorRatio,
        Signal::UpstreamUp,
        Signal::UpstreamLatencyP95,
        Signal::UpstreamRps,
        Signal::UpstreamErrorRatio,
        Signal::BreakerState,
        Signal::BulkheadInUse,
        Signal::RetriesRate,
        Signal::PaymentsFailedRatio,
        Signal::PaymentsPending,
        Signal::PaymentsCompletedLate,
        Signal::WebhooksRejectedRate,
        Signal::WebhooksDuplicateRate,
        Signal::DoubleCredits,
        Signal::BreakerStateMax1m,
        Signal::WebhooksRejected5m,
        Signal::PaymentsFailedRatioOver5m,
    ];

    /// The signals only a target with a payment provider gives, declared last (from
    /// `UpstreamUp` on): any of them with a value means there is one. (`/api/balance`'s own
    /// latency and errors are any target's.)
    pub const PROVIDER: &'static [Signal] = Signal::ALL.split_at(Signal::UpstreamUp as usize).1;

    /// The name cases and configuration use.
    pub fn name(self) -> &'static str {
        match self {
            Signal::LatencyP50 => "latency_p50",
            Signal::LatencyP95 => "latency_p95",
            Signal::LatencyP99 => "latency_p99",
            Signal::Rps => "rps",
            Signal::ErrorRatio => "error_ratio",
            Signal::ActiveTransactions => "active_transactions",
            Signal::PoolInUse => "pool_in_use",
            Signal::PoolIdle => "pool_idle",
            Signal::QueuedRequests => "queued_requests",
            Signal::MemoryBytes => "memory_bytes",
            Signal::MemoryLimitBytes => "memory_limit_bytes",
            Signal::Restarts => "restarts",
            Signal::CpuCores => "cpu_cores",
            Signal::Up => "up",
            Signal::LatencyP95Over5m => "latency_p95_5m",
            Signal::ErrorRatioOver5m => "error_ratio_5m",
            Signal::BalanceLatencyP95 => "balance_latency_p95",
            Signal::BalanceErrorRatio => "balance_error_ratio",
            Signal::UpstreamUp => "upstream_up",
            Signal::UpstreamLatencyP95 => "upstream_latency_p95",
            Signal::UpstreamRps => "upstream_rps",
            Signal::UpstreamErrorRatio => "upstream_error_ratio",
            Signal::BreakerState => "breaker_state",
            Signal::BulkheadInUse => "bulkhead_in_use",
            Signal::RetriesRate => "retries_rate",
            Signal::PaymentsFailedRatio => "payments_failed_ratio",
            Signal::PaymentsPending => "payments_pending",
            Signal::PaymentsCompletedLate => "payments_completed_late",
            Signal::WebhooksRejectedRate => "webhooks_rejected_rate",
            Signal::WebhooksDuplicateRate => "webhooks_duplicate_rate",
            Signal::DoubleCredits => "double_credits",
            Signal::BreakerStateMax1m => "breaker_state_max_1m",
            Signal::WebhooksRejected5m => "webhooks_rejected_5m",
            Signal::PaymentsFailedRatioOver5m => "payments_failed_ratio_5m",
        }
    }

    pub fn from_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|signal| signal.name() == name)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Seconds since the Unix epoch, as a float: what charts plot and records store.
pub type UnixSeconds = f64;

pub fn now_unix() -> UnixSeconds {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One value of a signal at the time the source observed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: UnixSeconds,
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for signal in Signal::ALL {
            assert_eq!(Signal::from_name(signal.name()), Some(signal));
        }
        assert_eq!(Signal::from_name("nope"), None);
    }

    #[test]
    fn all_is_in_declaration_order_and_the_provider_signals_are_its_tail() {
        for (index, signal) in Signal::ALL.into_iter().enumerate() {
            assert_eq!(signal as usize, index, "{signal}");
        }
        assert_eq!(Signal::PROVIDER.first(), Some(&Signal::UpstreamUp));
        assert_eq!(Signal::PROVIDER.len(), 16);
        assert!(!Signal::PROVIDER.contains(&Signal::BalanceLatencyP95));
    }
}
