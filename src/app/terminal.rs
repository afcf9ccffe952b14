//! The terminal, entered once and restored on every way out: normal return, error, panic
//! (ratatui's hook restores before the panic message), and SIGTERM/SIGHUP (turned into a
//! normal return by the loop). Frames are written inside synchronized updates, so a terminal
//! that supports them never shows half a frame.

use std::io::Write;

use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::{DefaultTerminal, Frame};

pub struct Terminal {
    inner: DefaultTerminal,
}

impl Terminal {
    pub fn enter() -> Result<Terminal, String> {
        let inner =
            ratatui::try_init().map_err(|err| format!("cannot open the terminal: {err}"))?;
        Ok(Terminal { inner })
    }

    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> Result<(), String> {
        let mut stdout = std::io::stdout();
        let _ = execute!(stdout, BeginSynchronizedUpdate);
        let drawn = self.inner.draw(render).map(|_| ());
        let _ = execute!(stdout, EndSynchronizedUpdate);
        let _ = stdout.flush();
        drawn.map_err(|err| format!("cannot draw: {err}"))
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// SIGTERM, SIGHUP and SIGINT as one stream of "stop" notices.
pub struct StopSignal {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

impl StopSignal {
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let waits = self
                .signals
                .iter_mut()
                .map(|signal| Box::pin(async move { signal.recv().await }));
            let _ = futures_util::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub fn stop_signal() -> Result<StopSignal, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut signals = Vec::new();
        for kind in [
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::interrupt(),
        ] {
            signals.push(signal(kind).map_err(|err| format!("cannot watch signals: {err}"))?);
        }
        Ok(StopSignal { signals })
    }
    #[cfg(not(unix))]
    {
        Ok(StopSignal {})
    }
}
