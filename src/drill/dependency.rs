//! What a case does to FinCore's dependency: the payment provider's failures it injects, the
//! resilience patterns the drill starts from, and what recovery asks of them. Bodies are
//! checked by the provider's and the patterns' own vocabularies, so a case can hold nothing
//! the services would refuse.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::pattern_settings::{PATTERN_NAMES, PatternConfig, parse_update};
use crate::provider::knobs as provider_knobs;

/// The provider's knobs a case sets, as `POST /api/failures` on the provider takes them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderBody(pub Map<String, Value>);

impl ProviderBody {
    /// A case file's `[injection.provider]`, checked knob by knob.
    pub fn from_table(table: &toml::Table) -> Result<ProviderBody, String> {
        if table.is_empty() {
            let names: Vec<&str> = provider_knobs::ALL.iter().map(|spec| spec.name).collect();
            return Err(format!("no knob set; expected {}", names.join(", ")));
        }
        let body = serde_json::to_vec(table).map_err(|err| err.to_string())?;
        let changes = provider_knobs::parse_update(&body)?;
        let knobs = changes
            .into_iter()
            .map(|(knob, value)| (knob.name().to_string(), provider_value(knob, value)))
            .collect();
        Ok(ProviderBody(knobs))
    }

    pub fn knob_values(&self) -> Vec<(String, Value)> {
        self.0
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// A flag reads back as `true`, a number as the number it was given.
fn provider_value(knob: provider_knobs::ProviderKnob, value: f64) -> Value {
    match knob.spec().kind {
        provider_knobs::ProviderKnobKind::Flag => Value::Bool(value != 0.0),
        provider_knobs::ProviderKnobKind::Integer(_) => Value::from(value.round() as u64),
        provider_knobs::ProviderKnobKind::Fraction => Value::from(value),
    }
}

/// The whole patterns configuration a drill starts from: every pattern off, with the case's
/// `[baseline.patterns]` on top. Sent whole, so what an earlier drill switched on does not
/// hide this one's failure.
pub fn starting_patterns(table: Option<&toml::Table>) -> Result<Value, String> {
    let defaults = PatternConfig::default();
    let Some(table) = table else {
        return Ok(defaults.to_json());
    };
    let body = serde_json::to_vec(table).map_err(|err| err.to_string())?;
    Ok(parse_update(&body, &defaults)?.config.to_json())
}

/// A pattern's name as `/api/patterns` and `fintech_pattern_enabled` spell it.
pub fn check_pattern_name(name: &str) -> Result<(), String> {
    if PATTERN_NAMES.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown pattern; expected one of {}",
            PATTERN_NAMES.join(", ")
        ))
    }
}

/// The patterns switched on in a `GET /api/patterns` answer.
pub fn patterns_on(read_back: &Value) -> Vec<String> {
    PATTERN_NAMES
        .iter()
        .filter(|name| read_back[**name]["enabled"].as_bool() == Some(true))
        .map(|name| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().expect("a TOML table")
    }

    #[test]
    fn a_provider_table_is_checked_by_the_providers_own_vocabulary() {
        let body =
            ProviderBody::from_table(&table("latency_ms = 10000\ntimeout = false")).expect("valid");
        assert_eq!(
            body.to_json(),
            json!({"latency_ms": 10000, "timeout": false})
        );
        let fraction =
            ProviderBody::from_table(&table("webhook_duplicate_rate = 1.0")).expect("valid");
        assert_eq!(fraction.to_json(), json!({"webhook_duplicate_rate": 1.0}));
        let err = ProviderBody::from_table(&table("error_rate = 50")).expect_err("0 to 1");
        assert!(err.contains("error_rate"), "{err}");
        let err = ProviderBody::from_table(&table("latency = 5")).expect_err("unknown");
        assert!(err.contains("latency"), "{err}");
        assert!(ProviderBody::from_table(&table("")).is_err());
    }

    #[test]
    fn a_drill_starts_from_every_pattern_off_with_the_cases_on_top() {
        let all_off = starting_patterns(None).expect("defaults");
        assert!(patterns_on(&all_off).is_empty());
        let retry = table("retry = { enabled = true, max_attempts = 5, base_ms = 1 }");
        let started = starting_patterns(Some(&retry)).expect("valid");
        assert_eq!(patterns_on(&started), ["retry"]);
        assert_eq!(started["retry"]["max_attempts"], 5);
        let err = starting_patterns(Some(&table("retry = { tries = 5 }"))).expect_err("field");
        assert!(err.contains("retry.tries"), "{err}");
    }

    #[test]
    fn pattern_names_are_those_of_the_patterns() {
        assert!(check_pattern_name("circuit_breaker").is_ok());
        assert!(check_pattern_name("breaker").is_err());
    }
}
