//! The dashboard: starts the sources (and, on the embedded default, the sandbox and its load),
//! then runs the event loop: keys and updates change the state, and the screen is redrawn from
//! the state only when something changed, at most 30 times a second.

pub mod control;
mod control_dependency;
mod effects;
mod embedded_dir;
mod operator_log;
mod replay;
mod terminal;
pub mod wiring;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::drill::record::latest_unfinished;
use crate::i18n::Lang;
use crate::model::{DrillRequest, KeyTable, Model, Msg, SessionSettings, update};
use crate::signals::now_unix;
use crate::sources::close_watch::AFTER_CHANGE;
use crate::theme::Themes;
use effects::{EffectsRunner, Flow};
use operator_log::OperatorLog;

/// The shortest time between two frames, after a key, a resize or an answer.
const FRAME: Duration = Duration::from_millis(33);
/// The shortest time between two frames otherwise: sources poll once a second, so their
/// updates share one frame instead of drawing one each (idle CPU roughly halves).
const IDLE_FRAME: Duration = Duration::from_secs(1);
/// How long after start every update is drawn at once, for the first figures.
const PROMPT_AT_START: Duration = Duration::from_secs(2);

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
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// What the dashboard opens with besides the live panels.
pub struct DashboardStart {
    /// The cases `c` offers.
    pub cases: Vec<crate::drill::Case>,
    pub drill: Option<DrillRequest>,
    /// Where session records go.
    pub data_dir: PathBuf,
    /// The key table, with `[keys]` from the settings applied.
    pub keys: KeyTable,
    /// A record to play back instead of watching a target (`gameday sessions replay`).
    pub replay: Option<crate::sessions::replay::ReplayStart>,
}

async fn run_async(
    mut settings: Settings,
    themes: Themes,
    start: DashboardStart,
) -> Result<(), String> {
    let (updates, receiver) = mpsc::channel(1024);
    // A replay watches a record, not a target: nothing on screen may change anything.
    let replay_view = start
        .replay
        .as_ref()
        .map(|replay| crate::model::replay::ReplayView::new(&replay.plan, replay.speed));
    let mut running = match start.replay {
        Some(replay) => {
            settings.read_only = true;
            wiring::start_replay(replay, updates)
        }
        None => wiring::start(&settings, updates).await?,
    };
    let replaying = replay_view.is_some();
    let session = SessionSettings {
        target: running.target.clone(),
        read_only: settings.read_only,
        ttl: settings.ttl,
        cases: if replaying { Vec::new() } else { start.cases },
        theme_names: themes.names().iter().map(|n| n.to_string()).collect(),
        data_dir: start.data_dir,
        keys: start.keys,
    };
    let mut model = Model::new(session, &running.sources, running.local_rules, now_unix());
    model.view.theme_name = settings.theme.clone();
    model.drill_start.requested = if replaying { None } else { start.drill };
    model.replay = replay_view;
    // Reading the folder once at start, before the loop, is the only disk read it needs.
    if !settings.read_only {
        if let Ok(Some(offer)) = latest_unfinished(&model.session.data_dir) {
            model.drill_start.resume_offer = Some(offer);
        }
    }
    let (results, results_receiver) = mpsc::unbounded_channel();
    let mut runner = EffectsRunner::new(
        running.commands.clone(),
        running.load.take(),
        running.api_url.clone(),
        effects::DrillLoadPolicy::new(&settings, running.target.embedded),
        results,
    )
    .with_replay_pause(running.replay_pause.take());
    tracing::info!(target_url = %model.session.target.api_url, embedded = model.session.target.embedded, "dashboard started");
    let result = {
        let mut terminal = terminal::Terminal::enter()?;
        let mut channels = Channels {
            updates: receiver,
            results: results_receiver,
        };
        let first = [runner.load_status(), Msg::Started];
        event_loop(
            &mut terminal,
            &mut model,
            &themes,
            settings.lang,
            &mut channels,
            &mut runner,
            first,
        )
        .await
    };
    // Whatever happened, the drill's last state is on disk.
    let last = model.drill.as_mut().and_then(|drill| drill.save());
    runner.finish(last).await;
    running.stop().await;
    if let Some(warning) = left_behind(&model) {
        // After a hangup stderr may be gone too: a failed write is not a panic.
        let _ = writeln!(std::io::stderr(), "{warning}");
    }
    result
}

/// Quitting without a reset must not leave a failure behind silently.
fn left_behind(model: &Model) -> Option<String> {
    let failures = model.live.failures.as_ref()?;
    if model.session.target.embedded || !failures.any_active() {
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
        url = model.session.target.api_url
    ))
}

/// How long a reset on quitting may take before we quit anyway.
const RESET_ON_QUIT_TIMEOUT: Duration = Duration::from_secs(7);

/// What the loop listens to besides the terminal.
struct Channels {
    updates: mpsc::Receiver<crate::sources::Update>,
    results: mpsc::UnboundedReceiver<Msg>,
}

/// Feeds `msg` to `update` and carries out the effects, and whatever they report back, until
/// nothing is left; the flow says whether to quit.
fn step(model: &mut Model, runner: &mut EffectsRunner, log: &mut OperatorLog, msg: Msg) -> Flow {
    let mut flow = Flow::Continue;
    let mut queue = vec![msg];
    while let Some(msg) = queue.pop() {
        model.now = model.clock(now_unix());
        let mut replies = Vec::new();
        log.message(&msg, model);
        let effects = update(model, msg);
        log.changes(model);
        for effect in effects {
            match runner.carry_out(effect, &mut replies) {
                Flow::Continue => {}
                Flow::Quit => flow = Flow::Quit,
                Flow::QuitAfterReset => {
                    if matches!(flow, Flow::Continue) {
                        flow = Flow::QuitAfterReset;
                    }
                }
            }
        }
        // In the order they came.
        replies.reverse();
        queue.extend(replies);
    }
    flow
}

async fn event_loop(
    terminal: &mut terminal::Terminal,
    model: &mut Model,
    themes: &Themes,
    lang: Lang,
    channels: &mut Channels,
    runner: &mut EffectsRunner,
    first: [Msg; 2],
) -> Result<(), String> {
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut stop = terminal::stop_signal()?;
    let mut dirty = true;
    // Something the user waits to see: drawn within FRAME, else within IDLE_FRAME.
    let mut urgent = true;
    let mut last_draw = tokio::time::Instant::now() - IDLE_FRAME;
    // Until then every update is drawn within FRAME: the first figures at start, and what a
    // change of the failure state does to the figures while the metrics are polled closely.
    let mut prompt_until = tokio::time::Instant::now() + PROMPT_AT_START;
    let mut quit_deadline: Option<tokio::time::Instant> = None;
    let mut log = OperatorLog::default();
    for msg in first {
        if let Flow::Quit = step(model, runner, &mut log, msg) {
            return Ok(());
        }
    }
    loop {
        let now = tokio::time::Instant::now();
        let gap = if urgent { FRAME } else { IDLE_FRAME };
        if dirty && now >= last_draw + gap {
            model.now = model.clock(now_unix());
            let theme = themes
                .get(&model.view.theme_name)
                .unwrap_or_else(|| themes.default_theme());
            terminal.draw(|frame| crate::ui::render(frame, model, theme, lang))?;
            dirty = false;
            urgent = false;
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
                tokio::time::sleep_until(last_draw + gap).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let mut flow = Flow::Continue;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    if let Some(action) = model.action_for(key) {
                        dirty = true;
                        urgent = true;
                        flow = step(model, runner, &mut log, Msg::Action(action));
                    }
                }
                Some(Ok(Event::Resize(..))) => {
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(format!("cannot read the terminal: {err}")),
                None => return Ok(()),
            },
            Some(source_update) = channels.updates.recv() => {
                // The answer to a request is what the user is waiting for, and so is what it
                // does to the figures in the seconds after.
                if matches!(source_update, crate::sources::Update::Outcome(_)) {
                    prompt_until = tokio::time::Instant::now() + AFTER_CHANGE;
                }
                urgent |= tokio::time::Instant::now() < prompt_until;
                // A replay is watched as it plays: its position and figures drawn at once.
                urgent |= model.replay.is_some();
                flow = step(model, runner, &mut log, Msg::Source(source_update));
                dirty = true;
                // Take whatever else is waiting, so a burst costs one frame.
                while let Ok(source_update) = channels.updates.try_recv() {
                    urgent |= matches!(source_update, crate::sources::Update::Outcome(_));
                    if let Flow::Quit = step(model, runner, &mut log, Msg::Source(source_update)) {
                        flow = Flow::Quit;
                    }
                }
            }
            Some(result) = channels.results.recv() => {
                flow = step(model, runner, &mut log, result);
                dirty = true;
                urgent = true;
            }
            _ = clock.tick() => {
                flow = step(model, runner, &mut log, Msg::Tick { load: runner.load_snapshot() });
                dirty = true;
            }
            () = stop.recv() => return Ok(()),
            () = quit_due => return Ok(()),
            () = frame_due => {}
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
