//! Human-friendly sizes (`512MiB`, `1GiB`) and durations (`30s`, `10m`), parsed strictly so a
//! bad flag or config value says what is expected.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A size in bytes, written with a binary or decimal unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    // Docker's `-m 512m` spelling means binary units.
    ("k", 1 << 10),
    ("m", 1 << 20),
    ("g", 1 << 30),
];

const SIZE_EXPECTED: &str = "a size such as 512MiB, 1GiB, 256m or 1048576 (bytes)";

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim();
        let bad = || format!("`{text}` is not a size: expected {SIZE_EXPECTED}");
        let value: f64 = number.parse().map_err(|_| bad())?;
        let multiplier = if unit.is_empty() {
            1
        } else {
            SIZE_UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, m)| *m)
                .ok_or_else(bad)?
        };
        let bytes = value * multiplier as f64;
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
            return Err(bad());
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        for (name, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if bytes >= size && bytes % size == 0 {
                return write!(f, "{}{name}", bytes / size);
            }
        }
        if bytes >= 1 << 20 {
            write!(f, "{:.1}MiB", bytes as f64 / (1u64 << 20) as f64)
        } else {
            write!(f, "{bytes}B")
        }
    }
}

/// A duration written as a number and a unit: `500ms`, `30s`, `10m`, `1h`, or a bare number of
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

const DURATION_EXPECTED: &str = "a duration such as 500ms, 30s, 10m or 1h";

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let bad = || format!("`{text}` is not a duration: expected {DURATION_EXPECTED}");
        let value: f64 = number.parse().map_err(|_| bad())?;
        let seconds_per_unit = match unit.trim() {
            "ms" => 0.001,
            "" | "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        let seconds = value * seconds_per_unit;
        if !seconds.is_finite() || !(0.0..=365.0 * 86_400.0).contains(&seconds) {
            return Err(bad());
        }
        Ok(HumanDuration(Duration::from_secs_f64(seconds)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let ms = d.as_millis();
        if ms % 1000 != 0 {
            write!(f, "{ms}ms")
        } else {
            let s = d.as_secs();
            if s != 0 && s % 3600 == 0 {
                write!(f, "{}h", s / 3600)
            } else if s != 0 && s % 60 == 0 {
                write!(f, "{}m", s / 60)
            } else {
                write!(f, "{s}s")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!("512MiB".parse::<ByteSize>(), Ok(ByteSize(512 << 20)));
        assert_eq!("1GiB".parse::<ByteSize>(), Ok(ByteSize(1 << 30)));
        assert_eq!("256m".parse::<ByteSize>(), Ok(ByteSize(256 << 20)));
        assert_eq!("1.5GiB".parse::<ByteSize>(), Ok(ByteSize(3 << 29)));
        assert_eq!("450MB".parse::<ByteSize>(), Ok(ByteSize(450_000_000)));
        assert_eq!("4096".parse::<ByteSize>(), Ok(ByteSize(4096)));
    }

    #[test]
    fn bad_sizes_say_what_is_expected() {
        let err = "lots".parse::<ByteSize>().expect_err("not a size");
        assert!(err.contains("expected a size"), "{err}");
        assert!("12XB".parse::<ByteSize>().is_err());
        assert!("-5MiB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn sizes_display_in_their_largest_whole_unit() {
        assert_eq!(ByteSize(512 << 20).to_string(), "512MiB");
        assert_eq!(ByteSize(1 << 30).to_string(), "1GiB");
        assert_eq!(ByteSize(100).to_string(), "100B");
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(
            "500ms".parse::<HumanDuration>(),
            Ok(HumanDuration(Duration::from_millis(500)))
        );
        assert_eq!(
            "10m".parse::<HumanDuration>(),
            Ok(HumanDuration(Duration::from_secs(600)))
        );
        assert_eq!(
            "45".parse::<HumanDuration>(),
            Ok(HumanDuration(Duration::from_secs(45)))
        );
        let err = "soon".parse::<HumanDuration>().expect_err("not a duration");
        assert!(err.contains("expected a duration"), "{err}");
        assert!("5d".parse::<HumanDuration>().is_err());
    }

    #[test]
    fn durations_display_round_trip() {
        for text in ["500ms", "30s", "10m", "1h", "0s"] {
            let parsed: HumanDuration = text.parse().expect("valid duration");
            assert_eq!(parsed.to_string(), text);
        }
    }
}
