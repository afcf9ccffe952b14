//! The dashboard's state as plain data, split by kind, and the one way it changes:
//! [`update`]`(&mut Model, Msg) -> Vec<Effect>`. Keys (through the key table in [`keys`]) and
//! source updates arrive as [`Msg`]; whatever must happen beyond the state (HTTP to the API,
//! load control, saving records, quitting) leaves as [`Effect`] for the app's effects runner.
//! Nothing here does I/O, so all of it is tested without a terminal or a network.

pub mod dependency_modal;
pub mod drill;
mod key_defaults;
mod key_press;
pub mod keys;
pub mod live;
pub mod modal;
pub mod msg;
pub mod replay;
mod update;
#[cfg(test)]
mod update_tests;

use std::path::PathBuf;
use std::time::Duration;

pub use drill::{DrillRequest, DrillSession};
pub use keys::{Action, KeyContext, KeyTable};
pub use live::{LiveData, LoadStatus};
pub use modal::Modal;
pub use msg::{Effect, LoadChange, Msg, TargetRequest};
pub use update::update;

use crate::actions::ActionOutcome;
use crate::drill::record::SessionRecord;
use crate::fincore::FailureView;
use crate::signals::{Signal, UnixSeconds};
use crate::sources::SourceKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PanelId {
    Latency,
    Traffic,
    Memory,
    Transactions,
    Alerts,
    Failures,
    /// The payment provider, its patterns, payments and webhooks: only for a target that has
    /// one (see [`Model::has_provider`]).
    Dependency,
    Logs,
}

impl PanelId {
    pub const ORDER: [PanelId; 8] = [
        PanelId::Latency,
        PanelId::Traffic,
        PanelId::Memory,
        PanelId::Transactions,
        PanelId::Alerts,
        PanelId::Failures,
        PanelId::Dependency,
        PanelId::Logs,
    ];

    /// The next panel in [`Self::ORDER`]; the dependency panel only when it is shown.
    pub fn next(self, dependency_shown: bool) -> PanelId {
        self.step(1, dependency_shown)
    }

    pub fn previous(self, dependency_shown: bool) -> PanelId {
        self.step(Self::ORDER.len() - 1, dependency_shown)
    }

    fn step(self, by: usize, dependency_shown: bool) -> PanelId {
        let count = Self::ORDER.len();
        let mut index = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        loop {
            index = (index + by) % count;
            let panel = Self::ORDER[index];
            if dependency_shown || panel != PanelId::Dependency {
                return panel;
            }
        }
    }
}

/// What the dashboard watches, for the header.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInfo {
    pub embedded: bool,
    pub api_url: String,
    /// Which source the traffic and latency panels read, and over which window.
    pub metrics_source: SourceKind,
    pub metrics_window: String,
    /// Which source gives memory, limit and restarts.
    pub memory_source: Option<SourceKind>,
}

impl TargetInfo {
    /// The embedded default: the supervised sandbox at `api_url`, its own `/metrics` scraped,
    /// memory from its process.
    pub fn embedded(api_url: String) -> TargetInfo {
        TargetInfo {
            embedded: true,
            api_url,
            metrics_source: SourceKind::Scrape,
            metrics_window: format!("{} s", crate::sources::scrape::SCRAPE_WINDOW.as_secs()),
            memory_source: Some(SourceKind::Process),
        }
    }
}

/// How the screen is looked at: focus, zoom, overlays, scroll, theme. Changes nothing outside.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    pub focus: PanelId,
    pub zoomed: bool,
    pub help: bool,
    /// Lines scrolled back from the newest in the zoomed log.
    pub log_scroll: usize,
    /// Rows scrolled down in the drill's review.
    pub review_scroll: usize,
    /// The most rows the review can scroll at the last frame's size: only rendering knows how
    /// long the wrapped review is, and it leaves the figure here (like ratatui's widget states).
    pub review_scroll_most: std::cell::Cell<usize>,
    pub theme_name: String,
    pub modal: Option<Modal>,
}

/// What this run of the dashboard was started with; fixed for its life.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub target: TargetInfo,
    /// Watch only: no key changes the target.
    pub read_only: bool,
    /// The time to live each injection carries, where the target takes one.
    pub ttl: Option<Duration>,
    /// Cases offered by `c`.
    pub cases: Vec<crate::drill::Case>,
    /// The themes `t` cycles through, in order.
    pub theme_names: Vec<String>,
    /// Where session records go.
    pub data_dir: PathBuf,
    pub keys: KeyTable,
}

/// Requests to the target: the one on its way, the answer to the last, and whether we are
/// quitting once a reset is answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requests {
    pub pending: Option<String>,
    pub last_outcome: Option<ActionOutcome>,
    pub quitting: bool,
}

/// How a drill begins: an unfinished one found on disk is offered first, then the one asked
/// for on the command line starts.
#[derive(Debug, Clone, Default)]
pub struct DrillStart {
    pub requested: Option<DrillRequest>,
    pub resume_offer: Option<(PathBuf, SessionRecord)>,
}

pub struct Model {
    pub now: UnixSeconds,
    pub live: LiveData,
    pub view: ViewState,
    pub session: SessionSettings,
    pub requests: Requests,
    /// The drill in progress or just reviewed.
    pub drill: Option<DrillSession>,
    pub drill_start: DrillStart,
    /// A recorded drill played back (`gameday sessions replay`): read-only, on its own clock.
    pub replay: Option<replay::ReplayView>,
}

impl Model {
    pub fn new(
        session: SessionSettings,
        sources: &[SourceKind],
        local_rules: bool,
        now: UnixSeconds,
    ) -> Model {
        Model {
            now,
            live: LiveData::new(&session.target, sources, local_rules),
            view: ViewState {
                focus: PanelId::Latency,
                zoomed: false,
                help: false,
                log_scroll: 0,
                review_scroll: 0,
                review_scroll_most: std::cell::Cell::new(0),
                theme_name: "dark".to_string(),
                modal: None,
            },
            session,
            requests: Requests::default(),
            drill: None,
            drill_start: DrillStart::default(),
            replay: None,
        }
    }

    /// A model with default settings for `target`: what tests and benches draw from.
    pub fn for_target(
        target: TargetInfo,
        sources: &[SourceKind],
        local_rules: bool,
        now: UnixSeconds,
    ) -> Model {
        let session = SessionSettings {
            target,
            read_only: false,
            ttl: None,
            cases: Vec::new(),
            theme_names: Vec::new(),
            data_dir: PathBuf::new(),
            keys: KeyTable::default(),
        };
        Model::new(session, sources, local_rules, now)
    }

    /// Applies one source update, the way the loop does (tests feed models with it).
    pub fn apply(&mut self, source_update: crate::sources::Update) -> Vec<Effect> {
        update(self, Msg::Source(source_update))
    }

    /// The dashboard's clock at wall-clock time `wall`: during a replay, the record's time at
    /// the playback's position, so figures and charts read as they did in the drill.
    pub fn clock(&self, wall: UnixSeconds) -> UnixSeconds {
        self.replay.as_ref().map_or(wall, replay::ReplayView::now)
    }

    /// The latest value of a signal, if it is recent enough to show.
    pub fn current(&self, signal: Signal) -> Option<f64> {
        self.live.current(signal, self.now)
    }

    /// A drill that has not ended yet.
    pub fn drill_running(&self) -> bool {
        self.drill.as_ref().is_some_and(DrillSession::is_running)
    }

    /// Failures outlive us only on a target we did not start; there, quitting asks first.
    pub fn should_ask_before_quit(&self) -> bool {
        !self.session.target.embedded
            && !self.session.read_only
            && self
                .live
                .failures
                .as_ref()
                .is_some_and(FailureView::any_active)
    }

    /// The facts the key table decides by.
    pub fn key_context(&self) -> KeyContext {
        KeyContext {
            read_only: self.session.read_only,
            has_load: self.live.load.is_some(),
            has_cases: !self.session.cases.is_empty(),
            drill_running: self.drill_running(),
            drill_shown: self.drill.is_some(),
            zoomed: self.view.zoomed,
            log_focused: self.view.focus == PanelId::Logs,
            help: self.view.help,
            dialog: self.view.modal.is_some(),
            quit_prompt: self.view.modal == Some(Modal::QuitPrompt),
            replay: self.replay.is_some(),
            has_dependency: self
                .live
                .capabilities
                .as_ref()
                .is_some_and(|c| c.provider.is_some() || c.patterns),
        }
    }

    /// The action a key press asks for now.
    pub fn action_for(&self, key: crossterm::event::KeyEvent) -> Option<Action> {
        self.session.keys.action_for(key, &self.key_context())
    }

    pub fn uses_local_rules(&self) -> bool {
        self.live.uses_local_rules()
    }

    /// Whether the target has a payment provider: a provider signal has a value in the
    /// charts' history. Decides whether the dependency panel is drawn and focusable.
    pub fn has_provider(&self) -> bool {
        Signal::PROVIDER
            .iter()
            .any(|signal| !self.live.store.is_empty(*signal))
    }
}
