//! Figures as people read them: milliseconds, percentages, sizes, ages.

/// Seconds as milliseconds with sensible precision: `0.8 ms`, `45 ms`, `2.31 s`.
pub fn latency(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{seconds:.2} s")
    }
}

pub fn rate(per_second: f64) -> String {
    if per_second < 10.0 {
        format!("{per_second:.1}")
    } else {
        format!("{per_second:.0}")
    }
}

/// A ratio 0..=1 as a percentage.
pub fn percent(ratio: f64) -> String {
    let percent = ratio * 100.0;
    if percent > 0.0 && percent < 10.0 {
        format!("{percent:.1} %")
    } else {
        format!("{percent:.0} %")
    }
}

pub fn bytes(bytes: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024.0 * MIB {
        format!("{:.2} GiB", bytes / (1024.0 * MIB))
    } else {
        format!("{:.0} MiB", bytes / MIB)
    }
}

/// A duration in seconds as `45s`, `3m05s`, `1h02m`.
pub fn age(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60)
    }
}

/// Wall-clock time of day (UTC offset of the machine is not known without a tz database, so
/// the time is UTC and says so).
pub fn clock(at: f64) -> String {
    let seconds = at.max(0.0) as i64;
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|time| time.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "--:--:--".to_string())
}

/// At most `max` characters, with `…` where it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_naturally() {
        assert_eq!(latency(0.0008), "0.8 ms");
        assert_eq!(latency(0.045), "45 ms");
        assert_eq!(latency(2.3111), "2.31 s");
        assert_eq!(percent(0.032), "3.2 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.3), "30 %");
        assert_eq!(bytes(512.0 * 1048576.0), "512 MiB");
        assert_eq!(age(185.0), "3m05s");
        assert_eq!(age(3720.0), "1h02m");
        assert_eq!(rate(19.96), "20");
        assert_eq!(clock(3661.0), "01:01:01");
        assert_eq!(shorten("connection refused", 10), "connectio…");
        assert_eq!(shorten("short", 10), "short");
    }
}
