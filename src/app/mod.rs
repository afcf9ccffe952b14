//! The dashboard: starts the sources (and, on the embedded default, the sandbox and its load),
//! then runs the event loop: keys and updates change the state, and the screen is redrawn from
//! the state only when something changed, at most 30 times a second.

pub mod action;
pub mod embedded;
pub mod state;
mod terminal;
pub mod wiring;

use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::i18n::Lang;
use crate::signals::now_unix;
use crate::theme::Themes;
use action::{Action, action_for};
use state::AppState;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the dashboard until the user quits or the process is told to stop.
pub fn run(settings: Settings, themes: Themes) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let result = runtime.block_on(run_async(settings, themes));
    // A request still waiting on a hung source must not keep the process from exiting.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

async fn run_async(settings: Settings, themes: Themes) -> Result<(), String> {
    let (updates, receiver) = mpsc::channel(1024);
    let running = wiring::start(&settings, updates).await?;
    let mut state = AppState::new(
        running.target.clone(),
        &running.sources,
        running.local_rules,
        now_unix(),
    );
    state.theme_name = settings.theme.clone();
    tracing::info!(target = %state.target.api_url, embedded = state.target.embedded, "dashboard started");
    let result = {
        let mut terminal = terminal::Terminal::enter()?;
        event_loop(&mut terminal, &mut state, &themes, settings.lang, receiver).await
    };
    running.stop().await;
    result
}

async fn event_loop(
    terminal: &mut terminal::Terminal,
    state: &mut AppState,
    themes: &Themes,
    lang: Lang,
    mut updates: mpsc::Receiver<crate::sources::Update>,
) -> Result<(), String> {
    let theme_names: Vec<String> = themes.names().iter().map(|n| n.to_string()).collect();
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut stop = terminal::stop_signal()?;
    let mut dirty = true;
    let mut last_draw = tokio::time::Instant::now() - FRAME;
    loop {
        let now = tokio::time::Instant::now();
        if dirty && now >= last_draw + FRAME {
            state.now = now_unix();
            let theme = themes
                .get(&state.theme_name)
                .unwrap_or_else(|| themes.default_theme());
            terminal.draw(|frame| crate::ui::render(frame, state, theme, lang))?;
            dirty = false;
            last_draw = now;
        }
        let frame_due = async {
            if dirty {
                tokio::time::sleep_until(last_draw + FRAME).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    if let Some(action) = action_for(key, state) {
                        if action == Action::Quit {
                            return Ok(());
                        }
                        action::apply(action, state, &theme_names);
                        dirty = true;
                    }
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(format!("cannot read the terminal: {err}")),
                None => return Ok(()),
            },
            Some(update) = updates.recv() => {
                state.now = now_unix();
                state.apply(update);
                dirty = true;
                // Take whatever else is waiting, so a burst costs one frame.
                while let Ok(update) = updates.try_recv() {
                    state.apply(update);
                }
            }
            _ = clock.tick() => {
                state.now = now_unix();
                dirty = true;
            }
            () = stop.recv() => return Ok(()),
            () = frame_due => {}
        }
    }
}
