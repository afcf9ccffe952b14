//! The key table: every binding once, as (name, keys, when it applies, label). Key handling,
//! the key bar and the help are all generated from it, and `[keys]` in `config.toml` remaps
//! it by name. Only key presses act (a release or repeat must not act twice).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

pub use super::key_press::KeyPress;

use crate::fincore::presets::Preset;

/// Every state change the user can ask for from the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Ctrl-C in the quit question: leave without resetting.
    ForceQuit,
    Inject(Preset),
    ResetFailures,
    OpenInjectPanel,
    OpenContainers,
    /// A key for the open dialog.
    ModalKey(KeyCode),
    LoadFaster,
    LoadSlower,
    NextProfile,
    /// Enter in a drill: declare detection.
    DrillDetect,
    DrillHint,
    /// `n` in a drill: write a note into its record.
    DrillNote,
    /// Tick item N (from 0) of the current checklist.
    DrillCheck(usize),
    OpenCases,
    /// Esc after a drill ended: back to the dashboard alone.
    CloseDrill,
    FocusNext,
    FocusPrevious,
    ToggleZoom,
    Unzoom,
    ToggleHelp,
    CloseHelp,
    CycleTheme,
    ScrollLog(i32),
    /// Rows of the drill's review: positive scrolls down.
    ScrollReview(i32),
    /// Space in a replay: stop or go on playing.
    ToggleReplayPause,
    /// The payment provider's failures dialog.
    OpenProviderFailures,
    ResetProvider,
    /// The resilience patterns dialog.
    OpenPatterns,
}

/// What decides which bindings apply: a few facts of the model, taken by
/// [`super::Model::key_context`], so the table needs nothing else of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyContext {
    pub read_only: bool,
    pub has_load: bool,
    pub has_cases: bool,
    pub drill_running: bool,
    /// A drill, running or in its review, is on screen.
    pub drill_shown: bool,
    pub zoomed: bool,
    pub log_focused: bool,
    pub help: bool,
    pub dialog: bool,
    /// The question on quitting with failures active (where Ctrl-C leaves without a reset).
    pub quit_prompt: bool,
    /// A recorded drill is being played back.
    pub replay: bool,
    /// The target has a dependency to control (a payment provider, or patterns): its keys go
    /// in the key bar. They work without (and say there is none), so they are in the help.
    pub has_dependency: bool,
}

/// When a binding applies. A more specific context wins over a general one for the same key
/// (the zoomed log's ↑ scrolls, elsewhere it moves the focus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// Changes the target: never in read-only mode.
    Changing,
    /// Changes the target's dependency (its provider, its patterns): as `Changing`, and in the
    /// key bar only when the target has one.
    Dependency,
    /// Changes the background load: only when there is one.
    Load,
    DrillRunning,
    /// A drill is on screen, running or in its review.
    DrillShown,
    /// No drill running, cases to pick from, not read-only.
    CanPickCase,
    /// A finished drill's review is shown and nothing is zoomed.
    DrillReview,
    Zoomed,
    LogZoomed,
    /// A replay is playing (`gameday sessions replay`).
    Replay,
}

impl When {
    pub fn holds(self, now: &KeyContext) -> bool {
        let changing = !now.read_only;
        match self {
            When::Always => true,
            When::Changing | When::Dependency => changing,
            When::Load => changing && now.has_load,
            When::DrillRunning => now.drill_running,
            When::DrillShown => now.drill_shown && !now.zoomed,
            When::CanPickCase => changing && !now.drill_running && now.has_cases,
            When::DrillReview => now.drill_shown && !now.drill_running && !now.zoomed,
            When::Zoomed => now.zoomed,
            When::LogZoomed => now.zoomed && now.log_focused,
            When::Replay => now.replay,
        }
    }

    fn specificity(self) -> u8 {
        match self {
            When::Always => 0,
            When::Changing | When::Dependency | When::Load => 1,
            When::DrillRunning
            | When::DrillShown
            | When::CanPickCase
            | When::DrillReview
            | When::Zoomed
            | When::Replay => 2,
            When::LogZoomed => 3,
        }
    }

    /// Whether both can hold at once (if not, one key may serve both).
    fn overlaps(self, other: When) -> bool {
        use When::*;
        !matches!(
            (self, other),
            (DrillRunning, CanPickCase | DrillReview)
                | (CanPickCase | DrillReview, DrillRunning)
                | (DrillReview, Zoomed | LogZoomed)
                | (Zoomed | LogZoomed, DrillReview)
        )
    }
}

/// What a binding is called on screen; `ui` turns it into words in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Help,
    Quit,
    Detect,
    Hint,
    Note,
    Check,
    Cases,
    CloseDrill,
    Inject(Preset),
    Reset,
    InjectPanel,
    Containers,
    Load,
    Profile,
    Focus,
    Zoom,
    Scroll,
    ScrollReview,
    Theme,
    Pause,
    ProviderFailures,
    ResetProvider,
    Patterns,
}

/// What a binding does when one of its keys is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Does {
    Act(Action),
    /// The Nth key ticks item N of the checklist.
    CheckItem,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The name `[keys]` in `config.toml` uses.
    pub name: &'static str,
    pub keys: Vec<KeyPress>,
    pub when: When,
    pub label: Label,
    /// Shown in the key bar (when it applies); every binding is in the help.
    pub in_bar: bool,
    does: Does,
    /// Set from `config.toml` rather than the defaults.
    remapped: bool,
}

impl Binding {
    pub(super) fn new(
        name: &'static str,
        keys: &[KeyPress],
        when: When,
        label: Label,
        does: Does,
    ) -> Self {
        Binding {
            name,
            keys: keys.to_vec(),
            when,
            label,
            in_bar: true,
            does,
            remapped: false,
        }
    }

    pub(super) fn hidden(mut self) -> Self {
        self.in_bar = false;
        self
    }

    /// The keys as the key bar writes them: `1-9` for a run of digits, else the first key.
    pub fn bar_keys(&self) -> String {
        if self.does == Does::CheckItem && self.keys.len() > 2 {
            let first = self.keys.first().map(KeyPress::shown).unwrap_or_default();
            let last = self.keys.last().map(KeyPress::shown).unwrap_or_default();
            return format!("{first}-{last}");
        }
        self.keys.first().map(KeyPress::shown).unwrap_or_default()
    }

    /// Every key, as the help writes them.
    pub fn help_keys(&self) -> String {
        if self.does == Does::CheckItem && self.keys.len() > 2 {
            return self.bar_keys();
        }
        let keys: Vec<String> = self.keys.iter().map(KeyPress::shown).collect();
        keys.join(" ")
    }

    fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        let index = self.keys.iter().position(|k| k.matches(key))?;
        Some(match self.does {
            Does::Act(action) => action,
            Does::CheckItem => Action::DrillCheck(index),
        })
    }
}

/// Ctrl-C always quits, whatever `[keys]` says: a way out must never be remapped away.
const CTRL_C: KeyPress = KeyPress {
    code: KeyCode::Char('c'),
    ctrl: true,
};

#[derive(Debug, Clone, PartialEq)]
pub struct KeyTable {
    bindings: Vec<Binding>,
}

/// One `[keys]` entry of `config.toml`: an action's name and its keys (none: unbound).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOverride {
    pub action: String,
    pub keys: Vec<String>,
}

/// What is wrong with entry `entry` of the overrides; the caller names its place.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOverrideError {
    pub entry: usize,
    pub detail: String,
}

impl KeyTable {
    pub(super) fn from_bindings(bindings: Vec<Binding>) -> KeyTable {
        KeyTable { bindings }
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The defaults with `[keys]` applied: an unknown action, a key that is not one, or a key
    /// that two actions would share at the same moment is refused, naming the entry.
    pub fn with_overrides(overrides: &[KeyOverride]) -> Result<KeyTable, KeyOverrideError> {
        let mut table = KeyTable::default();
        for (entry, wanted) in overrides.iter().enumerate() {
            let refuse = |detail: String| KeyOverrideError { entry, detail };
            let Some(binding) = table.bindings.iter_mut().find(|b| b.name == wanted.action) else {
                let names: Vec<&str> = KeyTable::default()
                    .bindings
                    .iter()
                    .map(|b| b.name)
                    .collect();
                return Err(refuse(format!(
                    "no such action; the actions are: {}",
                    names.join(", ")
                )));
            };
            let mut keys = Vec::with_capacity(wanted.keys.len());
            for text in &wanted.keys {
                let key = KeyPress::parse(text).map_err(&refuse)?;
                if key == CTRL_C {
                    return Err(refuse(
                        "Ctrl-C always quits and cannot be bound".to_string(),
                    ));
                }
                keys.push(key);
            }
            binding.keys = keys;
            binding.remapped = true;
        }
        for (entry, wanted) in overrides.iter().enumerate() {
            if let Some(detail) = table.clash_of(&wanted.action) {
                return Err(KeyOverrideError { entry, detail });
            }
        }
        Ok(table)
    }

    /// A key of binding `name` that another binding also uses when both apply.
    fn clash_of(&self, name: &str) -> Option<String> {
        let binding = self.bindings.iter().find(|b| b.name == name)?;
        for other in self.bindings.iter().filter(|b| b.name != name) {
            let shared = binding.keys.iter().find(|key| other.keys.contains(key));
            let Some(key) = shared else { continue };
            let same_level = binding.when.specificity() == other.when.specificity();
            if same_level && binding.when.overlaps(other.when) {
                return Some(format!(
                    "{} is already bound to {}{}",
                    key.shown(),
                    other.name,
                    if other.remapped { "" } else { " (a default)" }
                ));
            }
        }
        None
    }

    /// The action a key press asks for, in the model's present context.
    pub fn action_for(&self, key: KeyEvent, now: &KeyContext) -> Option<Action> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        if CTRL_C.matches(&key) {
            return Some(if now.quit_prompt {
                Action::ForceQuit
            } else {
                Action::Quit
            });
        }
        if now.dialog {
            return Some(Action::ModalKey(key.code));
        }
        let found = self
            .bindings
            .iter()
            .filter(|binding| binding.when.holds(now))
            .filter_map(|binding| Some((binding.when.specificity(), binding.action_for(&key)?)))
            .max_by_key(|(specificity, _)| *specificity)
            .map(|(_, action)| action);
        if now.help {
            // Any key closes the help; the quit key still quits, as users expect.
            return Some(match found {
                Some(Action::Quit) => Action::Quit,
                _ => Action::CloseHelp,
            });
        }
        found
    }

    /// The bindings that apply now and belong in the key bar, in its order.
    pub fn bar(&self, now: KeyContext) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |binding| {
            binding.in_bar
                && !binding.keys.is_empty()
                && binding.when.holds(&now)
                && (binding.when != When::Dependency || now.has_dependency)
        })
    }

    /// Every binding the session can use (read-only sessions have no changing ones).
    pub fn help(&self, now: KeyContext) -> impl Iterator<Item = &Binding> {
        let read_only = now.read_only;
        self.bindings.iter().filter(move |binding| {
            let changing = matches!(
                binding.when,
                When::Changing | When::Dependency | When::Load | When::CanPickCase
            );
            let usable = !(read_only && changing) && (binding.when != When::Load || now.has_load);
            usable && !binding.keys.is_empty()
        })
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
