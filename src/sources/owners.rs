//! Which source's figure of each signal is shown. Where two sources give the same signal, the
//! more direct one wins (Docker over the process over the API's own metrics), so two sources
//! never draw one line.

use super::SourceKind;
use crate::signals::Signal;

/// Signals the memory source (Docker or the sandbox's process) gives.
const MEMORY_SIGNALS: [Signal; 4] = [
    Signal::MemoryBytes,
    Signal::MemoryLimitBytes,
    Signal::Restarts,
    Signal::CpuCores,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalOwners {
    metrics_source: SourceKind,
    memory_source: Option<SourceKind>,
}

impl SignalOwners {
    /// Every signal from `metrics_source` (Prometheus or the scrape), except `up`, which only
    /// the API itself can say, and memory, limit, restarts and CPU, which come from
    /// `memory_source` where there is one.
    pub fn new(metrics_source: SourceKind, memory_source: Option<SourceKind>) -> SignalOwners {
        SignalOwners {
            metrics_source,
            memory_source,
        }
    }

    /// The source whose figure of `signal` is shown.
    pub fn owner(&self, signal: Signal) -> SourceKind {
        match (signal, self.memory_source) {
            (Signal::Up, _) => SourceKind::Api,
            (signal, Some(memory)) if MEMORY_SIGNALS.contains(&signal) => memory,
            _ => self.metrics_source,
        }
    }

    /// Whether `source`'s figure of `signal` is the one shown; others are dropped.
    pub fn owns(&self, signal: Signal, source: SourceKind) -> bool {
        self.owner(signal) == source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_comes_from_the_more_direct_source_only() {
        let embedded = SignalOwners::new(SourceKind::Scrape, Some(SourceKind::Process));
        assert!(embedded.owns(Signal::MemoryBytes, SourceKind::Process));
        assert!(!embedded.owns(Signal::MemoryBytes, SourceKind::Scrape));
        assert!(embedded.owns(Signal::Rps, SourceKind::Scrape));
        assert!(!embedded.owns(Signal::Rps, SourceKind::Process));
    }

    #[test]
    fn prometheus_owns_what_docker_does_not_give() {
        let workshop = SignalOwners::new(SourceKind::Prometheus, Some(SourceKind::Docker));
        assert!(workshop.owns(Signal::Rps, SourceKind::Prometheus));
        for signal in MEMORY_SIGNALS {
            assert!(workshop.owns(signal, SourceKind::Docker), "{signal:?}");
            assert!(!workshop.owns(signal, SourceKind::Prometheus), "{signal:?}");
        }
    }

    #[test]
    fn without_a_memory_source_the_metrics_source_gives_memory() {
        let owners = SignalOwners::new(SourceKind::Prometheus, None);
        assert_eq!(owners.owner(Signal::MemoryBytes), SourceKind::Prometheus);
    }

    #[test]
    fn only_the_api_says_whether_it_answers() {
        for metrics in [SourceKind::Scrape, SourceKind::Prometheus] {
            let owners = SignalOwners::new(metrics, Some(SourceKind::Docker));
            assert!(owners.owns(Signal::Up, SourceKind::Api));
            assert!(!owners.owns(Signal::Up, metrics));
        }
    }
}
