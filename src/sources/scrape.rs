//! The scrape source: reads the API's own `/metrics` and computes rates and quantiles locally
//! over a short window, for a target without Prometheus (the embedded default included).

use std::time::Duration;

use super::close_watch::CloseWatch;
use super::exposition;
use super::plausible::{self, ImplausibleNotes};
use super::poller::{Poller, SourceError, send};
use super::processes::ProcessSightings;
use super::scrape_window::ScrapeWindow;
use super::{SourceKind, Update, UpdateSender};
use crate::fincore::{BodyCap, REQUEST_TIMEOUT, send_for_text, snippet};
use crate::signals::{Signal, now_unix};

/// The window rates and quantiles are computed over; panel titles say so.
pub const SCRAPE_WINDOW: Duration = Duration::from_secs(15);
/// The window of the workshop's HighLatency and HighErrorRate rules (`[5m]`).
pub const RULE_WINDOW: Duration = Duration::from_secs(5 * 60);

pub struct ScrapePoller {
    http: reqwest::Client,
    url: String,
    window: ScrapeWindow,
    /// The same scrapes over the rules' window, for the signals the local rules compare.
    rule_window: ScrapeWindow,
    processes: ProcessSightings,
    close_watch: CloseWatch,
    /// Scrapes asked at once each poll, each on a new connection: behind one address several
    /// workers may answer, and one scrape at a time can keep reaching the same one while
    /// another serves the traffic. The window adds what each worker counted.
    at_once: usize,
    /// What was dropped as implausible and said so already.
    notes: ImplausibleNotes,
}

impl ScrapePoller {
    /// Scrapes `{base}/metrics`; polls closely while `close_watch` says so, and until the
    /// first rates are known.
    pub fn new(http: reqwest::Client, base: &str, close_watch: CloseWatch) -> ScrapePoller {
        ScrapePoller {
            at_once: 1,
            http,
            url: format!("{}/metrics", base.trim_end_matches('/')),
            window: ScrapeWindow::new(SCRAPE_WINDOW),
            rule_window: ScrapeWindow::new(RULE_WINDOW),
            processes: ProcessSightings::default(),
            close_watch,
            notes: ImplausibleNotes::default(),
        }
    }
}

impl ScrapePoller {
    /// Two scrapes at once each poll, for a target we did not start (`http` must open a new
    /// connection per request for them to reach different workers).
    pub fn of_several_workers(mut self) -> ScrapePoller {
        self.at_once = 2;
        self
    }
}

impl Poller for ScrapePoller {
    const KIND: SourceKind = SourceKind::Scrape;

    /// Sends `up` (0 when the scrape fails) and every signal the window can give.
    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let at = now_unix();
        let scrapes = (0..self.at_once).map(|_| scrape_once(&self.http, &self.url));
        let mut outcomes: Vec<Result<exposition::Exposition, String>> =
            futures_util::future::join_all(scrapes)
                .await
                .into_iter()
                .map(|answer| {
                    answer.and_then(|text| {
                        exposition::parse(&text).map_err(|err| {
                            format!("/metrics is not a Prometheus exposition: {err}")
                        })
                    })
                })
                .collect();
        // The last good one stands for the poll; the others are pushed just before it.
        outcomes.sort_by_key(Result::is_ok);
        let outcome = outcomes
            .pop()
            .unwrap_or_else(|| Err("no scrape".to_string()));
        let mut earlier = 0.0;
        for extra in outcomes.iter().flatten() {
            earlier += 0.001;
            let extra_at = at - earlier;
            self.window.push(extra_at, extra);
            self.rule_window.push(extra_at, extra);
            let window_s = self.window.window().as_secs_f64();
            self.processes.push(extra_at, extra, window_s);
        }
        let up = if outcome.is_ok() { 1.0 } else { 0.0 };
        let mut values = vec![(Signal::Up, up)];
        if let Ok(exposition) = &outcome {
            self.window.push(at, exposition);
            values.extend(self.window.signals());
            values.extend(self.window.dependency_signals());
            self.rule_window.push(at, exposition);
            let rule_signals = [
                (
                    Signal::LatencyP95Over5m,
                    self.rule_window.latency_quantile(0.95),
                ),
                (Signal::ErrorRatioOver5m, self.rule_window.error_ratio()),
            ];
            values.extend(
                rule_signals
                    .into_iter()
                    .filter_map(|(signal, value)| Some((signal, value?))),
            );
            values.extend(self.rule_window.dependency_rule_signals());
            let window_s = self.window.window().as_secs_f64();
            self.processes.push(at, exposition, window_s);
        }
        let mut dropped: Vec<String> = outcomes
            .iter()
            .chain(std::iter::once(&outcome))
            .flatten()
            .flat_map(|exposition| &exposition.dropped.examples)
            .map(|(name, why)| format!("{name} ({why})"))
            .collect();
        dropped.extend(
            plausible::keep_plausible(&mut values)
                .into_iter()
                .map(|signal| signal.name().to_string()),
        );
        if let Some(note) = self.notes.note(SourceKind::Scrape.label(), dropped, at) {
            send(updates, Update::Logs(vec![note])).await?;
        }
        let update = Update::Signals {
            source: SourceKind::Scrape,
            at,
            values,
        };
        send(updates, update).await?;
        send(updates, Update::Processes(self.processes.count())).await?;
        if let Ok(exposition) = &outcome {
            let patterns = patterns_enabled(exposition);
            if !patterns.is_empty() {
                send(updates, Update::PatternsEnabled(patterns)).await?;
            }
        }
        outcome.map(|_| ()).map_err(SourceError::Failed)
    }

    /// Rates need two scrapes: the second comes a quarter second after the first, so the
    /// first figures show within a second of start.
    fn next_wait(&self, interval: Duration) -> Duration {
        if self.window.rate_span().is_zero() {
            interval.min(super::close_watch::CLOSE_INTERVAL)
        } else {
            self.close_watch.next_wait(interval)
        }
    }
}

/// `fintech_pattern_enabled{pattern}` of one scrape: each pattern and whether it is on.
fn patterns_enabled(exposition: &exposition::Exposition) -> Vec<(String, bool)> {
    exposition
        .samples
        .iter()
        .filter(|sample| sample.name == "fintech_pattern_enabled")
        .filter_map(|sample| Some((sample.label("pattern")?.to_string(), sample.value >= 0.5)))
        .collect()
}

async fn scrape_once(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let (status, text) =
        send_for_text(http.get(url).timeout(REQUEST_TIMEOUT), BodyCap::METRICS).await?;
    if !(200..300).contains(&status) {
        return Err(format!("/metrics answered {status}: {}", snippet(&text)));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_read_from_their_gauge() {
        let text = "fintech_pattern_enabled{pattern=\"timeout\"} 1\n\
                    fintech_pattern_enabled{pattern=\"retry\"} 0\n\
                    fintech_active_transactions 0\n";
        let parsed = exposition::parse(text).expect("valid");
        assert_eq!(
            patterns_enabled(&parsed),
            vec![("timeout".to_string(), true), ("retry".to_string(), false)]
        );
        let workshop = exposition::parse("fintech_active_transactions 0\n").expect("valid");
        assert!(patterns_enabled(&workshop).is_empty());
    }
}
