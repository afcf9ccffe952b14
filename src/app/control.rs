//! Carries out what the user asks of the target, one request at a time: failure injections
//! and resets (each read back, so the panel shows what the service has, not what we sent),
//! and container actions (through Docker, or the embedded supervisor). Every request ends in
//! an [`ActionOutcome`] with what was sent and what came back.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use super::control_dependency::ProviderClientCache;
pub use crate::actions::{ActionKind, ActionOutcome, ContainerAction};
use crate::fincore::presets::{Capabilities, prepare};
use crate::fincore::{FailureView, FincoreClient, knob_number, snippet};
use crate::model::TargetRequest;
use crate::sandbox::supervisor::SupervisorCommand;
use crate::signals::now_unix;
use crate::sources::close_watch::{AFTER_CHANGE, CloseWatch};
use crate::sources::docker::{COMPOSE_DB_SERVICE, DockerSource, DockerTarget};
use crate::sources::{Update, UpdateSender};

/// Reads of the failure state after a change on the workshop service, whose workers each keep
/// their own state. Which worker takes a new connection is not fair (the one that has just
/// accepted tends to take the next), so they go several at a time, sixteen in all.
const WORKSHOP_READS: usize = 16;
/// Changes and reads go this many at a time on a target of several workers.
const PARALLEL: usize = 4;
const READ_PAUSE: Duration = Duration::from_millis(40);
/// How many times a change is sent before disagreeing workers are reported instead.
const MAX_SENDS: usize = 8;

/// What is being sent to the failure state.
#[derive(Clone, Copy)]
enum Change<'a> {
    Inject(&'a Value),
    Reset,
}
/// How often to retry learning what the target can take while it is unreachable.
const DISCOVERY_RETRY: Duration = Duration::from_secs(3);

/// Where actions go.
pub struct Controls {
    pub client: FincoreClient,
    pub ttl: Option<Duration>,
    /// The embedded sandbox's supervisor.
    pub supervisor: Option<mpsc::Sender<SupervisorCommand>>,
    /// The engine and the database container (None: the compose service `db`).
    pub docker: Option<(DockerTarget, Option<String>)>,
    /// Told after every failure change, so the metrics are polled closely while it shows.
    pub close_watch: CloseWatch,
    /// The payment provider's control client, for the address the target names.
    pub provider_clients: ProviderClientCache,
}

pub async fn run(
    controls: Controls,
    mut commands: mpsc::Receiver<TargetRequest>,
    updates: UpdateSender,
) {
    let mut capabilities: Option<Capabilities> = None;
    let mut retry = tokio::time::interval(DISCOVERY_RETRY);
    loop {
        tokio::select! {
            _ = retry.tick(), if capabilities.is_none() => {
                if let Ok(found) = controls.client.capabilities().await {
                    let _ = updates.send(Update::Capabilities(found.clone())).await;
                    capabilities = Some(found);
                }
            }
            command = commands.recv() => {
                let Some(command) = command else { return };
                let change = !matches!(command, TargetRequest::Container(_));
                let outcome = controls.carry_out(command, &mut capabilities, &updates).await;
                if change {
                    // From the answer too: a verified change on several workers takes a while.
                    controls.close_watch.watch_for(AFTER_CHANGE);
                }
                let _ = updates.send(Update::Outcome(outcome)).await;
            }
        }
    }
}

impl Controls {
    async fn carry_out(
        &self,
        command: TargetRequest,
        capabilities: &mut Option<Capabilities>,
        updates: &UpdateSender,
    ) -> ActionOutcome {
        if !matches!(command, TargetRequest::Container(_)) {
            self.close_watch.watch_for(AFTER_CHANGE);
        }
        match command {
            TargetRequest::Preset(preset) => {
                let ttl_s = self.ttl.map(|ttl| ttl.as_secs());
                self.inject(&preset.body(), ttl_s, capabilities, updates, None)
                    .await
            }
            TargetRequest::Custom { knobs, ttl_s } => {
                self.inject(&knobs, ttl_s, capabilities, updates, None)
                    .await
            }
            TargetRequest::Reset => self.reset(capabilities, updates).await,
            TargetRequest::Container(action) => self.container(action, capabilities, updates).await,
            TargetRequest::ProviderFailures { knobs } => {
                self.provider_failures(&knobs, updates).await
            }
            TargetRequest::ProviderReset => self.provider_reset(updates).await,
            TargetRequest::Patterns { body } => self.patterns(&body, updates).await,
        }
    }

    async fn learn(
        &self,
        capabilities: &mut Option<Capabilities>,
        updates: &UpdateSender,
    ) -> Result<Capabilities, String> {
        if let Some(known) = capabilities {
            return Ok(known.clone());
        }
        let found = self.client.capabilities().await?;
        let _ = updates.send(Update::Capabilities(found.clone())).await;
        *capabilities = Some(found.clone());
        Ok(found)
    }

    /// `POST /api/failures`. The outcome is the failure change as sent, or `container` when
    /// the embedded sandbox carries out a database stop or start by `db_fail`.
    async fn inject(
        &self,
        knobs: &[(String, Value)],
        ttl_s: Option<u64>,
        capabilities: &mut Option<Capabilities>,
        updates: &UpdateSender,
        container: Option<ContainerAction>,
    ) -> ActionOutcome {
        let kind_of = |body: &Value| match container {
            Some(action) => ActionKind::Container(action),
            None => ActionKind::FailureChange { body: body.clone() },
        };
        let sent_at = now_unix();
        let shown = Value::Object(knobs.iter().cloned().collect());
        let mut outcome = ActionOutcome {
            kind: kind_of(&shown),
            sent_at,
            at: sent_at,
            request: format!("POST /api/failures {shown}"),
            answer: String::new(),
            ok: false,
            notes: Vec::new(),
        };
        let capabilities = match self.learn(capabilities, updates).await {
            Ok(capabilities) => capabilities,
            Err(reason) => {
                outcome.answer = format!("not sent: cannot reach the API ({reason})");
                return outcome;
            }
        };
        let prepared = prepare(knobs, &capabilities, ttl_s);
        outcome.notes = prepared.skipped;
        if prepared.body.is_empty() {
            outcome.answer = "not sent: the target has none of these failures".to_string();
            return outcome;
        }
        let body = Value::Object(prepared.body.clone());
        outcome.request = format!("POST /api/failures {body}");
        outcome.kind = kind_of(&body);
        let expected: Vec<(String, f64)> = prepared
            .body
            .iter()
            .filter(|(name, _)| name.as_str() != crate::knobs::TTL_NAME)
            .map(|(name, value)| (name.clone(), knob_number(value)))
            .collect();
        let change = Change::Inject(&body);
        self.verified(change, &expected, &capabilities, updates, &mut outcome)
            .await;
        outcome
    }

    async fn reset(
        &self,
        capabilities: &mut Option<Capabilities>,
        updates: &UpdateSender,
    ) -> ActionOutcome {
        let sent_at = now_unix();
        let mut outcome = ActionOutcome {
            kind: ActionKind::FailureReset,
            sent_at,
            at: sent_at,
            request: "POST /api/reset".to_string(),
            answer: String::new(),
            ok: false,
            notes: Vec::new(),
        };
        let known = self.learn(capabilities, updates).await.unwrap_or_default();
        // Every knob the service shows must read 0 again.
        let expected: Vec<(String, f64)> = match self.client.failures().await {
            Ok(view) => view
                .knobs
                .iter()
                .map(|(name, _)| (name.clone(), 0.0))
                .collect(),
            Err(_) => crate::knobs::names()
                .map(|name| (name.to_string(), 0.0))
                .collect(),
        };
        self.verified(Change::Reset, &expected, &known, updates, &mut outcome)
            .await;
        outcome
    }

    /// Fills the answer from the service's reply; true when it accepted the change.
    pub(super) fn answered_ok(
        &self,
        answer: Result<(u16, String), String>,
        outcome: &mut ActionOutcome,
    ) -> bool {
        match answer {
            Err(reason) => {
                outcome.answer = reason;
                false
            }
            Ok((status @ (401 | 403), _)) => {
                outcome.ok = false;
                outcome.answer = if self.client.sends_control_token() {
                    format!("{status} the target refused our control token")
                } else {
                    format!("{status} the target wants a control token (--control-token)")
                };
                false
            }
            Ok((status, text)) => {
                outcome.ok = status == 200;
                outcome.answer = format!("{status} {}", answer_summary(&text));
                outcome.ok
            }
        }
    }

    /// Sends a change and reads it back. On a target of several worker processes (anything
    /// but our sandbox) each send and read goes on a new connection, and the change is sent
    /// again until every read shows it, a bounded number of times: one send reaches one worker.
    /// The outcome's time is the first accepted answer for an injection (the fault has begun)
    /// and the verified read for a reset (the fault is gone everywhere).
    async fn verified(
        &self,
        change: Change<'_>,
        expected: &[(String, f64)],
        capabilities: &Capabilities,
        updates: &UpdateSender,
        outcome: &mut ActionOutcome,
    ) {
        let workers_may_differ = !capabilities.sandbox;
        let mut sends = 0;
        let (agreeing, reads) = loop {
            sends += 1;
            let answer = match (change, workers_may_differ) {
                (change, true) => self.send_in_parallel(change).await,
                (Change::Inject(body), false) => self.client.inject(body).await,
                (Change::Reset, false) => self.client.reset().await,
            };
            let answered_at = now_unix();
            if sends == 1 || matches!(change, Change::Reset) {
                outcome.at = answered_at;
            }
            if !self.answered_ok(answer, outcome) {
                if sends > 1 {
                    outcome
                        .notes
                        .push(format!("send {sends} of the change failed"));
                }
                return;
            }
            let (agreeing, reads) = self
                .read_back(expected, workers_may_differ, updates, outcome)
                .await;
            if matches!(change, Change::Reset) && agreeing == reads {
                outcome.at = now_unix();
            }
            if agreeing == reads || !workers_may_differ || sends == MAX_SENDS {
                break (agreeing, reads);
            }
            tokio::time::sleep(READ_PAUSE).await;
        };
        if agreeing == 0 {
            outcome
                .notes
                .push("the state read back does not show the change".to_string());
        } else if agreeing < reads {
            outcome.ok = false;
            outcome.notes.push(format!(
                "the state differs between workers: after {sends} sends, {agreeing} of \
                 {reads} reads show the change; press the key again"
            ));
        } else if sends > 1 {
            outcome.notes.push(format!(
                "verified on every worker: {reads} of {reads} reads after {sends} sends"
            ));
        }
    }

    /// Sends a change on several new connections at once, so that it reaches more than the one
    /// worker that happens to accept (the change is idempotent); the first accepted answer, or
    /// the first answer.
    async fn send_in_parallel(&self, change: Change<'_>) -> Result<(u16, String), String> {
        let answers = futures_util::future::join_all((0..PARALLEL).map(|_| async {
            match change {
                Change::Inject(body) => self.client.inject_on_new_connection(body).await,
                Change::Reset => self.client.reset_on_new_connection().await,
            }
        }))
        .await;
        let accepted = answers
            .iter()
            .position(|answer| matches!(answer, Ok((200, _))))
            .unwrap_or(0);
        answers
            .into_iter()
            .nth(accepted)
            .unwrap_or_else(|| Err("no answer".to_string()))
    }

    /// Reads the failure state back (several times on new connections where workers may
    /// differ); how many reads showed the change, of how many.
    async fn read_back(
        &self,
        expected: &[(String, f64)],
        workers_may_differ: bool,
        updates: &UpdateSender,
        outcome: &mut ActionOutcome,
    ) -> (usize, usize) {
        let reads = if workers_may_differ {
            WORKSHOP_READS
        } else {
            1
        };
        let mut agreeing = 0;
        let mut last: Option<FailureView> = None;
        // Reads at the same moment on new connections: sequential ones tend to land on the
        // worker that has just accepted, concurrent ones spread over the workers.
        let batch = if workers_may_differ { PARALLEL } else { 1 };
        for round in 0..reads.div_ceil(batch) {
            if round > 0 {
                tokio::time::sleep(READ_PAUSE).await;
            }
            let views = futures_util::future::join_all((0..batch).map(|_| async {
                if workers_may_differ {
                    self.client.failures_on_new_connection().await
                } else {
                    self.client.failures().await
                }
            }))
            .await;
            for view in views {
                match view {
                    Ok(view) => {
                        if shows(&view, expected) {
                            agreeing += 1;
                        }
                        last = Some(view);
                    }
                    Err(reason) => outcome.notes.push(format!("read back failed: {reason}")),
                }
            }
        }
        if let Some(view) = last {
            let _ = updates.send(Update::Failures(view)).await;
        }
        (agreeing, reads)
    }

    async fn container(
        &self,
        action: ContainerAction,
        capabilities: &mut Option<Capabilities>,
        updates: &UpdateSender,
    ) -> ActionOutcome {
        if let Some(supervisor) = &self.supervisor {
            // The sandbox's database lives in its process: "down" is its db_fail failure.
            let db_fail = |down: bool| vec![("db_fail".to_string(), Value::Bool(down))];
            return match action {
                ContainerAction::StopDb | ContainerAction::StartDb => {
                    let down = action == ContainerAction::StopDb;
                    let ttl_s = self.ttl.map(|ttl| ttl.as_secs());
                    self.inject(&db_fail(down), ttl_s, capabilities, updates, Some(action))
                        .await
                }
                _ => supervise(supervisor, action).await,
            };
        }
        let sent_at = now_unix();
        let mut outcome = ActionOutcome {
            kind: ActionKind::Container(action),
            sent_at,
            at: sent_at,
            request: format!("docker: {}", action.name()),
            answer: String::new(),
            ok: false,
            notes: Vec::new(),
        };
        let Some((target, db_container)) = &self.docker else {
            outcome.answer =
                "not sent: container actions need Docker (start with --docker)".to_string();
            return outcome;
        };
        match docker_action(target, db_container.as_deref(), action).await {
            Ok((names, took)) => {
                outcome.ok = true;
                outcome.request = format!("docker: {} {}", action.name(), names.join(", "));
                outcome.answer = format!("done in {:.1} s", took.as_secs_f64());
            }
            Err(reason) => outcome.answer = reason,
        }
        outcome.at = now_unix();
        outcome
    }
}

async fn supervise(
    supervisor: &mpsc::Sender<SupervisorCommand>,
    action: ContainerAction,
) -> ActionOutcome {
    let command = match action {
        ContainerAction::StopApp => SupervisorCommand::Stop,
        ContainerAction::StartApp => SupervisorCommand::Start,
        _ => SupervisorCommand::Restart,
    };
    let sent_at = now_unix();
    let sent = supervisor.send(command).await;
    ActionOutcome {
        kind: ActionKind::Container(action),
        sent_at,
        at: now_unix(),
        request: format!("sandbox: {}", action.name()),
        answer: match sent {
            Ok(()) => "asked the supervisor".to_string(),
            Err(_) => "the supervisor has stopped".to_string(),
        },
        ok: sent.is_ok(),
        notes: Vec::new(),
    }
}

/// Runs one action on every container it concerns; their names and how long it took.
async fn docker_action(
    target: &DockerTarget,
    db_container: Option<&str>,
    action: ContainerAction,
) -> Result<(Vec<String>, Duration), String> {
    let docker = DockerSource::connect(target).await?;
    let names = match (action, db_container) {
        (ContainerAction::StopDb | ContainerAction::StartDb, Some(name)) => vec![name.to_string()],
        (ContainerAction::StopDb | ContainerAction::StartDb, None) => {
            docker.service_containers(COMPOSE_DB_SERVICE).await?
        }
        _ => docker.app_containers().await?,
    };
    if names.is_empty() {
        return Err(match action {
            ContainerAction::StopDb | ContainerAction::StartDb => format!(
                "no database container: none labelled com.docker.compose.service={COMPOSE_DB_SERVICE}; \
                 name it with --db-container"
            ),
            _ => "no app container found; name it with --container".to_string(),
        });
    }
    let started = Instant::now();
    for name in &names {
        match action {
            ContainerAction::RestartApp => docker.restart(name).await?,
            ContainerAction::StopApp | ContainerAction::StopDb => docker.stop(name).await?,
            ContainerAction::StartApp | ContainerAction::StartDb => docker.start(name).await?,
        }
    }
    Ok((names, started.elapsed()))
}

/// Whether a read shows every expected knob at its value (booleans as 0/1).
fn shows(view: &FailureView, expected: &[(String, f64)]) -> bool {
    expected
        .iter()
        .all(|(knob, value)| view.value(knob).is_some_and(|seen| seen == *value))
}

/// The useful part of an answer: `status` or `error` of a JSON body, else its first words.
pub(super) fn answer_summary(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(body) => body
            .get("error")
            .or_else(|| body.get("status"))
            .and_then(Value::as_str)
            .map_or_else(|| snippet(text), str::to_string),
        Err(_) => snippet(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_summarised_by_their_status_or_error() {
        assert_eq!(
            answer_summary(r#"{"status":"updated","config":{}}"#),
            "updated"
        );
        assert_eq!(
            answer_summary(r#"{"error":"latency_ms: expected an integer"}"#),
            "latency_ms: expected an integer"
        );
        assert!(answer_summary("<html><title>415</title></html>").contains("415"));
    }

    #[test]
    fn a_read_shows_a_change_only_when_every_knob_matches() {
        let view = FailureView {
            knobs: vec![
                ("latency_ms".to_string(), 2000.0),
                ("db_slow".to_string(), 1.0),
            ],
            ..FailureView::default()
        };
        let expected = |pairs: &[(&str, Value)]| -> Vec<(String, f64)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), knob_number(v)))
                .collect()
        };
        assert!(shows(
            &view,
            &expected(&[
                ("latency_ms", Value::from(2000)),
                ("db_slow", Value::Bool(true))
            ])
        ));
        assert!(!shows(
            &view,
            &expected(&[("latency_ms", Value::from(800))])
        ));
        assert!(!shows(&view, &expected(&[("error_rate", Value::from(0))])));
    }
}
