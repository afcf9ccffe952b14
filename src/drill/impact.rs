//! What the fault cost, in a business's terms: the review's "business impact". Two views of
//! the same window, from the injection to recovery (or to the drill's end):
//! - the built-in load's clients, counted exactly: requests that failed or took over 2 s, and
//!   the transfers that failed with the money they did not move;
//! - the target's own metrics, every client included: its request rate and error ratio
//!   integrated over the window, so a drill against traffic we do not send still has a figure.

use serde::{Deserialize, Serialize};

use super::series::DrillSeries;
use super::state::DrillState;
use crate::i18n::{Lang, Strings};
use crate::signals::{Signal, UnixSeconds};

/// A gap between two samples longer than this is a stop (a killed dashboard), not traffic.
const MAX_GAP_S: f64 = 30.0;

/// The load's cumulative counters at one moment (see `load::UserOutcomes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCounts {
    pub requests: u64,
    pub failed: u64,
    pub slow: u64,
    pub transfers: u64,
    pub transfers_failed: u64,
    pub transfer_cents_failed: u64,
    /// Payments asked, failed, accepted as pending, and the money of the failed and pending
    /// (absent in records before payments).
    #[serde(default)]
    pub payments: u64,
    #[serde(default)]
    pub payments_failed: u64,
    #[serde(default)]
    pub payments_pending: u64,
    #[serde(default)]
    pub payment_cents_at_risk: u64,
}

impl ClientCounts {
    fn since(self, earlier: ClientCounts) -> ClientCounts {
        ClientCounts {
            requests: self.requests.saturating_sub(earlier.requests),
            failed: self.failed.saturating_sub(earlier.failed),
            slow: self.slow.saturating_sub(earlier.slow),
            transfers: self.transfers.saturating_sub(earlier.transfers),
            transfers_failed: self
                .transfers_failed
                .saturating_sub(earlier.transfers_failed),
            transfer_cents_failed: self
                .transfer_cents_failed
                .saturating_sub(earlier.transfer_cents_failed),
            payments: self.payments.saturating_sub(earlier.payments),
            payments_failed: self.payments_failed.saturating_sub(earlier.payments_failed),
            payments_pending: self
                .payments_pending
                .saturating_sub(earlier.payments_pending),
            payment_cents_at_risk: self
                .payment_cents_at_risk
                .saturating_sub(earlier.payment_cents_at_risk),
        }
    }

    fn plus(self, other: ClientCounts) -> ClientCounts {
        ClientCounts {
            requests: self.requests + other.requests,
            failed: self.failed + other.failed,
            slow: self.slow + other.slow,
            transfers: self.transfers + other.transfers,
            transfers_failed: self.transfers_failed + other.transfers_failed,
            transfer_cents_failed: self.transfer_cents_failed + other.transfer_cents_failed,
            payments: self.payments + other.payments,
            payments_failed: self.payments_failed + other.payments_failed,
            payments_pending: self.payments_pending + other.payments_pending,
            payment_cents_at_risk: self.payment_cents_at_risk + other.payment_cents_at_risk,
        }
    }
}

/// The load's counters as the drill saw them while the fault was on. Kept in the drill's
/// state, so a resumed drill, whose new load counts from zero, adds to what was counted.
///
/// Recovery is dated to the start of the hold that completed, which is known only when the
/// hold ends: the last observations are kept for as long as a hold lasts, so the count can end
/// where recovery began.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientTally {
    first: Option<ClientCounts>,
    /// The latest observations, oldest first, covering at least the recovery hold.
    recent: Vec<(UnixSeconds, ClientCounts)>,
    /// What earlier runs of the load counted before it started over.
    carried: ClientCounts,
}

impl ClientTally {
    /// `now` at `at`; observations older than `keep_s` before it are let go.
    pub fn observe(&mut self, at: UnixSeconds, now: ClientCounts, keep_s: f64) {
        match (self.first, self.recent.last()) {
            (Some(first), Some((_, last))) if now.requests < last.requests => {
                // The load started over (a resume, a new load): keep what the old one counted.
                self.carried = self.carried.plus(last.since(first));
                self.first = Some(now);
                self.recent.clear();
            }
            (None, _) => self.first = Some(now),
            _ => {}
        }
        self.recent.push((at, now));
        let oldest_kept = self
            .recent
            .iter()
            .rposition(|(seen, _)| *seen <= at - keep_s)
            .unwrap_or(0);
        self.recent.drain(..oldest_kept);
    }

    /// Counted from the first observation to the last one at or before `until` (or the last).
    pub fn counted(&self, until: Option<UnixSeconds>) -> Option<ClientCounts> {
        let first = self.first?;
        let (_, last) = self
            .recent
            .iter()
            .rev()
            .find(|(seen, _)| until.is_none_or(|until| *seen <= until))
            .or_else(|| self.recent.first())?;
        Some(self.carried.plus(last.since(first)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// Seconds from the injection to recovery, or to the drill's end without one.
    pub window_s: f64,
    /// Whether the window ends at recovery.
    pub recovered: bool,
    /// The built-in load's clients; `None` when it sent nothing during the fault.
    pub clients: Option<ClientCounts>,
    /// Requests the target answered and of them failed over the window, from its request rate
    /// and error ratio; `None` without those signals.
    pub target_requests: Option<f64>,
    pub target_failed: Option<f64>,
    /// Webhook events credited twice, the most seen from the injection on (must be 0), and
    /// payments still awaiting their outcome at the window's end; `None` where the target
    /// has no payments (absent in older records).
    #[serde(default)]
    pub double_credits: Option<f64>,
    #[serde(default)]
    pub payments_pending_at_end: Option<f64>,
    /// Payments the fallback accepted pending and the provider created later, from the
    /// injection to the drill's last sample: a late completion comes after the fault by
    /// nature, often after recovery. `None` where the target does not count them.
    #[serde(default)]
    pub payments_completed_late: Option<f64>,
    /// Calls FinCore made (or tried) to its provider per payment our load asked for, over the
    /// window: above 1 when retries multiply them (the amplification of a retry storm).
    /// `None` without a provider or without payments.
    #[serde(default)]
    pub provider_calls_per_payment: Option<f64>,
}

/// One line of the impact in words: label, value, and whether it counts a loss.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactRow {
    pub label: String,
    pub value: String,
    pub loss: bool,
}

impl Impact {
    /// `business impact (fault to recovery, 34 s)`.
    pub fn heading(&self, text: &Strings, lang: Lang) -> String {
        let until = if self.recovered {
            text.impact_until_recovery
        } else {
            text.impact_until_end
        };
        format!(
            "{} ({until}, {})",
            text.impact,
            super::signal_words::duration_words(self.window_s, lang)
        )
    }

    /// The impact in words, as the review and the report show it; empty when nothing counted.
    pub fn rows(&self, text: &Strings) -> Vec<ImpactRow> {
        let mut rows = Vec::new();
        if let Some(clients) = self.clients {
            let share = clients.failed as f64 * 100.0 / clients.requests.max(1) as f64;
            rows.push(ImpactRow {
                label: text.impact_requests.to_string(),
                value: format!(
                    "{} · {} {} ({share:.0} %) · {} {}",
                    clients.requests,
                    text.impact_failed,
                    clients.failed,
                    text.impact_slow,
                    clients.slow
                ),
                loss: clients.failed + clients.slow > 0,
            });
            if clients.transfers > 0 {
                rows.push(ImpactRow {
                    label: text.impact_transfers.to_string(),
                    value: format!(
                        "{} · {} {} · {} {}.{:02}",
                        clients.transfers,
                        text.impact_failed,
                        clients.transfers_failed,
                        text.impact_not_moved,
                        clients.transfer_cents_failed / 100,
                        clients.transfer_cents_failed % 100
                    ),
                    loss: clients.transfers_failed > 0,
                });
            }
        }
        if let Some(clients) = self.clients.filter(|c| c.payments > 0) {
            rows.push(ImpactRow {
                label: text.impact_payments.to_string(),
                value: format!(
                    "{} · {} {} · {} {} · {} {}.{:02}",
                    clients.payments,
                    text.impact_failed,
                    clients.payments_failed,
                    text.impact_pending,
                    clients.payments_pending,
                    text.impact_at_risk,
                    clients.payment_cents_at_risk / 100,
                    clients.payment_cents_at_risk % 100
                ),
                loss: clients.payments_failed + clients.payments_pending > 0,
            });
        }
        if let Some(doubled) = self.double_credits {
            let pending = self
                .payments_pending_at_end
                .map(|pending| format!(" · {} {pending:.0}", text.impact_still_pending))
                .unwrap_or_default();
            rows.push(ImpactRow {
                label: text.impact_double_credits.to_string(),
                value: format!("{doubled:.0}{pending}"),
                loss: doubled >= 0.5,
            });
        }
        if let Some(calls) = self.provider_calls_per_payment {
            rows.push(ImpactRow {
                label: text.impact_calls_per_payment.to_string(),
                value: format!("≈ {calls:.1}"),
                // More than one call per payment is the retries' multiplication.
                loss: calls >= 1.2,
            });
        }
        if let Some(late) = self.payments_completed_late {
            rows.push(ImpactRow {
                label: text.impact_completed_late.to_string(),
                value: format!("{late:.0} ({})", text.impact_by_drill_end),
                // Completed, but late: a cost the client felt, not money lost.
                loss: late >= 0.5,
            });
        }
        if let (Some(requests), Some(failed)) = (self.target_requests, self.target_failed) {
            rows.push(ImpactRow {
                label: text.impact_target.to_string(),
                value: format!("≈ {requests:.0} · {} ≈ {failed:.0}", text.impact_failed),
                loss: failed >= 0.5,
            });
        }
        rows
    }
}

/// The impact of the fault so far; `None` before the injection.
pub fn impact(state: &DrillState) -> Option<Impact> {
    let from = state.injected_at?;
    let to = state.recovered_at.unwrap_or(state.last_at).max(from);
    let clients = state
        .clients
        .counted(state.recovered_at)
        .filter(|c| c.requests > 0);
    let (target_requests, target_failed) = match target_counts(&state.series, from, to) {
        Some((requests, failed)) => (Some(requests), Some(failed)),
        None => (None, None),
    };
    let in_window = |signal: Signal| -> Vec<f64> {
        let Some(origin) = state.series.origin_at else {
            return Vec::new();
        };
        state
            .series
            .get(signal)
            .map(|series| {
                series
                    .points(origin)
                    .filter(|(at, _)| *at >= from && *at <= to)
                    .map(|(_, value)| value)
                    .collect()
            })
            .unwrap_or_default()
    };
    let double_credits = in_window(Signal::DoubleCredits)
        .into_iter()
        .reduce(f64::max);
    let payments_pending_at_end = in_window(Signal::PaymentsPending).last().copied();
    let provider_calls_per_payment =
        clients
            .filter(|clients| clients.payments > 0)
            .and_then(|clients| {
                let (calls, _) = integrate(&state.series, Signal::UpstreamRps, None, from, to)?;
                Some(calls / clients.payments as f64)
            });
    let payments_completed_late =
        counter_increase(&state.series, Signal::PaymentsCompletedLate, from);
    Some(Impact {
        window_s: to - from,
        recovered: state.recovered_at.is_some(),
        clients,
        target_requests,
        target_failed,
        double_credits,
        payments_pending_at_end,
        payments_completed_late,
        provider_calls_per_payment,
    })
}

/// What a counter's series (a total since the target started) added from `from` to its last
/// sample; a fall is a restarted target, counted from 0 again. `None` without samples.
fn counter_increase(series: &DrillSeries, signal: Signal, from: UnixSeconds) -> Option<f64> {
    let origin = series.origin_at?;
    let points: Vec<(UnixSeconds, f64)> = series.get(signal)?.points(origin).collect();
    // The last value before the injection is where the count starts.
    let start = points.iter().rposition(|(at, _)| *at <= from).unwrap_or(0);
    let counted = points.get(start..)?;
    let mut total = 0.0;
    for pair in counted.windows(2) {
        let (before, after) = (pair[0].1, pair[1].1);
        total += if after >= before {
            after - before
        } else {
            after
        };
    }
    (!counted.is_empty()).then_some(total)
}

/// The target's requests and failed requests over `from..=to`: see [`integrate`].
fn target_counts(series: &DrillSeries, from: UnixSeconds, to: UnixSeconds) -> Option<(f64, f64)> {
    integrate(series, Signal::Rps, Some(Signal::ErrorRatio), from, to)
}

/// ∫ rate dt and ∫ rate × ratio dt over `from..=to` (the second 0 without a ratio), each
/// rate sample standing for the time since the one before it; `None` when the series lack
/// the rate.
fn integrate(
    series: &DrillSeries,
    rate: Signal,
    ratio: Option<Signal>,
    from: UnixSeconds,
    to: UnixSeconds,
) -> Option<(f64, f64)> {
    let origin = series.origin_at?;
    let rate: Vec<(UnixSeconds, f64)> = series.get(rate)?.points(origin).collect();
    let errors: Vec<(UnixSeconds, f64)> = ratio
        .and_then(|ratio| series.get(ratio))
        .map(|s| s.points(origin).collect())
        .unwrap_or_default();
    let (mut requests, mut failed) = (0.0, 0.0);
    let mut counted_any = false;
    for pair in rate.windows(2) {
        let ((before, _), (at, value)) = (pair[0], pair[1]);
        if at <= from || at > to {
            continue;
        }
        let span = at - before.max(from);
        if span > MAX_GAP_S {
            continue;
        }
        let answered = value.max(0.0) * span;
        let ratio = errors
            .iter()
            .take_while(|(t, _)| *t <= at)
            .last()
            .filter(|(t, _)| at - t <= MAX_GAP_S)
            .map_or(0.0, |(_, ratio)| ratio.clamp(0.0, 1.0));
        requests += answered;
        failed += answered * ratio;
        counted_any = true;
    }
    counted_any.then_some((requests, failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Sample;

    fn counts(requests: u64, failed: u64) -> ClientCounts {
        ClientCounts {
            requests,
            failed,
            slow: failed / 2,
            transfers: requests / 5,
            transfers_failed: failed / 5,
            transfer_cents_failed: failed / 5,
            ..ClientCounts::default()
        }
    }

    #[test]
    fn the_tally_counts_from_its_first_sight_and_across_a_load_that_started_over() {
        let mut tally = ClientTally::default();
        assert_eq!(tally.counted(None), None);
        tally.observe(1.0, counts(100, 0), 30.0);
        tally.observe(2.0, counts(150, 20), 30.0);
        assert_eq!(tally.counted(None), Some(counts(50, 20)));
        // A resumed dashboard's load counts from zero again.
        tally.observe(100.0, counts(10, 10), 30.0);
        tally.observe(101.0, counts(40, 30), 30.0);
        let counted = tally.counted(None).expect("counted");
        assert_eq!(counted.requests, 50 + 30);
        assert_eq!(counted.failed, 20 + 20);
    }

    #[test]
    fn the_tally_ends_where_recovery_began_though_it_is_known_a_hold_later() {
        let mut tally = ClientTally::default();
        for second in 0..100 {
            let requests = 10 * second;
            tally.observe(f64::from(second as u32), counts(requests, 0), 35.0);
        }
        assert!(tally.recent.len() <= 37, "{} kept", tally.recent.len());
        // Recovery began at 70 s; the 30 s hold ended at 100 s.
        assert_eq!(tally.counted(Some(70.0)).map(|c| c.requests), Some(700));
        assert_eq!(tally.counted(None).map(|c| c.requests), Some(990));
    }

    #[test]
    fn the_target_counts_integrate_rate_times_error_ratio_over_the_window() {
        let mut series = DrillSeries::default();
        for second in 0..=20 {
            let at = 1000.0 + f64::from(second);
            series.push(Signal::Rps, Sample { at, value: 10.0 });
            let ratio = if (5..15).contains(&second) { 0.5 } else { 0.0 };
            series.push(Signal::ErrorRatio, Sample { at, value: ratio });
        }
        // From 1005 to 1015: ten seconds at 10/s, half of them failing while the ratio
        // read 0.5 (samples at 1006..=1014 stand for the second before each).
        let (requests, failed) = target_counts(&series, 1005.0, 1015.0).expect("counts");
        assert!((requests - 100.0).abs() < 1e-9, "{requests}");
        assert!((failed - 45.0).abs() < 1e-9, "{failed}");
    }

    #[test]
    fn completed_late_counts_the_counter_from_the_injection_on_and_across_a_restart() {
        let mut series = DrillSeries::default();
        // 3 before the fault, 3 → 7 after it, a restarted sandbox (0), then 2 more.
        for (at, value) in [
            (0.0, 1.0),
            (5.0, 3.0),
            (12.0, 5.0),
            (20.0, 7.0),
            (25.0, 0.0),
            (30.0, 2.0),
        ] {
            series.push(Signal::PaymentsCompletedLate, Sample { at, value });
        }
        assert_eq!(
            counter_increase(&series, Signal::PaymentsCompletedLate, 10.0),
            Some(4.0 + 2.0)
        );
        assert_eq!(
            counter_increase(&series, Signal::PaymentsPending, 10.0),
            None
        );
        let impact = Impact {
            window_s: 20.0,
            recovered: true,
            clients: None,
            target_requests: None,
            target_failed: None,
            double_credits: Some(0.0),
            payments_pending_at_end: Some(0.0),
            payments_completed_late: Some(6.0),
            provider_calls_per_payment: Some(4.3),
        };
        let rows = impact.rows(crate::i18n::strings(crate::i18n::Lang::En));
        let late = rows
            .iter()
            .find(|row| row.label == "payments completed late")
            .expect("a row");
        assert_eq!(late.value, "6 (by the drill's end)");
        assert!(late.loss);
        let calls = rows
            .iter()
            .find(|row| row.label == "provider calls/payment")
            .expect("a row");
        assert_eq!(calls.value, "≈ 4.3");
    }

    #[test]
    fn a_long_gap_in_the_series_is_not_counted_as_traffic() {
        let mut series = DrillSeries::default();
        series.push(
            Signal::Rps,
            Sample {
                at: 0.0,
                value: 10.0,
            },
        );
        series.push(
            Signal::Rps,
            Sample {
                at: 1.0,
                value: 10.0,
            },
        );
        series.push(
            Signal::Rps,
            Sample {
                at: 300.0,
                value: 10.0,
            },
        );
        let (requests, failed) = target_counts(&series, 0.0, 300.0).expect("counts");
        assert!((requests - 10.0).abs() < 1e-9, "{requests}");
        assert_eq!(failed, 0.0);
    }
}
