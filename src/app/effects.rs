//! What the loop does beyond the screen: requests to the controller, the load generator (the
//! background load and a drill's own), starting and resuming drills, and quitting.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::action::{Effect, LoadChange};
use super::control::Command;
use super::drill::{DrillRequest, DrillSession, load_plan};
use super::modal::Modal;
use super::state::{AppState, LoadStatus};
use crate::drill::record::{SessionRecord, latest_unfinished, write_record};
use crate::drill::{Case, PhaseMachine};
use crate::load::{self, LoadHandle, LoadPlan, Mix, Profile, RetryPolicy};
use crate::sources::LogLevel;

/// Each `+`/`-` changes the load rate by this factor.
const LOAD_STEP: f64 = 1.5;
const MAX_LOAD_RATE: f64 = 2000.0;

pub enum Flow {
    Continue,
    Quit,
    /// A reset is on its way: quit when it is answered, or after a while.
    QuitAfterReset,
}

pub struct LoopContext {
    pub commands: mpsc::Sender<Command>,
    pub load: Option<LoadHandle>,
    /// The background load (rate, profile) from before a drill took the load over; the outer
    /// None means no drill has.
    pub background: Option<Option<(f64, Profile)>>,
    pub api_url: String,
    pub data_dir: PathBuf,
    /// The drill asked for on the command line, started once any resume question is answered.
    pub requested: Option<DrillRequest>,
    pub resume_offer: Option<(PathBuf, SessionRecord)>,
}

impl LoopContext {
    pub fn carry_out(&mut self, effect: Effect, state: &mut AppState) -> Flow {
        match effect {
            Effect::Send(command) => self.send(state, command),
            Effect::Quit => return Flow::Quit,
            Effect::ResetThenQuit => {
                let Effect::Send(reset) = state.sending(Command::Reset) else {
                    return Flow::Quit;
                };
                self.send(state, reset);
                return Flow::QuitAfterReset;
            }
            Effect::Load(change) => self.change_load(state, change),
            Effect::DrillLoad(Some(spec)) => {
                if self.background.is_none() {
                    self.background = Some(self.load.as_ref().map(|l| (l.rate(), l.profile())));
                }
                match load_plan(&spec) {
                    Ok((profile, rate)) => self.restart_load(profile, rate, spec.mix.clone()),
                    Err(err) => state.push_log(
                        state.now,
                        LogLevel::Error,
                        format!("gameday: the case's load: {err}"),
                    ),
                }
                self.show_load(state);
            }
            Effect::DrillLoad(None) => {
                if let Some(background) = self.background.take() {
                    match background {
                        Some((rate, profile)) => self.restart_load(profile, rate, Mix::default()),
                        None => {
                            if let Some(load) = self.load.take() {
                                load.stop();
                            }
                        }
                    }
                }
                self.show_load(state);
            }
            Effect::StartDrill(index) => {
                if let Some(case) = state.cases.get(index).cloned() {
                    let request = DrillRequest {
                        case,
                        blind: false,
                        manual_inject: false,
                        diagnoses: Vec::new(),
                    };
                    self.start_drill(request, state);
                }
            }
            Effect::Resume(resume) => self.answer_resume(resume, state),
        }
        Flow::Continue
    }

    fn send(&self, state: &mut AppState, command: Command) {
        if self.commands.try_send(command).is_err() {
            state.pending = None;
            state.push_log(
                state.now,
                LogLevel::Warn,
                "gameday: still waiting for earlier requests; try again in a moment".to_string(),
            );
        }
    }

    fn change_load(&mut self, state: &mut AppState, change: LoadChange) {
        let Some(load) = &self.load else {
            return;
        };
        match change {
            LoadChange::Faster => {
                load.set_rate((load.rate() * LOAD_STEP).round().clamp(1.0, MAX_LOAD_RATE))
            }
            LoadChange::Slower => load.set_rate((load.rate() / LOAD_STEP).round().max(1.0)),
            LoadChange::NextProfile => load.set_profile(load.profile().next_default()),
        }
        let rate = load.rate();
        self.show_load(state);
        state.with_drill(|drill, now| drill.load_changed(rate, now));
    }

    fn restart_load(&mut self, profile: Profile, rate: f64, mix: Mix) {
        if let Some(load) = self.load.take() {
            load.stop();
        }
        if let Ok(client) = load::http_client() {
            let plan = LoadPlan {
                profile,
                rate,
                duration: None,
                mix,
                retry: RetryPolicy::default(),
            };
            self.load = Some(LoadHandle::start_open(client, self.api_url.clone(), plan));
        }
    }

    pub fn show_load(&self, state: &mut AppState) {
        state.load = self.load.as_ref().map(|load| LoadStatus {
            rate: load.rate(),
            profile: load.profile().to_string(),
            snapshot: None,
        });
    }

    /// At start: an unfinished drill on disk is offered first; otherwise the requested one
    /// starts.
    pub fn offer_resume_or_start(&mut self, state: &mut AppState) {
        if !state.read_only {
            if let Ok(Some((path, record))) = latest_unfinished(&self.data_dir) {
                state.modal = Some(Modal::Resume {
                    case_id: record.case_id.clone(),
                });
                self.resume_offer = Some((path, record));
                return;
            }
        }
        if let Some(request) = self.requested.take() {
            self.start_drill(request, state);
        }
    }

    fn answer_resume(&mut self, resume: bool, state: &mut AppState) {
        let Some((path, record)) = self.resume_offer.take() else {
            return;
        };
        let machine = find_case(&state.cases, &record.case_id)
            .ok_or_else(|| format!("case {} is no longer known", record.case_id))
            .and_then(|case| PhaseMachine::resume(case.clone(), record.drill.clone()));
        match (resume, machine) {
            (true, Ok(machine)) => {
                let request = DrillRequest {
                    case: machine.case().clone(),
                    blind: record.drill.blind,
                    manual_inject: record.drill.manual_inject,
                    diagnoses: Vec::new(),
                };
                let (session, effects) = DrillSession::resumed(
                    machine,
                    request,
                    path,
                    &self.data_dir,
                    &record.target,
                    state.ttl.map(|ttl| ttl.as_secs()),
                );
                state.drill = Some(session);
                state.effects.extend(effects);
                state.with_drill(|_, _| Vec::new());
                // The drill asked for this time waits: one drill at a time.
                self.requested = None;
            }
            (false, Ok(mut machine)) => {
                // Not resumed: recorded as abandoned, so it is not offered again.
                let _ = machine.abandon(state.now, "not resumed");
                let _ = write_record(
                    &self.data_dir,
                    &SessionRecord::from_machine(&machine, &record.target),
                );
                if let Some(request) = self.requested.take() {
                    self.start_drill(request, state);
                }
            }
            (_, Err(err)) => {
                state.push_log(
                    state.now,
                    LogLevel::Error,
                    format!(
                        "gameday: cannot resume the drill in {}: {err}",
                        path.display()
                    ),
                );
                if let Some(request) = self.requested.take() {
                    self.start_drill(request, state);
                }
            }
        }
    }

    fn start_drill(&mut self, request: DrillRequest, state: &mut AppState) {
        let target = if state.target.embedded {
            format!("embedded sandbox {}", state.target.api_url)
        } else {
            state.target.api_url.clone()
        };
        state.drill = Some(DrillSession::new(
            request,
            &self.data_dir,
            &target,
            state.ttl.map(|ttl| ttl.as_secs()),
        ));
        // Known already (a drill picked with `c`): start now; otherwise when it is learnt.
        state.start_drill_if_ready();
    }
}

fn find_case<'a>(cases: &'a [Case], id: &str) -> Option<&'a Case> {
    cases.iter().find(|case| case.id == id)
}
