//! Load profiles: how the request rate changes over a run, as a multiple of a base rate the
//! dashboard can still turn up or down. Written `name` or `name:key=value,...`, e.g.
//! `ramp:to=5x,over=30s`, `spike:factor=5x,at=10s,for=5s`, `burst:size=100,every=10s`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::units::HumanDuration;

/// The most requests one burst may hold: the in-flight limit, past which they would be dropped.
pub const MAX_BURST: u32 = super::MAX_IN_FLIGHT as u32;
/// The highest multiple of the base rate a ramp or a spike may reach.
const MAX_FACTOR: f64 = 1000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    /// The base rate all along.
    Steady,
    /// From the base rate to `to` times it, linearly over `over`, then held there.
    Ramp { to: f64, over: Duration },
    /// The base rate, then `factor` times it from `at` for `lasting`, then the base rate again.
    Spike {
        factor: f64,
        at: Duration,
        lasting: Duration,
    },
    /// The base rate plus `size` requests at once (like an import) at the start and every `every`.
    Burst { size: u32, every: Duration },
    /// The base rate, with clients retrying failures as the run's `RetryPolicy` says.
    RetryStorm,
}

impl Profile {
    /// Profile names, in the order the dashboard cycles through them.
    pub const NAMES: [&'static str; 5] = ["steady", "ramp", "spike", "burst", "retry-storm"];

    /// One of each profile with its default parameters, in the order of [`Profile::NAMES`].
    pub fn defaults() -> [Profile; 5] {
        [
            Profile::Steady,
            Profile::DEFAULT_RAMP,
            Profile::DEFAULT_SPIKE,
            Profile::DEFAULT_BURST,
            Profile::RetryStorm,
        ]
    }

    pub const DEFAULT_RAMP: Profile = Profile::Ramp {
        to: 5.0,
        over: Duration::from_secs(30),
    };
    pub const DEFAULT_SPIKE: Profile = Profile::Spike {
        factor: 5.0,
        at: Duration::from_secs(10),
        lasting: Duration::from_secs(5),
    };
    pub const DEFAULT_BURST: Profile = Profile::Burst {
        size: 100,
        every: Duration::from_secs(10),
    };

    pub fn name(&self) -> &'static str {
        match self {
            Profile::Steady => "steady",
            Profile::Ramp { .. } => "ramp",
            Profile::Spike { .. } => "spike",
            Profile::Burst { .. } => "burst",
            Profile::RetryStorm => "retry-storm",
        }
    }

    /// The next profile in [`Profile::NAMES`] order, with its defaults (the dashboard's `p`).
    pub fn next_default(&self) -> Profile {
        let defaults = Profile::defaults();
        let index = Profile::NAMES
            .iter()
            .position(|name| *name == self.name())
            .unwrap_or(0);
        defaults[(index + 1) % defaults.len()]
    }

    /// The scheduled rate (requests/s, bursts aside) `since_start` into the profile.
    pub fn rate_at(&self, base: f64, since_start: Duration) -> f64 {
        let base = base.max(0.0);
        match *self {
            Profile::Steady | Profile::Burst { .. } | Profile::RetryStorm => base,
            Profile::Ramp { to, over } => {
                let done = if over.is_zero() {
                    1.0
                } else {
                    (since_start.as_secs_f64() / over.as_secs_f64()).min(1.0)
                };
                base * (1.0 + (to - 1.0) * done)
            }
            Profile::Spike {
                factor,
                at,
                lasting,
            } => {
                if since_start >= at && since_start < at + lasting {
                    base * factor
                } else {
                    base
                }
            }
        }
    }

    /// When the `index`-th burst (from 0) is due, from the profile's start; `None` if this
    /// profile has no bursts.
    pub fn burst_at(&self, index: u32) -> Option<(Duration, u32)> {
        match *self {
            Profile::Burst { size, every } => Some((every * index, size)),
            _ => None,
        }
    }

    pub fn retries(&self) -> bool {
        matches!(self, Profile::RetryStorm)
    }

    /// Checks the parameters, so a profile from a flag or a key says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let factor_ok = |f: f64| f.is_finite() && f > 0.0 && f <= MAX_FACTOR;
        match *self {
            Profile::Ramp { to, over } => {
                if !factor_ok(to) {
                    return Err(format!(
                        "ramp to {to}x: expected a multiple of the base rate above 0 and at most {MAX_FACTOR}"
                    ));
                }
                if over.is_zero() {
                    return Err("ramp over 0s: expected a duration above 0".to_string());
                }
            }
            Profile::Spike {
                factor, lasting, ..
            } => {
                if !factor_ok(factor) {
                    return Err(format!(
                        "spike factor {factor}x: expected a multiple of the base rate above 0 and at most {MAX_FACTOR}"
                    ));
                }
                if lasting.is_zero() {
                    return Err("spike for 0s: expected a duration above 0".to_string());
                }
            }
            Profile::Burst { size, every } => {
                if size == 0 || size > MAX_BURST {
                    return Err(format!(
                        "burst size {size}: expected 1 to {MAX_BURST} requests (the in-flight limit)"
                    ));
                }
                if every < Duration::from_millis(100) {
                    return Err(format!(
                        "burst every {}: expected at least 100ms",
                        HumanDuration(every)
                    ));
                }
            }
            Profile::Steady | Profile::RetryStorm => {}
        }
        Ok(())
    }
}

impl fmt::Display for Profile {
    /// The same syntax `FromStr` reads, with every parameter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Profile::Steady | Profile::RetryStorm => f.write_str(self.name()),
            Profile::Ramp { to, over } => write!(f, "ramp:to={to}x,over={}", HumanDuration(over)),
            Profile::Spike {
                factor,
                at,
                lasting,
            } => write!(
                f,
                "spike:factor={factor}x,at={},for={}",
                HumanDuration(at),
                HumanDuration(lasting)
            ),
            Profile::Burst { size, every } => {
                write!(f, "burst:size={size},every={}", HumanDuration(every))
            }
        }
    }
}

const PROFILE_EXPECTED: &str = "expected steady, ramp[:to=5x,over=30s], \
    spike[:factor=5x,at=10s,for=5s], burst[:size=100,every=10s] or retry-storm";

impl FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (name, params) = text.split_once(':').unwrap_or((text, ""));
        let mut profile = match name.trim() {
            "steady" => Profile::Steady,
            "ramp" => Profile::DEFAULT_RAMP,
            "spike" => Profile::DEFAULT_SPIKE,
            "burst" => Profile::DEFAULT_BURST,
            "retry-storm" | "retry_storm" | "retrystorm" => Profile::RetryStorm,
            other => return Err(format!("`{other}` is not a profile: {PROFILE_EXPECTED}")),
        };
        for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = param
                .split_once('=')
                .ok_or_else(|| format!("`{param}` in `{text}`: {PROFILE_EXPECTED}"))?;
            profile.set_param(key.trim(), value.trim())?;
        }
        profile.validate()?;
        Ok(profile)
    }
}

impl Profile {
    fn set_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        let factor = || parse_factor(key, value);
        let duration = || {
            value
                .parse::<HumanDuration>()
                .map(|d| d.0)
                .map_err(|err| format!("{key}: {err}"))
        };
        let unknown = |name: &str, keys: &str| {
            Err(format!(
                "`{key}` is not a parameter of {name}: expected {keys}"
            ))
        };
        match self {
            Profile::Ramp { to, over } => match key {
                "to" => *to = factor()?,
                "over" => *over = duration()?,
                _ => return unknown("ramp", "to, over"),
            },
            Profile::Spike {
                factor: f,
                at,
                lasting,
            } => match key {
                "factor" => *f = factor()?,
                "at" => *at = duration()?,
                "for" => *lasting = duration()?,
                _ => return unknown("spike", "factor, at, for"),
            },
            Profile::Burst { size, every } => match key {
                "size" => {
                    *size = value
                        .parse()
                        .map_err(|_| format!("size={value}: expected a whole number of requests"))?
                }
                "every" => *every = duration()?,
                _ => return unknown("burst", "size, every"),
            },
            Profile::Steady | Profile::RetryStorm => {
                return Err(format!(
                    "{} takes no parameters (retries are set with --retries and --retry-backoff)",
                    self.name()
                ));
            }
        }
        Ok(())
    }
}

/// `5`, `5x` or `×5`: a multiple of the base rate.
fn parse_factor(key: &str, value: &str) -> Result<f64, String> {
    let number = value
        .trim()
        .trim_end_matches(['x', 'X', '×'])
        .trim_start_matches('×');
    number
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("{key}={value}: expected a multiple of the base rate such as 5x"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn steady_keeps_the_base_rate() {
        for t in [0.0, 1.0, 100.0] {
            assert_eq!(Profile::Steady.rate_at(50.0, secs(t)), 50.0);
        }
        assert_eq!(Profile::Steady.rate_at(-3.0, secs(1.0)), 0.0);
    }

    #[test]
    fn ramp_is_linear_then_holds() {
        let ramp = Profile::Ramp {
            to: 10.0,
            over: secs(10.0),
        };
        assert_eq!(ramp.rate_at(10.0, secs(0.0)), 10.0);
        assert!((ramp.rate_at(10.0, secs(5.0)) - 55.0).abs() < 1e-9);
        assert_eq!(ramp.rate_at(10.0, secs(10.0)), 100.0);
        assert_eq!(ramp.rate_at(10.0, secs(60.0)), 100.0);
        // A ramp down works the same way.
        let down = Profile::Ramp {
            to: 0.5,
            over: secs(2.0),
        };
        assert!((down.rate_at(100.0, secs(1.0)) - 75.0).abs() < 1e-9);
    }

    #[test]
    fn spike_multiplies_only_inside_its_window() {
        let spike = Profile::Spike {
            factor: 4.0,
            at: secs(10.0),
            lasting: secs(3.0),
        };
        assert_eq!(spike.rate_at(20.0, secs(9.99)), 20.0);
        assert_eq!(spike.rate_at(20.0, secs(10.0)), 80.0);
        assert_eq!(spike.rate_at(20.0, secs(12.9)), 80.0);
        assert_eq!(spike.rate_at(20.0, secs(13.0)), 20.0);
    }

    #[test]
    fn bursts_come_at_the_start_and_every_period() {
        let burst = Profile::Burst {
            size: 50,
            every: secs(10.0),
        };
        assert_eq!(burst.rate_at(5.0, secs(3.0)), 5.0);
        assert_eq!(burst.burst_at(0), Some((secs(0.0), 50)));
        assert_eq!(burst.burst_at(3), Some((secs(30.0), 50)));
        assert_eq!(Profile::Steady.burst_at(0), None);
    }

    #[test]
    fn profiles_parse_and_print_the_same_syntax() {
        for profile in Profile::defaults() {
            let text = profile.to_string();
            assert_eq!(text.parse::<Profile>(), Ok(profile), "{text}");
        }
        assert_eq!(
            "ramp:to=10x,over=1m".parse::<Profile>(),
            Ok(Profile::Ramp {
                to: 10.0,
                over: secs(60.0)
            })
        );
        assert_eq!(
            "spike:factor=3,for=2s".parse::<Profile>(),
            Ok(Profile::Spike {
                factor: 3.0,
                at: secs(10.0),
                lasting: secs(2.0)
            })
        );
        assert_eq!(
            "burst:size=200".parse::<Profile>(),
            Ok(Profile::Burst {
                size: 200,
                every: secs(10.0)
            })
        );
        assert_eq!("retry-storm".parse::<Profile>(), Ok(Profile::RetryStorm));
    }

    #[test]
    fn bad_profiles_say_what_is_expected() {
        for (text, expected) in [
            ("flat", "expected steady, ramp"),
            ("ramp:to", "expected steady, ramp"),
            ("ramp:up=3", "expected to, over"),
            ("ramp:to=fast", "such as 5x"),
            ("ramp:to=0", "above 0"),
            ("ramp:over=0s", "above 0"),
            ("spike:factor=5000", "at most 1000"),
            ("spike:for=soon", "not a duration"),
            ("burst:size=0", "expected 1 to 512"),
            ("burst:size=10000", "expected 1 to 512"),
            ("burst:every=1ms", "at least 100ms"),
            ("steady:rate=3", "takes no parameters"),
        ] {
            let err = text.parse::<Profile>().expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn cycling_visits_every_profile_and_comes_back() {
        let mut profile = Profile::Steady;
        let mut seen = Vec::new();
        for _ in 0..Profile::NAMES.len() {
            seen.push(profile.name());
            profile = profile.next_default();
        }
        assert_eq!(seen, Profile::NAMES);
        assert_eq!(profile, Profile::Steady);
    }
}
