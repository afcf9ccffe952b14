//! Cores in use from the engine's cumulative CPU counters.

use std::time::Instant;

use bollard::models::ContainerStatsResponse;

/// A CPU counter reading, kept between polls because one-shot stats carry no `precpu_stats`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSample {
    total_usage_ns: u64,
    /// The engine's `read` time, in ns since the epoch, when it gave a parseable one.
    read_ns: Option<i64>,
    /// Our clock when the answer came, for engines without a usable `read`.
    received: Instant,
}

/// The container's cumulative CPU time from one stats answer, if it has one.
pub(super) fn cpu_sample(stats: &ContainerStatsResponse, received: Instant) -> Option<CpuSample> {
    let total_usage_ns = stats.cpu_stats.as_ref()?.cpu_usage.as_ref()?.total_usage?;
    Some(CpuSample {
        total_usage_ns,
        read_ns: stats.read.as_deref().and_then(parse_engine_time),
        received,
    })
}

/// Cores over the interval the engine itself measured (`precpu_stats` to `cpu_stats`).
pub(super) fn cores_from_precpu(stats: &ContainerStatsResponse) -> Option<f64> {
    let before = stats
        .precpu_stats
        .as_ref()?
        .cpu_usage
        .as_ref()?
        .total_usage
        .filter(|ns| *ns > 0)?;
    let after = stats.cpu_stats.as_ref()?.cpu_usage.as_ref()?.total_usage?;
    let wall =
        parse_engine_time(stats.read.as_deref()?)? - parse_engine_time(stats.preread.as_deref()?)?;
    cores(after.checked_sub(before)?, u64::try_from(wall).ok()?)
}

/// Cores between two samples: by the engine's timestamps if both have one, else by our clock.
/// None when the counter went back (the container restarted) or the interval is too short.
pub(super) fn cores_between(previous: &CpuSample, current: &CpuSample) -> Option<f64> {
    let used = current
        .total_usage_ns
        .checked_sub(previous.total_usage_ns)?;
    let wall_ns = match (previous.read_ns, current.read_ns) {
        (Some(before), Some(after)) if after > before => u64::try_from(after - before).ok()?,
        _ => u64::try_from(
            current
                .received
                .checked_duration_since(previous.received)?
                .as_nanos(),
        )
        .ok()?,
    };
    cores(used, wall_ns)
}

fn cores(used_ns: u64, wall_ns: u64) -> Option<f64> {
    // Under 10 ms the clocks' jitter outweighs the measurement.
    (wall_ns >= 10_000_000).then(|| used_ns as f64 / wall_ns as f64)
}

/// An RFC 3339 time in ns since the epoch; None for the zero time (`0001-01-01...`).
fn parse_engine_time(text: &str) -> Option<i64> {
    if text.starts_with("0001-") {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()?
        .timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sample(total_usage_ns: u64, read: &str, received: Instant) -> CpuSample {
        CpuSample {
            total_usage_ns,
            read_ns: parse_engine_time(read),
            received,
        }
    }

    #[test]
    fn cores_are_cpu_time_over_wall_time_and_none_after_a_restart() {
        let now = Instant::now();
        let before = sample(1_000_000_000, "2026-01-01T00:00:00Z", now);
        let after = sample(2_500_000_000, "2026-01-01T00:00:01.000000000Z", now);
        assert_eq!(cores_between(&before, &after), Some(1.5));
        let restarted = sample(10_000, "2026-01-01T00:00:02Z", now);
        assert_eq!(cores_between(&after, &restarted), None);
        // No engine time: our own clock.
        let later = Instant::now() + Duration::from_millis(500);
        let untimed = |total, received| CpuSample {
            total_usage_ns: total,
            read_ns: None,
            received,
        };
        let cores = cores_between(&untimed(0, now), &untimed(250_000_000, later));
        assert!(cores.is_some_and(|c| (c - 0.5).abs() < 0.01), "{cores:?}");
        assert_eq!(parse_engine_time("0001-01-01T00:00:00Z"), None);
    }
}
