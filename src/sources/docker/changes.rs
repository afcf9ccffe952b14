//! What successive snapshots say happened: restarts counted across resets, and each
//! container's state changes in words.

use std::collections::HashMap;

use super::ContainerSnapshot;

/// Restarts seen over time, summed over every replica. podman resets a container's
/// `RestartCount` on a manual restart, and a manual restart or a start after a stop does not
/// count there at all, so each container's count and start time are followed and the total
/// only grows: what a participant wants to see is "how often did it come back".
#[derive(Debug, Default)]
pub struct RestartTally {
    last: HashMap<String, (u64, Option<String>)>,
    total: u64,
}

impl RestartTally {
    pub fn observe(&mut self, snapshots: &[ContainerSnapshot]) -> u64 {
        for snapshot in snapshots {
            let count = snapshot.restart_count;
            let started = snapshot.started_at.clone();
            let added = match self
                .last
                .insert(snapshot.id.clone(), (count, started.clone()))
            {
                Some((last, last_started)) => {
                    // Reset to zero and counting again: what it counts now is new.
                    let by_count = if count >= last { count - last } else { count };
                    let started_again =
                        started.is_some() && last_started.is_some() && started != last_started;
                    by_count.max(u64::from(started_again))
                }
                // First sight: restarts before we watched.
                None => count,
            };
            self.total += added;
        }
        self.total
    }
}

/// Each container's last state, to say when one changes: "fincore-app exited (137, killed
/// for memory)", "fincore-app running (restart 2)", "fincore-app restarted". The first sight
/// of a container is not a change.
#[derive(Debug, Default)]
pub struct ContainerStates {
    last: HashMap<String, (String, u64, Option<String>)>,
}

impl ContainerStates {
    pub fn observe(&mut self, snapshots: &[ContainerSnapshot]) -> Vec<String> {
        let mut changes = Vec::new();
        for snapshot in snapshots {
            let now = (
                snapshot.state.clone(),
                snapshot.restart_count,
                snapshot.started_at.clone(),
            );
            let before = self.last.insert(snapshot.id.clone(), now.clone());
            let Some(before) = before else { continue };
            if before == now {
                continue;
            }
            let mut text = format!("container {} {}", snapshot.name, snapshot.state);
            if snapshot.state != "running" {
                if let Some(code) = snapshot.exit_code {
                    text.push_str(&format!(" (exit {code})"));
                }
                if snapshot.oom_killed || snapshot.exit_code == Some(137) {
                    text.push_str(", killed for memory");
                }
            } else if now.1 > before.1 {
                text.push_str(&format!(" again (restart {})", now.1));
            } else if before.0 == "running" && now.2 != before.2 {
                text = format!("container {} restarted", snapshot.name);
            }
            changes.push(text);
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(id: &str, restart_count: u64) -> ContainerSnapshot {
        ContainerSnapshot {
            id: id.to_string(),
            name: id.to_string(),
            state: "running".to_string(),
            restart_count,
            oom_killed: false,
            exit_code: None,
            started_at: None,
            memory_usage_bytes: None,
            memory_limit_bytes: None,
            cpu_cores: None,
        }
    }

    #[test]
    fn state_changes_are_told_once_with_their_cause() {
        let mut states = ContainerStates::default();
        assert!(states.observe(&[snapshot("a", 0)]).is_empty());
        assert!(states.observe(&[snapshot("a", 0)]).is_empty());
        let mut dead = snapshot("a", 0);
        dead.state = "exited".to_string();
        dead.exit_code = Some(137);
        assert_eq!(
            states.observe(&[dead]),
            ["container a exited (exit 137), killed for memory"]
        );
        assert_eq!(
            states.observe(&[snapshot("a", 1)]),
            ["container a running again (restart 1)"]
        );
        // A restart between two polls shows as the count going up.
        assert_eq!(
            states.observe(&[snapshot("a", 2)]),
            ["container a running again (restart 2)"]
        );
    }

    #[test]
    fn the_restart_tally_only_grows_across_resets_and_replicas() {
        let mut tally = RestartTally::default();
        assert_eq!(tally.observe(&[snapshot("a", 1), snapshot("b", 0)]), 1);
        assert_eq!(tally.observe(&[snapshot("a", 2), snapshot("b", 0)]), 2);
        // A manual restart under podman sets the count back to 0.
        assert_eq!(tally.observe(&[snapshot("a", 0), snapshot("b", 1)]), 3);
        assert_eq!(tally.observe(&[snapshot("a", 1), snapshot("b", 1)]), 4);
    }

    #[test]
    fn a_new_start_time_counts_once_even_when_the_engine_does_not_count_it() {
        let started = |at: &str, count| ContainerSnapshot {
            started_at: Some(at.to_string()),
            ..snapshot("a", count)
        };
        let mut tally = RestartTally::default();
        let mut states = ContainerStates::default();
        assert_eq!(tally.observe(&[started("t1", 0)]), 0);
        assert!(states.observe(&[started("t1", 0)]).is_empty());
        // A manual restart: a new start time, the engine's count unchanged.
        assert_eq!(tally.observe(&[started("t2", 0)]), 1);
        assert_eq!(
            states.observe(&[started("t2", 0)]),
            ["container a restarted"]
        );
        // A restart by the policy moves both: still one restart.
        assert_eq!(tally.observe(&[started("t3", 1)]), 2);
        assert_eq!(tally.observe(&[started("t3", 1)]), 2);
    }
}
