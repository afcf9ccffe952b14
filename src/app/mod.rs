//! The dashboard: starts the sources (and, on the embedded default, the sandbox and its load),
//! then runs the event loop: keys and updates change the state, and the screen is redrawn from
//! the state only when something changed, at most 30 times a second.

pub mod action;
pub mod control;
pub mod drill;
mod effects;
pub mod embedded;
pub mod modal;
pub mod state;
mod terminal;
pub mod wiring;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc;

use crate::actions::ActionKind;
use crate::config::Settings;
use crate::i18n::Lang;
use crate::signals::now_unix;
use crate::theme::Themes;
use action::action_for;
pub use drill::DrillRequest;
use effects::{Flow, LoopContext};
use state::AppState;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the dashboard until the user quits or the process is told to stop; with a drill
/// request, the drill starts as soon as the target is known.
pub fn run(settings: Settings, themes: Themes, start: DashboardStart) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let result = runtime.block_on(run_async(settings, themes, start));
    // A request still waiting on a hung source must not keep the process from exiting.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

/// What the dashboard opens with besides the live panels.
pub struct DashboardStart {
    /// The cases `c` offers.
    pub cases: Vec<crate::drill::Case>,
    pub drill: Option<DrillRequest>,
    /// Where session records go.
    pub data_dir: PathBuf,
}

async fn run_async(
    settings: Settings,
    themes: Themes,
    start: DashboardStart,
) -> Result<(), String> {
    let (updates, receiver) = mpsc::channel(1024);
    let mut running = wiring::start(&settings, updates).await?;
    let mut state = AppState::new(
        running.target.clone(),
        &running.sources,
        running.local_rules,
        now_unix(),
    );
    state.theme_name = settings.theme.clone();
    state.read_only = settings.read_only;
    state.ttl = settings.ttl;
    state.cases = start.cases;
    let load = running.load.take();
    let mut context = LoopContext {
        commands: running.commands.clone(),
        load,
        background: None,
        api_url: running.target.api_url.clone(),
        data_dir: start.data_dir,
        requested: start.drill,
        resume_offer: None,
    };
    context.show_load(&mut state);
    context.offer_resume_or_start(&mut state);
    tracing::info!(target = %state.target.api_url, embedded = state.target.embedded, "dashboard started");
    let result = {
        let mut terminal = terminal::Terminal::enter()?;
        event_loop(
            &mut terminal,
            &mut state,
            &themes,
            settings.lang,
            receiver,
            &mut context,
        )
        .await
    };
    if let Some(load) = context.load.take() {
        load.stop();
    }
    // Whatever happened, the drill's last state is on disk.
    if let Some(drill) = state.drill.as_mut() {
        drill.save();
    }
    running.stop().await;
    if let Some(warning) = left_behind(&state) {
        eprintln!("{warning}");
    }
    result
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

async fn event_loop(
    terminal: &mut terminal::Terminal,
    state: &mut AppState,
    themes: &Themes,
    lang: Lang,
    mut updates: mpsc::Receiver<crate::sources::Update>,
    context: &mut LoopContext,
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
        let mut flow = Flow::Continue;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    if let Some(action) = action_for(key, state) {
                        dirty = true;
                        state.now = now_unix();
                        if let Some(effect) = action::apply(action, state, &theme_names) {
                            flow = context.carry_out(effect, state);
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
                    .is_some_and(|outcome| outcome.kind == ActionKind::FailureReset);
                if state.quitting && state.pending.is_none() && reset_answered {
                    return Ok(());
                }
            }
            _ = clock.tick() => {
                state.now = now_unix();
                if let (Some(load), Some(status)) = (context.load.as_ref(), state.load.as_mut()) {
                    status.snapshot = Some(load.snapshot());
                }
                state.with_drill(|drill, now| drill.tick(now));
                dirty = true;
            }
            () = stop.recv() => return Ok(()),
            () = quit_due => return Ok(()),
            () = frame_due => {}
        }
        // Effects queued by updates and drills, after the one a key may have asked for.
        for effect in std::mem::take(&mut state.effects) {
            if let Flow::Quit = context.carry_out(effect, state) {
                flow = Flow::Quit;
            }
        }
        match flow {
            Flow::Continue => {}
            Flow::Quit => return Ok(()),
            Flow::QuitAfterReset => {
                quit_deadline = Some(tokio::time::Instant::now() + RESET_ON_QUIT_TIMEOUT);
            }
        }
    }
}
