//! Guided drills: cases as data, the phase machine, and session records.
//!
//! `drill` polls nothing: the dashboard feeds the [`machine::PhaseMachine`] with samples, alerts,
//! read-backs and the participant's actions, each with its timestamp, and carries out the
//! [`machine::Directive`]s it returns.

pub mod case;
mod case_file;
pub mod command;
pub mod dependency;
pub mod figures;
pub mod impact;
pub mod library;
pub mod machine;
pub mod marks;
pub mod record;
mod record_json;
mod recovery;
pub mod runbook;
pub mod series;
pub mod signal_words;
pub mod state;
pub mod target_check;
mod target_learn;
mod toml_place;
pub mod validate;
mod validate_blind;
mod validate_dependency;

#[cfg(test)]
mod machine_tests;
#[cfg(test)]
mod validate_tests;

pub use case::{Case, Step, TargetCapabilities, Text};
pub use figures::Figures;
pub use library::CaseLibrary;
pub use machine::{ActionKind, Directive, DrillOptions, Phase, PhaseMachine};
pub use record::SessionRecord;
pub use validate::{CaseProblem, CaseReport, check_case, check_profile_name};

/// A `Signal` stored by its name (`latency_p95`), as cases and records write it.
pub(crate) mod signal_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::signals::Signal;

    pub fn serialize<S: Serializer>(signal: &Signal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(signal.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Signal, D::Error> {
        let name = String::deserialize(deserializer)?;
        Signal::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("`{name}` is not a signal")))
    }

    /// For `Option<Signal>` fields.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            signal: &Option<Signal>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match signal {
                Some(signal) => serializer.serialize_some(signal.name()),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Signal>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                Some(name) => Signal::from_name(&name)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom(format!("`{name}` is not a signal"))),
                None => Ok(None),
            }
        }
    }
}
