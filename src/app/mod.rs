//! The dashboard: starts the sources (and, on the embedded default, the sandbox and its load),
//! then runs the event loop: keys and updates change the state, and the screen is redrawn from
//! the state only when something changed, at most 30 times a second.

pub mod action;
pub mod control;
pub mod embedded;
pub mod modal;
pub mod state;
mod terminal;
pub mod wiring;

use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc;

use crate::actions::ActionKind;
use crate::config::Settings;
use crate::i18n::Lang;
use crate::load::LoadHandle;
use crate::signals::now_unix;
use crate::theme::Themes;
use action::{Effect, LoadChange, action_for};
use control::Command;
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
    state.read_only = settings.read_only;
    state.ttl = settings.ttl;
    state.load = running.load.as_ref().map(|load| state::LoadStatus {
        rate: load.rate(),
        profile: load.profile().to_string(),
        snapshot: None,
    });
    tracing::info!(target = %state.target.api_url, embedded = state.target.embedded, "dashboard started");
    let result = {
        let mut terminal = terminal::Terminal::enter()?;
        let controls = LoopControls {
            commands: running.commands.clone(),
            load: running.load.as_ref(),
        };
        event_loop(
            &mut terminal,
            &mut state,
            &themes,
            settings.lang,
            receiver,
            controls,
        )
        .await
    };
    running.stop().await;
    if let Some(warning) = left_behind(&state) {
        eprintln!("{warning}");
    }
    result
}

/// What the loop drives beyond the screen.
struct LoopControls<'a> {
    commands: mpsc::Sender<Command>,
    load: Option<&'a LoadHandle>,
}

/// Quitting without a reset must not leave a failure behind silently.
fn left_behind(state: &AppState) -> Option<String> {
    let failures = state.failures.as_ref()?;
    if state.target.embedded || !failures.any_active() {
        return None;
    }
    let active: Vec<String> = failures
        .knobs
        .iter()
        .filter(|(_, value)| *value != 0.0)
        .map(|(knob, value)| match failures.ttl_of(knob) {
            Some(left) => format!("{knob}={value} (expires in {left:.0} s)"),
            None => format!("{knob}={value}"),
        })
        .collect();
    Some(format!(
        "gameday: failures are still active on {url}: {}. Reset them with: \
         curl -X POST {url}/api/reset",
        active.join(", "),
        url = state.target.api_url
    ))
}

/// How long a reset on quitting may take before we quit anyway.
const RESET_ON_QUIT_TIMEOUT: Duration = Duration::from_secs(7);
/// Each `+`/`-` changes the load rate by this factor.
const LOAD_STEP: f64 = 1.5;
const MAX_LOAD_RATE: f64 = 2000.0;

async fn event_loop(
    terminal: &mut terminal::Terminal,
    state: &mut AppState,
    themes: &Themes,
    lang: Lang,
    mut updates: mpsc::Receiver<crate::sources::Update>,
    controls: LoopControls<'_>,
) -> Result<(), String> {
    let theme_names: Vec<String> = themes.names().iter().map(|n| n.to_string()).collect();
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut stop = terminal::stop_signal()?;
    let mut dirty = true;
    let mut last_draw = tokio::time::Instant::now() - FRAME;
    let mut quit_deadline: Option<tokio::time::Instant> = None;
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
        let quit_due = async {
            match quit_deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        };
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
                        dirty = true;
                        match action::apply(action, state, &theme_names) {
                            None => {}
                            Some(Effect::Quit) => return Ok(()),
                            Some(Effect::ResetThenQuit) => {
                                let Effect::Send(reset) = state.sending(Command::Reset) else {
                                    return Ok(());
                                };
                                send(&controls, state, reset);
                                quit_deadline = Some(tokio::time::Instant::now() + RESET_ON_QUIT_TIMEOUT);
                            }
                            Some(Effect::Send(command)) => send(&controls, state, command),
                            Some(Effect::Load(change)) => change_load(&controls, state, change),
                        }
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
                let reset_answered = state
                    .last_outcome
                    .as_ref()
                    .is_some_and(|outcome| outcome.kind == ActionKind::Reset);
                if state.quitting && state.pending.is_none() && reset_answered {
                    return Ok(());
                }
            }
            () = quit_due => return Ok(()),
            _ = clock.tick() => {
                state.now = now_unix();
                if let (Some(load), Some(status)) = (controls.load, state.load.as_mut()) {
                    status.snapshot = Some(load.snapshot());
                }
                dirty = true;
            }
            () = stop.recv() => return Ok(()),
            () = frame_due => {}
        }
    }
}

/// Hands a request to the controller; a full queue means requests are piling up unanswered.
fn send(controls: &LoopControls, state: &mut AppState, command: Command) {
    if controls.commands.try_send(command).is_err() {
        state.pending = None;
        state.push_log(
            state.now,
            crate::sources::LogLevel::Warn,
            "gameday: still waiting for earlier requests; try again in a moment".to_string(),
        );
    }
}

fn change_load(controls: &LoopControls, state: &mut AppState, change: LoadChange) {
    let (Some(load), Some(status)) = (controls.load, state.load.as_mut()) else {
        return;
    };
    match change {
        LoadChange::Faster => {
            load.set_rate((load.rate() * LOAD_STEP).round().clamp(1.0, MAX_LOAD_RATE))
        }
        LoadChange::Slower => load.set_rate((load.rate() / LOAD_STEP).round().max(1.0)),
        LoadChange::NextProfile => load.set_profile(load.profile().next_default()),
    }
    status.rate = load.rate();
    status.profile = load.profile().to_string();
}
