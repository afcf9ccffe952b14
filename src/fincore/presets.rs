//! What decides which knobs of a request a target can take. The one-key presets are declared
//! with the knobs in `crate::knobs` and re-exported here.

use serde_json::{Map, Value};

use crate::knobs::{self, OnWorkshop};
pub use crate::knobs::{KnobValue, Preset};

/// What a target can take, learnt from `GET /` and `GET /api/failures`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capabilities {
    /// The gameday sandbox (one failure state, validated, with TTLs).
    pub sandbox: bool,
    /// Knobs that have an effect on this target.
    pub knobs: Vec<String>,
    /// Knobs the target stores but never acts on, with why (the workshop's `db_fail`).
    pub inert: Vec<(String, &'static str)>,
    pub ttl: bool,
    /// The payment provider the target depends on, where its discovery names one.
    pub provider: Option<super::dependency::ProviderInfo>,
    /// Whether the target's resilience patterns can be switched (`/api/patterns`).
    pub patterns: bool,
}

impl Capabilities {
    /// The workshop service: the knobs its `current_config` shows, less those it stores but
    /// never reads there (`db_fail`), since sending them would only pretend.
    pub fn from_workshop(knobs_seen: &[String]) -> Capabilities {
        let mut capabilities = Capabilities::default();
        for knob in knobs_seen {
            match knobs::by_name(knob).map(|spec| spec.workshop) {
                Some(OnWorkshop::Ignored(why)) => capabilities.inert.push((knob.clone(), why)),
                // Shown only because someone posted it: the workshop stores any key.
                Some(OnWorkshop::Absent) => capabilities
                    .inert
                    .push((knob.clone(), "the workshop service has no such failure")),
                // Knobs we don't know may act; the service is the judge.
                Some(OnWorkshop::Acts) | None => capabilities.knobs.push(knob.clone()),
            }
        }
        capabilities
    }

    /// The gameday sandbox, which validates every knob it lists and takes a time to live.
    pub fn of_sandbox(knobs: Vec<String>, ttl: bool) -> Capabilities {
        Capabilities {
            sandbox: true,
            knobs,
            inert: Vec::new(),
            ttl,
            provider: None,
            patterns: false,
        }
    }

    /// A sandbox with every knob of the contract, for tests.
    #[cfg(test)]
    pub(crate) fn sandbox_with_every_knob() -> Capabilities {
        let knobs = knobs::names().map(str::to_string).collect();
        Capabilities::of_sandbox(knobs, true)
    }

    pub fn has(&self, knob: &str) -> bool {
        self.knobs.iter().any(|k| k == knob)
    }

    /// Why a knob cannot be sent, or None if it can.
    pub fn refusal(&self, knob: &str) -> Option<String> {
        if self.has(knob) {
            return None;
        }
        Some(
            self.inert
                .iter()
                .find(|(name, _)| name == knob)
                .map_or_else(
                    || format!("{knob}: this target has no such failure"),
                    |(_, why)| format!("{knob}: {why}"),
                ),
        )
    }
}

/// A request split into what will be sent and what cannot be, with the time to live added
/// where the target takes one.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedInjection {
    pub body: Map<String, Value>,
    pub skipped: Vec<String>,
}

pub fn prepare(
    knobs: &[(String, Value)],
    capabilities: &Capabilities,
    ttl_s: Option<u64>,
) -> PreparedInjection {
    let mut body = Map::new();
    let mut skipped = Vec::new();
    for (name, value) in knobs {
        match capabilities.refusal(name) {
            None => {
                body.insert(name.clone(), value.clone());
            }
            Some(why) => skipped.push(why),
        }
    }
    if let (false, true, Some(ttl)) = (body.is_empty(), capabilities.ttl, ttl_s) {
        body.insert(knobs::TTL_NAME.to_string(), Value::from(ttl));
    }
    PreparedInjection { body, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Capabilities {
        Capabilities::sandbox_with_every_knob()
    }

    #[test]
    fn keys_map_to_the_workshop_values() {
        assert_eq!(Preset::from_key('l'), Some(Preset::Latency));
        assert_eq!(Preset::from_key('q'), None);
        let chaos = Value::Object(prepare(&Preset::Chaos.body(), &sandbox(), None).body);
        assert_eq!(
            chaos,
            serde_json::json!({"latency_ms": 800, "error_rate": 10, "db_slow": true})
        );
        for preset in Preset::ALL {
            assert_eq!(Preset::from_key(preset.key()), Some(preset));
        }
    }

    #[test]
    fn the_time_to_live_goes_only_where_the_target_takes_it() {
        let with_ttl = prepare(&Preset::Latency.body(), &sandbox(), Some(600));
        assert_eq!(with_ttl.body["ttl_s"], 600);
        let workshop = Capabilities::from_workshop(&[
            "latency_ms".to_string(),
            "error_rate".to_string(),
            "db_slow".to_string(),
            "db_fail".to_string(),
        ]);
        let without = prepare(&Preset::Latency.body(), &workshop, Some(600));
        assert!(!without.body.contains_key("ttl_s"));
    }

    #[test]
    fn knobs_the_target_lacks_are_skipped_with_a_reason() {
        let workshop = Capabilities::from_workshop(&[
            "latency_ms".to_string(),
            "error_rate".to_string(),
            "db_fail".to_string(),
        ]);
        let chaos = prepare(&Preset::Chaos.body(), &workshop, None);
        assert_eq!(chaos.body.len(), 2);
        assert_eq!(chaos.skipped, ["db_slow: this target has no such failure"]);
        let db_fail = prepare(&Preset::DbFailure.body(), &workshop, Some(60));
        assert!(db_fail.body.is_empty(), "nothing to send, not even a TTL");
        assert_eq!(
            db_fail.skipped,
            ["db_fail: the workshop service stores db_fail but never reads it"]
        );
    }
}
