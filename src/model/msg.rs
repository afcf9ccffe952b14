//! What goes into [`super::update`] and what comes out of it.

use std::path::PathBuf;

use serde_json::Value;

use super::keys::Action;
use crate::actions::ContainerAction;
use crate::drill::case::LoadSpec;
use crate::drill::record::SessionRecord;
use crate::fincore::presets::Preset;
use crate::load::LoadSnapshot;
use crate::sources::Update;

/// Everything that changes the model: what the user asked for, what a source said, the
/// clock, and what the effects runner reports back.
#[derive(Debug, Clone)]
pub enum Msg {
    /// Resolved from a key press by the key table.
    Action(Action),
    Source(Update),
    /// Once a second: drills count down, the load's client-side figures refresh.
    Tick {
        load: Option<Box<LoadSnapshot>>,
    },
    /// The background load was changed (by a key or a drill); what it runs now.
    LoadChanged {
        rate: f64,
        profile: String,
        /// True when the participant asked for it (a drill records it as an action).
        by_user: bool,
    },
    /// No background load any more.
    LoadStopped,
    /// The controller could not take another request right now.
    RequestRefused,
    /// A session record could not be written.
    RecordNotSaved {
        reason: String,
    },
    /// The loop is up: offer an unfinished drill, or start the one asked for.
    Started,
    /// The load the case asks for cannot be run.
    DrillLoadFailed {
        reason: String,
    },
}

/// What the model asks the world to do; the app's effects runner carries it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A request to the target (through the controller, one at a time).
    Send(TargetRequest),
    Quit,
    /// Leave once the reset already sent is answered, or after a short while.
    QuitAfterReset,
    Load(LoadChange),
    /// Run the case's load (or, with None, go back to the load from before the drill).
    DrillLoad(Option<LoadSpec>),
    /// The target is gameday's own sandbox (embedded or not), whose control endpoints do not
    /// wait for its workers: a drill's load need not be held to a few requests in flight.
    OwnSandbox,
    /// Write a drill's record, atomically, off the event loop.
    SaveRecord {
        data_dir: PathBuf,
        record: Box<SessionRecord>,
    },
    /// Hold (true) or go on with the replay.
    PauseReplay(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadChange {
    Faster,
    Slower,
    NextProfile,
}

/// Something the user (or a drill) asks of the target.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetRequest {
    Preset(Preset),
    /// Knobs with values and a time to live, from the injection panel or a case.
    Custom {
        knobs: Vec<(String, Value)>,
        ttl_s: Option<u64>,
    },
    Reset,
    Container(ContainerAction),
    /// The payment provider's knobs with values (`POST /api/failures` on the provider).
    ProviderFailures {
        knobs: Vec<(String, Value)>,
    },
    /// Every knob of the provider back to 0 (`POST /api/reset` on the provider).
    ProviderReset,
    /// A partial body for the target's `POST /api/patterns`: each pattern an object of some of
    /// its fields.
    Patterns {
        body: Value,
    },
}

impl TargetRequest {
    /// What is being done, while it is in flight.
    pub fn describe(&self) -> String {
        match self {
            TargetRequest::Preset(preset) => format!("inject {}", preset.label()),
            TargetRequest::Custom { .. } => "set failures".to_string(),
            TargetRequest::Reset => "reset failures".to_string(),
            TargetRequest::Container(action) => action.name().to_string(),
            TargetRequest::ProviderFailures { .. } => "set provider failures".to_string(),
            TargetRequest::ProviderReset => "reset the provider".to_string(),
            TargetRequest::Patterns { .. } => "switch patterns".to_string(),
        }
    }
}
