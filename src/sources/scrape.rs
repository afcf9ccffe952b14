//! The scrape source: reads the API's own `/metrics` and computes rates and quantiles locally
//! over a short window, for a target without Prometheus (the embedded default included).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::exposition;
use super::scrape_window::ScrapeWindow;
use super::{SourceKind, Update, UpdateSender, poll_loop};
use crate::fincore::{REQUEST_TIMEOUT, send_for_text, snippet};
use crate::signals::{Signal, now_unix};

/// The window rates and quantiles are computed over; panel titles say so.
pub const SCRAPE_WINDOW: Duration = Duration::from_secs(15);

pub async fn run(http: reqwest::Client, base: String, interval: Duration, updates: UpdateSender) {
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    // Shared with each poll's future; never locked across an await.
    let window = Arc::new(Mutex::new(ScrapeWindow::new(SCRAPE_WINDOW)));
    let sender = updates.clone();
    poll_loop(SourceKind::Scrape, interval, updates, move || {
        let (http, url, window, sender) = (
            http.clone(),
            url.clone(),
            Arc::clone(&window),
            sender.clone(),
        );
        async move {
            let at = now_unix();
            let outcome = match scrape_once(&http, &url).await {
                Ok(text) => exposition::parse(&text)
                    .map_err(|err| format!("/metrics is not a Prometheus exposition: {err}")),
                Err(reason) => Err(reason),
            };
            let up = if outcome.is_ok() { 1.0 } else { 0.0 };
            let mut values = vec![(Signal::Up, up)];
            if let Ok(exposition) = &outcome {
                let mut window = window.lock().unwrap_or_else(|p| p.into_inner());
                window.push(at, exposition);
                values.extend(window.signals());
            }
            let _ = sender
                .send(Update::Signals {
                    source: SourceKind::Scrape,
                    at,
                    values,
                })
                .await;
            outcome.map(|_| ())
        }
    })
    .await;
}

async fn scrape_once(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let (status, text) = send_for_text(http.get(url).timeout(REQUEST_TIMEOUT)).await?;
    if !(200..300).contains(&status) {
        return Err(format!("/metrics answered {status}: {}", snippet(&text)));
    }
    Ok(text)
}
