//! Polls Docker for the dashboard: memory, limit, restarts and CPU of the app container (every
//! replica added up), its state changes, and the new lines of its log.

use super::{ContainerSnapshot, ContainerStates, DockerSource, DockerTarget, RestartTally};
use crate::signals::{Signal, UnixSeconds, now_unix};
use crate::sources::fincore_log::parse_log_line;
use crate::sources::poller::{Poller, SourceError, send};
use crate::sources::{LogLevel, LogLine, SourceKind, Update, UpdateSender};

/// Log lines read at most per poll.
const LOG_LINES_PER_POLL: usize = 200;
/// How far back the log tail starts at the first poll.
const LOG_LOOKBACK_S: i64 = 60;

pub struct DockerPoller {
    target: DockerTarget,
    /// None until connected, and again after a failed poll: the engine may have restarted.
    engine: Option<DockerSource>,
    restarts: RestartTally,
    states: ContainerStates,
    /// The log tail continues from here (unix seconds).
    log_since: i64,
}

impl DockerPoller {
    pub fn new(target: DockerTarget) -> DockerPoller {
        DockerPoller {
            target,
            engine: None,
            restarts: RestartTally::default(),
            states: ContainerStates::default(),
            log_since: now_unix() as i64 - LOG_LOOKBACK_S,
        }
    }

    /// The watched containers, connecting first if need be.
    async fn snapshots(&mut self) -> Result<Vec<ContainerSnapshot>, SourceError> {
        let engine = match &mut self.engine {
            Some(engine) => engine,
            None => self
                .engine
                .insert(DockerSource::connect(&self.target).await?),
        };
        let snapshots = match engine.poll().await {
            Ok(snapshots) => snapshots,
            Err(reason) => {
                self.engine = None;
                return Err(SourceError::Failed(reason));
            }
        };
        if snapshots.is_empty() {
            return Err(SourceError::Failed(match &self.target.container {
                Some(name) => format!("no container named {name}"),
                None => "no container labelled com.docker.compose.service=app".to_string(),
            }));
        }
        Ok(snapshots)
    }

    /// New lines of the first container's log since the last poll that read them. A failed
    /// read is tried again from the same point next poll.
    async fn send_log_tail(
        &mut self,
        container_id: &str,
        at: UnixSeconds,
        updates: &UpdateSender,
    ) -> Result<(), SourceError> {
        let Some(engine) = self.engine.as_mut() else {
            return Ok(());
        };
        let Ok(lines) = engine
            .log_tail(container_id, self.log_since, LOG_LINES_PER_POLL)
            .await
        else {
            return Ok(());
        };
        self.log_since = at as i64 + 1;
        let lines: Vec<LogLine> = lines.iter().map(|line| parse_log_line(line)).collect();
        if lines.is_empty() {
            return Ok(());
        }
        send(updates, Update::Logs(lines)).await
    }
}

impl Poller for DockerPoller {
    const KIND: SourceKind = SourceKind::Docker;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let snapshots = self.snapshots().await?;
        let at = now_unix();
        for change in self.states.observe(&snapshots) {
            let line = LogLine {
                at,
                level: LogLevel::Warn,
                text: format!("gameday: {change}"),
            };
            send(updates, Update::Logs(vec![line])).await?;
            send(updates, Update::Lifecycle { event: change }).await?;
        }
        let restarts = self.restarts.observe(&snapshots);
        let mut values = signals(&snapshots, restarts);
        // Whole numbers from the engine cannot be negative; a NaN from a division can.
        crate::sources::plausible::keep_plausible(&mut values);
        let update = Update::Signals {
            source: SourceKind::Docker,
            at,
            values,
        };
        send(updates, update).await?;
        if let Some(first) = snapshots.first() {
            self.send_log_tail(&first.id, at, updates).await?;
        }
        Ok(())
    }
}

/// Memory, limit and CPU summed over the replicas that report them, and the restarts.
fn signals(snapshots: &[ContainerSnapshot], restarts: u64) -> Vec<(Signal, f64)> {
    let sum = |figure: fn(&ContainerSnapshot) -> Option<f64>| {
        let values: Vec<f64> = snapshots.iter().filter_map(figure).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>())
    };
    [
        (
            Signal::MemoryBytes,
            sum(|s| s.memory_usage_bytes.map(|v| v as f64)),
        ),
        (
            Signal::MemoryLimitBytes,
            sum(|s| s.memory_limit_bytes.map(|v| v as f64)),
        ),
        (Signal::Restarts, Some(restarts as f64)),
        (Signal::CpuCores, sum(|s| s.cpu_cores)),
    ]
    .into_iter()
    .filter_map(|(signal, value)| Some((signal, value?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(id: &str, memory: Option<u64>, cpu: Option<f64>) -> ContainerSnapshot {
        ContainerSnapshot {
            id: id.to_string(),
            name: id.to_string(),
            state: "running".to_string(),
            restart_count: 0,
            oom_killed: false,
            exit_code: None,
            started_at: None,
            memory_usage_bytes: memory,
            memory_limit_bytes: memory.map(|_| 100),
            cpu_cores: cpu,
        }
    }

    #[test]
    fn replicas_add_up_and_a_figure_no_replica_gives_is_left_out() {
        let snapshots = [
            replica("a", Some(10), None),
            replica("b", Some(5), None),
            replica("c", None, None),
        ];
        assert_eq!(
            signals(&snapshots, 2),
            [
                (Signal::MemoryBytes, 15.0),
                (Signal::MemoryLimitBytes, 200.0),
                (Signal::Restarts, 2.0),
            ]
        );
        let busy = [
            replica("a", None, Some(0.5)),
            replica("b", None, Some(0.25)),
        ];
        assert_eq!(
            signals(&busy, 0),
            [(Signal::Restarts, 0.0), (Signal::CpuCores, 0.75)]
        );
    }
}
