//! The terminal, entered once and restored on every way out: normal return, error, panic
//! (our hook restores before the panic message), and SIGTERM, SIGHUP, SIGINT and SIGQUIT
//! (turned into a normal return by the loop). Restoring never fails loudly: after a hangup the
//! terminal is gone, and writing to it gives EIO, which must not become a panic (a panic while
//! panicking aborts, and no cleanup runs). Frames are written inside synchronized updates, so
//! a terminal that supports them never shows half a frame.

use std::io::Write;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::{DefaultTerminal, Frame};

pub struct Terminal {
    inner: DefaultTerminal,
}

impl Terminal {
    pub fn enter() -> Result<Terminal, String> {
        restore_on_panic();
        let opened = enable_raw_mode()
            .and_then(|()| execute!(std::io::stdout(), EnterAlternateScreen))
            .and_then(|()| ratatui::Terminal::new(CrosstermBackend::new(std::io::stdout())));
        match opened {
            Ok(inner) => Ok(Terminal { inner }),
            Err(err) => {
                restore();
                Err(format!("cannot open the terminal: {err}"))
            }
        }
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
        restore();
    }
}

/// Leaves the alternate screen and raw mode, ignoring a terminal that is gone.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), LeaveAlternateScreen, Show);
}

/// Restores the terminal before the panic message is printed, so it is readable; once only.
fn restore_on_panic() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT as one stream of "stop" notices.
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
            SignalKind::quit(),
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
